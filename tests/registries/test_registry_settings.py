from __future__ import annotations

import pytest

from apps.accounts.models import RegistryRole, TeamRole, Visibility
from apps.accounts.policy import effective_role, registry_members
from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Registry, RegistryGrant
from tests.factories import grant, make_member, make_registry, make_team

URL = "/orgs/acme/registry/scratch/settings/"


@pytest.fixture
def custom(organization, member):
    """`Scratch`, made by `member`, who is therefore its admin."""
    return make_registry(organization, member, "Scratch", artifact_types=["model"])


def post(client, form: str, **data):
    return client.post(URL, {"form": form, **data})


def test_anonymous_outsider_and_the_uninvited(client, custom, outsider, organization, viewer):
    assert client.get(URL).status_code == 302
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    custom.visibility = Visibility.RESTRICTED
    custom.save()
    client.force_login(viewer)
    assert client.get(URL).status_code == 404


def test_readers_see_settings_but_change_nothing(client, custom, viewer):
    client.force_login(viewer)
    page = client.get(URL)
    assert page.status_code == 200 and not page.context["can_admin"]
    assert "member" in page.content.decode()
    assert post(client, "details", name="Hacked").status_code == 403
    assert client.delete(URL).status_code == 405


def test_an_admin_renames_and_the_address_follows(client, custom, member):
    client.force_login(member)
    response = post(client, "details", name="Fine-tuned Models", description="Tuned.")
    assert response["Location"] == "/orgs/acme/registry/fine-tuned-models/settings/"
    custom.refresh_from_db()
    assert (custom.name, custom.slug, custom.description) == (
        "Fine-tuned Models",
        "fine-tuned-models",
        "Tuned.",
    )


def test_a_clashing_name_is_shown_on_the_form(client, custom, member):
    client.force_login(member)
    response = post(client, "details", name="models")
    assert response.status_code == 400
    assert "already exists" in response.context["details_form"].non_field_errors()[0]


def test_core_registries_keep_their_name(client, org_admin):
    client.force_login(org_admin)
    response = client.post(
        "/orgs/acme/registry/model/settings/", {"form": "details", "name": "Renamed"}
    )
    assert response.status_code == 400
    assert Registry.objects.get(slug="model").name == "Models"


def test_visibility_is_one_way_for_registry_admins(client, custom, member, org_admin):
    client.force_login(member)
    post(client, "access", visibility="restricted", baseline_role="member")
    custom.refresh_from_db()
    assert custom.visibility == Visibility.RESTRICTED
    response = post(client, "access", visibility="organization", baseline_role="member")
    assert response.status_code == 403
    assert b"needs an organization admin" in response.content
    client.force_login(org_admin)
    post(client, "access", visibility="organization", baseline_role="viewer")
    custom.refresh_from_db()
    assert (custom.visibility, custom.baseline_role) == ("organization", "viewer")


def test_accepted_types_only_grow(client, custom, member):
    client.force_login(member)
    post(client, "types", artifact_types="onnx, model")
    assert custom.accepted_type_names() == ["model", "onnx"]
    response = post(client, "types", artifact_types="bad/type")
    assert response.status_code == 400
    post(client, "types", accept_all="on")
    custom.refresh_from_db()
    assert custom.accepts_all_types


def test_protected_aliases_are_added_and_removed(client, custom, member):
    client.force_login(member)
    post(client, "protected", alias="production")
    assert list(custom.protected_aliases.values_list("name", flat=True)) == ["production"]
    assert post(client, "protected", alias="latest").status_code == 400
    post(client, "unprotect", alias="production")
    assert not custom.protected_aliases.exists()


def test_members_are_added_by_username_or_email_changed_and_removed(client, custom, member, viewer):
    client.force_login(member)
    post(client, "member", who="VICTOR@example.com", role="member")
    added = RegistryGrant.objects.get(registry=custom, user=viewer)
    assert added.role == "member"
    post(client, "role", grant=added.pk, role="admin")
    assert effective_role(viewer, custom) == RegistryRole.ADMIN
    post(client, "remove", grant=added.pk)
    assert not RegistryGrant.objects.filter(user=viewer).exists()
    actions = list(AuditEvent.objects.filter(registry=custom).values_list("action", flat=True))
    assert actions.count(AuditAction.GRANT_SET) == 2  # added, then changed
    assert AuditAction.GRANT_REMOVE in actions


def test_an_unknown_person_is_explained(client, custom, member):
    client.force_login(member)
    response = post(client, "member", who="nobody", role="viewer")
    assert response.status_code == 400
    assert "Nobody in Acme" in response.context["member_form"].errors["who"][0]


def test_teams_get_roles(client, custom, member, organization, viewer):
    team = make_team(organization, "Vision", victor=TeamRole.VIEWER)
    client.force_login(member)
    post(client, "team", team=team.pk, role="member")
    assert effective_role(viewer, custom) == RegistryRole.MEMBER


def test_each_member_row_says_where_the_role_comes_from(
    organization, org_admin, member, viewer, custom
):
    team = make_team(organization, "Vision", victor=TeamRole.VIEWER)
    grant(custom, RegistryRole.VIEWER, team=team)
    grant(custom, RegistryRole.MEMBER, user=viewer)
    rows = {m.user.username: (m.role, m.source) for m in registry_members(custom)}
    assert rows == {
        "olivia": (RegistryRole.ADMIN, "organization admin"),
        "maria": (RegistryRole.ADMIN, "direct"),
        "victor": (RegistryRole.MEMBER, "direct"),
    }
    for m in registry_members(custom):
        assert effective_role(m.user, custom) == m.role


def test_the_members_query_count_does_not_grow(
    client, organization, custom, member, django_assert_num_queries
):
    """Intended to keep the members table a fixed number of queries. One of them: the header's
    Migration check (does the member administer a team?)."""
    team = make_team(organization, "Big")
    grant(custom, RegistryRole.VIEWER, team=team)
    client.force_login(member)
    client.get(URL)
    with django_assert_num_queries(14):
        client.get(URL)
    for n in range(10):
        user = make_member(organization, f"extra{n}")
        team.add_member(user)
        grant(custom, RegistryRole.VIEWER, user=user)
    with django_assert_num_queries(14):
        client.get(URL)


def test_deleting_needs_the_name_and_the_right_person(client, custom, member, organization):
    other = make_member(organization, "ada")
    grant(custom, RegistryRole.ADMIN, user=other)
    client.force_login(other)
    assert post(client, "delete", confirm="Scratch").status_code == 403
    client.force_login(member)
    assert post(client, "delete", confirm="wrong").status_code == 400
    response = post(client, "delete", confirm="Scratch")
    assert response["Location"] == "/orgs/acme/registry/"
    assert not Registry.objects.filter(pk=custom.pk).exists()


def test_an_unknown_form_is_not_found(client, custom, member):
    client.force_login(member)
    assert post(client, "nonsense").status_code == 404


def test_a_restricted_registry_offers_no_baseline_role(client, custom, member):
    client.force_login(member)
    post(client, "access", visibility="restricted", baseline_role="member")
    page = client.get(URL).content.decode()
    assert 'name="visibility"' in page
    assert 'name="baseline_role"' not in page and "Baseline role" not in page
    # Kept as it was, and saved without one.
    assert post(client, "access", visibility="restricted").status_code == 302


@pytest.mark.parametrize("role", ["viewer", "member", "admin"])
def test_a_baseline_role_posted_to_a_restricted_registry_is_refused(client, custom, member, role):
    client.force_login(member)
    post(client, "access", visibility="restricted", baseline_role="viewer")
    custom.refresh_from_db()
    assert (custom.visibility, custom.baseline_role) == ("restricted", "viewer")
    before = AuditEvent.objects.count()
    response = post(client, "access", visibility="restricted", baseline_role=role)
    assert response.status_code == 400
    page = response.content.decode().replace("&#x27;", "'")
    expected = "has no baseline role" if role != "admin" else "Select a valid choice"
    assert expected in page
    custom.refresh_from_db()
    assert custom.baseline_role == "viewer" and AuditEvent.objects.count() == before


def test_restricting_sets_the_baseline_first_and_opening_sets_it_after(
    client, custom, member, org_admin
):
    """The form of an open registry sends its baseline along when restricting it."""
    client.force_login(member)
    assert (
        post(client, "access", visibility="restricted", baseline_role="viewer").status_code == 302
    )
    custom.refresh_from_db()
    assert (custom.visibility, custom.baseline_role) == ("restricted", "viewer")
    client.force_login(org_admin)
    response = post(client, "access", visibility="organization", baseline_role="restricted_viewer")
    assert response.status_code == 302
    custom.refresh_from_db()
    assert (custom.visibility, custom.baseline_role) == ("organization", "restricted_viewer")
