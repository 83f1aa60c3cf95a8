"""Working in a team's legacy Model Registry from its pages, until the team's migration starts."""

from __future__ import annotations

import pytest

from apps.accounts.models import TeamRole
from apps.legacy.migration import migration_of
from apps.legacy.models import (
    LegacyAction,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    MigrationStatus,
)
from tests.factories import make_legacy_model, make_member, make_project, make_team, make_version

TEAM = "/orgs/acme/legacy/teams/ml/"
MODEL = f"{TEAM}classifier/"


@pytest.fixture
def classifier(team, project, member):
    """Team ml's `classifier`: v0, v1 (staging), v2 (latest); `production` is protected."""
    LegacyProtectedAlias.objects.create(team=team, name="production")
    return make_legacy_model(project, member, aliases=[[], ["staging"], []])


@pytest.fixture
def registry_admin(organization, team):
    """Lena: a member of team ml who administers its legacy registry."""
    user = make_member(organization, "lena")
    team.add_member(user, TeamRole.MEMBER)
    LegacyRegistryAdmin.objects.create(team=team, user=user)
    return user


def aliases(model: LegacyRegisteredModel) -> dict[str, int]:
    return {alias.name: alias.model_version.number for alias in model.aliases.all()}


def last_event(model: LegacyRegisteredModel):
    return model.events.order_by("-id").first()


def main_part(response) -> str:
    return response.content.decode().split("<main", 1)[1]


# Registering a model


def test_a_member_registers_a_model_on_the_team_page(client, team, member):
    client.force_login(member)
    response = client.post(
        TEAM,
        {
            "name": "detector",
            "artifact_type": "model",
            "description": "## Detector",
            "tags": "vision, boxes",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{TEAM}detector/"
    model = team.legacy_models.get(name="detector")
    assert model.description == "## Detector" and model.created_by == member
    assert sorted(model.tags.values_list("name", flat=True)) == ["boxes", "vision"]
    assert [event.action for event in model.events.order_by("id")] == [
        LegacyAction.CREATE,
        LegacyAction.TAG_ADD,
        LegacyAction.TAG_ADD,
    ]
    assert "Registered detector." in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", "may not contain"),
        ("classifier", "already has a registered model named"),
    ],
)
def test_a_bad_or_taken_name_is_refused_keeping_what_was_typed(
    client, classifier, member, name, message
):
    client.force_login(member)
    response = client.post(TEAM, {"name": name, "artifact_type": "model", "tags": "kept-tag"})
    assert response.status_code == 400
    page = main_part(response)
    assert message in page
    assert 'value="kept-tag"' in page
    assert LegacyRegisteredModel.objects.count() == 1


# Linking


def test_a_member_links_a_version_as_the_next_with_its_aliases(client, classifier, member, project):
    version = make_version(project, member)
    client.force_login(member)
    response = client.post(MODEL, {"form": "link", "version": version.pk, "aliases": "candidate"})
    assert response.status_code == 302 and response["Location"] == MODEL
    linked = classifier.versions.get(version=version)
    assert linked.number == 3 and linked.linked_by == member
    assert aliases(classifier) == {"latest": 3, "staging": 1, "candidate": 3}
    assert f"Linked {version} as v3." in client.get(MODEL).content.decode()


def test_the_link_form_offers_only_the_teams_unlinked_versions_of_the_models_type(
    client, classifier, member, project, organization
):
    fresh = make_version(project, member)
    dataset = make_version(project, member, name="images", artifact_type="dataset")
    other_team = make_team(organization, "nlp", maria=TeamRole.MEMBER)
    elsewhere = make_version(make_project(other_team, "text"), member)
    client.force_login(member)
    offered = {
        choice for choice, _ in client.get(MODEL).context["link_form"].fields["version"].choices
    }
    assert fresh.pk in offered
    assert not offered & {dataset.pk, elsewhere.pk}
    assert not offered & set(classifier.versions.values_list("version", flat=True))

    response = client.post(MODEL, {"form": "link", "version": elsewhere.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in main_part(response)
    assert classifier.versions.count() == 3


def test_an_unknown_change_is_a_bad_request(client, classifier, member):
    client.force_login(member)
    assert client.post(MODEL, {"form": "rename"}).status_code == 400


# Aliases


def test_aliases_are_set_moved_and_removed_on_the_version_page(client, classifier, member):
    client.force_login(member)
    assert client.post(f"{MODEL}v0/", {"alias": "staging"}).status_code == 302
    assert aliases(classifier)["staging"] == 0
    event = last_event(classifier)
    assert event.action == LegacyAction.ALIAS_MOVE and event.actor == member
    assert (event.data["from_version"], event.data["to_version"]) == ("v1", "v0")

    assert client.post(f"{MODEL}v0/", {"remove": "staging"}).status_code == 302
    assert "staging" not in aliases(classifier)
    assert last_event(classifier).action == LegacyAction.ALIAS_REMOVE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"alias": "latest"}, "reserved"),
        ({"alias": "v7"}, "reserved"),
        ({"alias": "a:b"}, "may not contain"),
        ({"remove": "nope"}, "has no alias"),
        ({"remove": "latest"}, "reserved"),
    ],
)
def test_bad_aliases_are_refused_next_to_the_box(client, classifier, member, data, message):
    client.force_login(member)
    before = aliases(classifier)
    response = client.post(f"{MODEL}v0/", data)
    assert response.status_code == 400
    assert message in main_part(response)
    assert aliases(classifier) == before


def test_a_protected_alias_needs_a_registry_admin(client, classifier, member, registry_admin):
    client.force_login(member)
    response = client.post(f"{MODEL}v2/", {"alias": "production"})
    assert response.status_code == 403
    assert "production is a protected alias" in response.content.decode()
    assert "production" not in aliases(classifier)

    client.force_login(registry_admin)
    assert client.post(f"{MODEL}v2/", {"alias": "production"}).status_code == 302
    assert aliases(classifier)["production"] == 2
    page = main_part(client.get(f"{MODEL}v2/"))
    assert 'value="production"' in page  # its remove button

    client.force_login(member)
    assert 'name="remove" value="production"' not in main_part(client.get(f"{MODEL}v2/"))
    assert client.post(f"{MODEL}v2/", {"remove": "production"}).status_code == 403
    assert aliases(classifier)["production"] == 2


# Tags and the description


def test_tags_and_the_description_are_changed_with_their_history(client, classifier, member):
    client.force_login(member)
    assert client.post(MODEL, {"form": "tags", "tags": "vision, cnn"}).status_code == 302
    assert sorted(classifier.tags.values_list("name", flat=True)) == ["cnn", "vision"]
    assert client.post(f"{MODEL}v1/", {"tags": "reviewed"}).status_code == 302
    assert list(classifier.versions.get(number=1).tags.values_list("name", flat=True)) == [
        "reviewed"
    ]
    assert last_event(classifier).data == {"version": 1, "tag": "reviewed"}
    response = client.post(MODEL, {"form": "describe", "description": "Now with **notes**."})
    assert response.status_code == 302
    classifier.refresh_from_db()
    assert classifier.description == "Now with **notes**."
    assert last_event(classifier).action == LegacyAction.DESCRIPTION


def test_a_bad_tag_is_refused(client, classifier, member):
    client.force_login(member)
    response = client.post(MODEL, {"form": "tags", "tags": "no/slash"})
    assert response.status_code == 400
    assert classifier.tags.count() == 0


# Who may


def test_team_viewers_read_but_change_nothing(
    client, classifier, organization, team, project, member
):
    vera = make_member(organization, "vera")
    team.add_member(vera, TeamRole.VIEWER)
    client.force_login(vera)
    for url in (TEAM, MODEL, f"{MODEL}v1/"):
        assert 'method="post"' not in main_part(client.get(url)), url
    attempts = [
        (TEAM, {"name": "x", "artifact_type": "model"}),
        (MODEL, {"form": "tags", "tags": "x"}),
        (MODEL, {"form": "link", "version": make_version(project, member).pk}),
        (f"{MODEL}v1/", {"alias": "candidate"}),
        (f"{MODEL}v1/", {"tags": "x"}),
    ]
    for url, data in attempts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert "needs the member or admin role in the team; you are a viewer" in (
            response.content.decode()
        )
    assert LegacyRegisteredModel.objects.count() == 1 and classifier.tags.count() == 0


def test_organization_members_outside_the_team_get_404(client, classifier, organization):
    client.force_login(make_member(organization, "nick"))
    assert client.post(f"{MODEL}v1/", {"alias": "candidate"}).status_code == 404


def test_organization_admins_may_change_any_teams_registry(client, classifier, org_admin):
    client.force_login(org_admin)
    assert client.post(f"{MODEL}v1/", {"alias": "production"}).status_code == 302
    assert aliases(classifier)["production"] == 1


# Once the migration starts


@pytest.mark.parametrize("status", [MigrationStatus.QUEUED, MigrationStatus.FAILED])
def test_once_a_migration_starts_the_forms_go_and_changes_are_refused(
    client, classifier, member, team, status
):
    migration = migration_of(team)
    migration.status = status
    migration.save()
    client.force_login(member)
    for url in (TEAM, MODEL, f"{MODEL}v1/"):
        assert 'method="post"' not in main_part(client.get(url)), url
    response = client.post(f"{MODEL}v1/", {"alias": "candidate"})
    assert response.status_code == 400
    assert "is read-only" in main_part(response)
    response = client.post(TEAM, {"name": "late", "artifact_type": "model"})
    assert response.status_code == 400 and "is read-only" in main_part(response)
    assert "candidate" not in aliases(classifier)
    assert not team.legacy_models.filter(name="late").exists()
