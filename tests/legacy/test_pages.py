"""The legacy Model Registry's pages as they read, and the banner on the Registry landing page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import TeamRole
from apps.legacy import services
from apps.legacy.migration import migrate_team, migration_of
from apps.legacy.models import (
    LegacyEvent,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    MigrationStatus,
)
from tests.factories import make_member, make_project, make_team, make_version

HOME = "/orgs/acme/legacy/"
TEAM = f"{HOME}teams/ml/"
MODEL = f"{TEAM}classifier/"
LANDING = "/orgs/acme/registry/"
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def register(team, actor, name: str, versions: int, project, **kwargs):
    """A registered model with `versions` versions linked, a minute apart."""
    model = services.register_model(actor=actor, team=team, name=name, at=at(0), **kwargs)
    for n in range(versions):
        services.link_version(
            actor=actor, registered_model=model, version=make_version(project, actor), at=at(n + 1)
        )
    return model


@pytest.fixture
def team_admin(organization, team):
    """Tara: organization member and admin of team `ml`, so she may migrate its legacy registry."""
    user = make_member(organization, "tara")
    team.add_member(user, TeamRole.ADMIN)
    return user


@pytest.fixture
def classifier(team, project, member, team_admin):
    """Team ml's `classifier`: v0, v1 (staging, then protected production), v2 (latest, tagged
    rc); `production` is protected and Tara administers the team's legacy registry."""
    LegacyProtectedAlias.objects.create(team=team, name="production")
    LegacyRegistryAdmin.objects.create(team=team, user=team_admin)
    model = register(
        team,
        member,
        "classifier",
        3,
        project,
        description="# Card\n\nTrained on **mnist**.<script>alert(1)</script>",
        tags=["vision", "baseline"],
    )
    v1, v2 = model.versions.get(number=1), model.versions.get(number=2)
    services.set_alias(actor=member, model_version=v1, name="staging", at=at(10))
    services.set_alias(actor=team_admin, model_version=v1, name="production", at=at(11))
    services.tag_version(actor=member, model_version=v2, tags=["rc"], at=at(12))
    return model


@pytest.fixture
def other_team_model(organization, org_admin):
    """Team nlp's `bert`, in a team `maria` is not in."""
    nlp = make_team(organization, "nlp")
    return register(nlp, org_admin, "bert", 1, make_project(nlp, "text"))


def migrate(team, actor):
    result = migrate_team(team, actor=actor)
    assert result.ok, result.failed
    return result


# Who sees what


def test_anonymous_visitors_are_sent_to_login(client, classifier):
    for url in (HOME, TEAM, MODEL, f"{MODEL}v0/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url


@pytest.mark.parametrize("persona", ["outsider", "viewer"])
def test_people_outside_the_team_get_404(client, classifier, persona, request):
    """An outsider is not in acme; an organization viewer is in acme but not in team ml."""
    client.force_login(request.getfixturevalue(persona))
    for url in (TEAM, MODEL, f"{MODEL}v0/", f"{TEAM}nope/", f"{HOME}teams/nope/"):
        assert client.get(url).status_code == 404, url


def test_outsiders_do_not_see_the_home_page(client, classifier, outsider):
    client.force_login(outsider)
    assert client.get(HOME).status_code == 404


def test_the_home_page_lists_only_the_teams_the_user_may_see(
    client, classifier, other_team_model, member, org_admin, viewer
):
    client.force_login(member)
    assert [m.name for m in client.get(HOME).context["models"]] == ["classifier"]
    client.force_login(org_admin)
    response = client.get(HOME)
    assert [m.name for m in response.context["models"]] == ["classifier", "bert"]
    assert [t.slug for t in response.context["teams"]] == ["ml", "nlp"]
    client.force_login(viewer)
    page = client.get(HOME)
    assert page.status_code == 200 and list(page.context["models"]) == []
    assert "None of your teams has a legacy Model Registry." in page.content.decode()


def test_the_home_page_shows_each_models_tags_versions_latest_time_and_status(
    client, classifier, member
):
    client.force_login(member)
    response = client.get(HOME)
    (row,) = response.context["models"]
    assert (row.version_count, row.latest_linked_at, row.status.key) == (3, at(3), "legacy")
    page = response.content.decode()
    assert f'href="{MODEL}"' in page and f'href="{TEAM}"' in page
    assert '<li class="chip">baseline</li><li class="chip">vision</li>' in page
    assert "2024-03-01 09:03" in page and "Not migrated" in page


@pytest.mark.parametrize(("persona", "shown"), [("org_admin", True), ("team_admin", True)])
def test_those_who_may_migrate_find_the_migration_view(client, classifier, persona, shown, request):
    client.force_login(request.getfixturevalue(persona))
    assert ('href="/orgs/acme/legacy/migration/"' in client.get(HOME).content.decode()) is shown
    team_page = client.get(TEAM).content.decode()
    assert ('href="/orgs/acme/legacy/migration/ml/"' in team_page) is shown


def test_team_members_do_not_see_the_migration_link(client, classifier, member):
    client.force_login(member)
    assert "/orgs/acme/legacy/migration/" not in client.get(HOME).content.decode()
    assert "/orgs/acme/legacy/migration/" not in client.get(TEAM).content.decode()


def test_the_home_page_only_reads(client, classifier, member):
    client.force_login(member)
    assert client.post(HOME).status_code == 405


# The team page


def test_the_team_page_lists_its_models_protected_aliases_and_registry_admins(
    client, classifier, other_team_model, member, project, team
):
    register(team, member, "detector", 0, project)
    client.force_login(member)
    response = client.get(TEAM)
    assert [m.name for m in response.context["models"]] == ["classifier", "detector"]
    assert response.context["protected"] == ["production"]
    page = response.content.decode()
    assert "bert" not in page
    assert "production</li>" in page and "chip-protected" in page
    assert "<li>tara</li>" in page


def test_the_team_page_pages_through_models_by_name(client, member, team, project, monkeypatch):
    from apps.legacy import views

    monkeypatch.setattr(views, "MODELS_PER_PAGE", 2)
    for name in ("c", "a", "b"):
        register(team, member, name, 0, project)
    client.force_login(member)
    first = client.get(TEAM)
    assert [m.name for m in first.context["models"]] == ["a", "b"]
    second = client.get(f"{TEAM}?{first.context['pager']['next_query']}")
    assert [m.name for m in second.context["models"]] == ["c"]
    assert second.context["pager"]["next_query"] is None


# The registered model page


def test_the_model_page_shows_its_card_sanitized(client, classifier, member):
    client.force_login(member)
    page = client.get(MODEL).content.decode()
    assert "<h1>Card</h1>" in page and "<strong>mnist</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert '<li class="chip">baseline</li>' in page and '<li class="chip">vision</li>' in page


def test_the_model_page_lists_versions_in_order_with_aliases_tags_source_and_linker(
    client, classifier, member
):
    client.force_login(member)
    response = client.get(MODEL)
    versions = response.context["versions"]
    assert [v.number for v in versions] == [0, 1, 2]
    assert versions[1].alias_chips == [("production", True), ("staging", False)]
    assert versions[2].alias_chips == [("latest", False)]
    page = response.content.decode()
    assert "protected alias </span>production" in page
    assert '<li class="chip">rc</li>' in page
    assert "<code>ml/mnist/model:v2</code>" in page
    assert "maria, <time" in page and "2024-03-01 09:02" in page
    assert f'href="{MODEL}v1/"' in page


def test_the_model_history_is_newest_first_in_pages(client, classifier, member, monkeypatch):
    from apps.legacy import views

    monkeypatch.setattr(views, "EVENTS_PER_PAGE", 3)
    client.force_login(member)
    first = client.get(MODEL)
    assert [(e.target, e.details) for e in first.context["events"]] == [
        ("v2", "tag rc"),
        ("v1", "alias production"),
        ("v1", "alias staging"),
    ]
    seen = [e.pk for e in first.context["events"]]
    query = first.context["history_pager"]["next_query"]
    while query:
        response = client.get(f"{MODEL}?{query}")
        seen += [e.pk for e in response.context["events"]]
        query = response.context["history_pager"]["next_query"]
    assert seen == list(
        classifier.events.order_by("-created_at", "-id").values_list("pk", flat=True)
    )


def test_an_alias_move_reads_from_and_to(client, classifier, member):
    v2 = classifier.versions.get(number=2)
    services.set_alias(actor=member, model_version=v2, name="staging", at=at(20))
    client.force_login(member)
    response = client.get(MODEL)
    (newest, *_) = response.context["events"]
    # Worded as the Registry's history words it (one wording, in apps.audit.models.describe).
    assert (newest.target, newest.details) == ("v2", "staging moved from v1 to v2")
    assert 'Alias moved <code>v2</code> <bdi class="muted">staging moved from v1 to v2</bdi>' in (
        response.content.decode()
    )


def test_the_versions_page_through_in_number_order(client, member, team, project, monkeypatch):
    from apps.legacy import views

    monkeypatch.setattr(views, "VERSIONS_PER_PAGE", 2)
    register(team, member, "classifier", 3, project)
    client.force_login(member)
    first = client.get(MODEL)
    assert [v.number for v in first.context["versions"]] == [0, 1]
    second = client.get(f"{MODEL}?{first.context['versions_pager']['next_query']}")
    assert [v.number for v in second.context["versions"]] == [2]


def test_an_unknown_model_or_version_is_404(client, classifier, member):
    client.force_login(member)
    assert client.get(f"{TEAM}nope/").status_code == 404
    assert client.get(f"{MODEL}v9/").status_code == 404


# The version page


def test_the_version_page_shows_one_version(client, classifier, member):
    client.force_login(member)
    response = client.get(f"{MODEL}v1/")
    assert response.status_code == 200
    assert response.context["aliases"] == ["production", "staging"]
    assert response.context["protected"] == {"production"}
    page = response.content.decode()
    assert "<code>ml/mnist/model:v1</code>" in page
    assert 'href="/orgs/acme/projects/ml/mnist/#version-' in page
    assert "classifier:v1" in page
    assert [(e.target, e.details) for e in response.context["events"]] == [
        ("v1", "alias production"), ("v1", "alias staging"),
        ("v1", "latest moved from v0 to v1"), ("v1", ""),
    ]  # fmt: skip


# After migration


def test_a_migrated_model_says_where_it_lives_now(client, classifier, member, team, org_admin):
    migrate(team, org_admin)
    client.force_login(member)
    new_home = "/orgs/acme/registry/ml-mr-migrated/classifier/"
    home = client.get(HOME)
    assert home.context["models"][0].status.key == "migrated"
    assert f'href="{new_home}"' in home.content.decode()
    team_page = client.get(TEAM).content.decode()
    assert "was migrated to registry" in team_page and "is read-only" in team_page
    assert 'href="/orgs/acme/registry/ml-mr-migrated/"' in team_page
    model_page = client.get(MODEL).content.decode()
    assert "is now collection" in model_page and f'href="{new_home}"' in model_page
    assert "<code>acme/ml-mr-migrated/classifier</code>" in model_page


def test_a_migrated_version_page_redirects_to_the_same_number_in_the_registry(
    client, classifier, member, team, org_admin
):
    migrate(team, org_admin)
    client.force_login(member)
    response = client.get(f"{MODEL}v1/")
    assert response.status_code == 302
    assert response["Location"] == "/orgs/acme/registry/ml-mr-migrated/classifier/v1/"
    new_page = client.get(response["Location"])
    assert new_page.status_code == 200 and "production" in new_page.context["aliases"]


def test_a_migrated_model_whose_collection_was_deleted_still_shows(
    client, classifier, member, team, org_admin
):
    migrate(team, org_admin)
    LegacyRegisteredModel.objects.get(pk=classifier.pk).migrated_to.delete()
    client.force_login(member)
    page = client.get(MODEL).content.decode()
    assert "collection it became has since been deleted" in page
    assert client.get(f"{MODEL}v1/").status_code == 200


def test_a_running_migration_is_said_to_make_the_registry_read_only(
    client, classifier, member, team
):
    migration = migration_of(team)
    migration.status, migration.models_total = MigrationStatus.RUNNING, 1
    migration.heartbeat_at = timezone.now()  # alive
    migration.save()
    client.force_login(member)
    assert "is being migrated" in client.get(TEAM).content.decode()
    assert "read-only meanwhile" in client.get(MODEL).content.decode()
    assert client.get(HOME).context["models"][0].status.key == "migrating"


# Query counts


def test_the_home_page_query_count_does_not_grow_with_models(
    client, classifier, member, team, project, django_assert_num_queries
):
    """Intended to prevent an n+1 over registered models, their tags, versions and teams. Two
    of the queries: the pager's COUNT, and the header's Migration check."""
    client.force_login(member)
    client.get(HOME)
    with django_assert_num_queries(10):
        client.get(HOME)
    for n in range(5):
        register(team, member, f"extra-{n}", 2, project, tags=["x", f"t{n}"])
    with django_assert_num_queries(10):
        assert len(client.get(HOME).context["models"]) == 6


def test_the_team_page_query_count_does_not_grow_with_models(
    client, classifier, member, team, project, django_assert_num_queries
):
    """Intended to prevent an n+1 over registered models, their tags and versions. Two of the
    queries: the pager's COUNT, and the header's Migration check."""
    client.force_login(member)
    client.get(TEAM)
    with django_assert_num_queries(11):
        client.get(TEAM)
    for n in range(5):
        register(team, member, f"extra-{n}", 2, project, tags=["x"])
    with django_assert_num_queries(11):
        client.get(TEAM)


def test_the_model_page_query_count_does_not_grow_with_versions_or_history(
    client, classifier, member, project, django_assert_num_queries
):
    """Intended to prevent an n+1 over versions, their aliases, tags, sources and the history;
    one query lists the versions the link form offers; two count the versions and the history
    for their pagers, and one is the header's Migration check."""
    client.force_login(member)
    client.get(MODEL)
    with django_assert_num_queries(16):
        client.get(MODEL)
    for _ in range(5):
        linked = services.link_version(
            actor=member, registered_model=classifier, version=make_version(project, member)
        )
        services.tag_version(actor=member, model_version=linked, tags=["more"])
    with django_assert_num_queries(16):
        assert len(client.get(MODEL).context["versions"]) == 8


def test_the_version_page_query_count_is_fixed(
    client, classifier, member, django_assert_num_queries
):
    client.force_login(member)
    client.get(f"{MODEL}v1/")
    # One of them: the header's Migration check.
    with django_assert_num_queries(13):
        client.get(f"{MODEL}v1/")


# The banner on the Registry landing page


def banner(response) -> str:
    page = response.content.decode()
    if 'id="legacy-banner"' not in page:
        return ""
    return page.split('id="legacy-banner"', 1)[1].split("</p>", 1)[0]


def test_there_is_no_banner_without_legacy_data(client, member, team):
    client.force_login(member)
    assert banner(client.get(LANDING)) == ""


def test_the_banner_counts_the_models_still_in_the_legacy_registry(
    client, classifier, other_team_model, member, team, project
):
    register(team, member, "detector", 0, project)
    client.force_login(member)
    text = banner(client.get(LANDING))
    assert "2 registered models of your teams are still in the legacy Model Registry" in text
    assert f'href="{HOME}"' in text
    assert "/legacy/migration/" not in text  # a team member may not migrate


def test_the_banner_offers_the_migration_to_those_who_may_migrate(
    client, classifier, other_team_model, org_admin, team_admin
):
    client.force_login(org_admin)
    text = banner(client.get(LANDING))
    assert "2 registered models" in text and 'href="/orgs/acme/legacy/migration/"' in text
    client.force_login(team_admin)
    text = banner(client.get(LANDING))
    assert "1 registered model of your teams is still" in text
    assert 'href="/orgs/acme/legacy/migration/"' in text


def test_the_banner_is_not_shown_to_those_outside_every_legacy_team(client, classifier, viewer):
    client.force_login(viewer)
    assert banner(client.get(LANDING)) == ""


def test_after_migration_the_banner_says_where_models_went_then_leaves(
    client, classifier, member, team, org_admin
):
    migrate(team, org_admin)
    client.force_login(member)
    text = banner(client.get(LANDING))
    assert "The legacy Model Registry is read-only now" in text
    assert 'href="/orgs/acme/registry/ml-mr-migrated/"' in text
    LegacyRegisteredModel.objects.update(migrated_at=timezone.now() - timedelta(days=31))
    assert banner(client.get(LANDING)) == ""


def test_a_partly_migrated_organization_still_counts_what_is_left(
    client, classifier, other_team_model, org_admin, team
):
    migrate(team, org_admin)
    client.force_login(org_admin)
    assert "1 registered model of your teams is still" in banner(client.get(LANDING))


def test_the_landing_query_count_with_a_banner_is_bounded(
    client, classifier, member, team, project, django_assert_num_queries
):
    """The banner costs two queries for a team member: the counts, and whether they may migrate
    the one team with models left; and one more for the header's Migration check."""
    client.force_login(member)
    client.get(LANDING)
    with django_assert_num_queries(13):
        client.get(LANDING)
    for n in range(5):
        register(team, member, f"extra-{n}", 1, project)
    with django_assert_num_queries(13):
        client.get(LANDING)


def test_legacy_history_entries_are_never_written_by_the_pages(client, classifier, member):
    before = LegacyEvent.objects.count()
    client.force_login(member)
    for url in (HOME, TEAM, MODEL, f"{MODEL}v1/"):
        client.get(url)
    assert LegacyEvent.objects.count() == before
