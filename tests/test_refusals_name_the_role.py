"""Every form post refused for lack of role answers 403 with a message naming the role needed."""

from __future__ import annotations

import pytest

from apps.accounts.models import OrganizationRole, TeamRole
from apps.registries.services import set_baseline_role
from tests.factories import grant, make_link, make_member, make_registry, make_team, make_version
from tests.test_every_view import ACTIONS, ROLES

SETTINGS_FORMS = [
    {"form": "details", "name": "Renamed", "description": ""},
    {"form": "access", "visibility": "restricted", "baseline_role": "member"},
    {"form": "types", "artifact_types": "text"},
    {"form": "protected", "alias": "prod"},
    {"form": "member", "who": "victor", "role": "viewer"},
    {"form": "unprotect", "alias": "prod"},
    {"form": "delete", "confirm": "Shared"},
]


def assert_refused_naming(response, role: str) -> None:
    assert response.status_code == 403
    assert f"the {role} role" in response.content.decode().replace("&#x27;", "'")


@pytest.fixture
def shared(organization, org_admin):
    return make_registry(organization, org_admin, "Shared")


@pytest.mark.parametrize("data", SETTINGS_FORMS, ids=lambda data: data["form"])
def test_registry_members_changing_settings_are_told_the_admin_role(
    client, member, viewer, shared, data
):
    client.force_login(member)
    assert_refused_naming(client.post("/orgs/acme/registry/shared/settings/", data), "admin")


def test_a_registry_admin_widening_visibility_is_told_the_organization_admin_role(
    client, organization, member
):
    make_registry(organization, member, "Mine", visibility="restricted")
    client.force_login(member)
    response = client.post(
        "/orgs/acme/registry/mine/settings/",
        {"form": "access", "visibility": "organization", "baseline_role": "member"},
    )
    assert_refused_naming(response, "admin")
    assert b"organization admin" in response.content


def test_an_organization_viewer_creating_a_registry_is_told_the_member_role(client, viewer):
    client.force_login(viewer)
    response = client.post("/orgs/acme/registry/", {"name": "New", "visibility": "organization"})
    assert_refused_naming(response, "member or admin")


@pytest.mark.parametrize(
    ("what", "method", "path", "data", "least"),
    [action for action in ACTIONS if action[1] == "post"],
    ids=lambda v: v,
)
def test_each_registry_action_refused_names_its_role(
    client, organization, project, member, org_admin, what, method, path, data, least
):
    registry = make_registry(organization, org_admin, "Shared")
    set_baseline_role(actor=org_admin, registry=registry, role="restricted_viewer")
    make_link(make_version(project, member), registry, org_admin, "c")
    user = make_member(organization, "lower")
    below = ROLES[ROLES.index(least) - 1]
    grant(registry, below, user=user)
    client.force_login(user)
    assert_refused_naming(client.post(path, data), least.replace("_", " "))


def test_a_team_viewer_changing_its_legacy_registry_is_told_the_role(client, organization):
    viewer = make_member(organization, "tv", OrganizationRole.MEMBER)
    make_team(organization, "ml", tv=TeamRole.VIEWER)
    client.force_login(viewer)
    response = client.post("/orgs/acme/legacy/teams/ml/", {"name": "m", "artifact_type": "model"})
    assert_refused_naming(response, "member or admin")
