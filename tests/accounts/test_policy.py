"""The role table of DESIGN.md, cell by cell, and every source of a role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from apps.accounts.models import OrganizationRole, RegistryRole, TeamRole, Visibility
from apps.accounts.policy import (
    Action,
    LegacyAliasName,
    can,
    check,
    effective_role,
    registries_allowing,
    teams_allowing,
    visible_registries,
)
from apps.registries.models import Alias
from apps.registries.services import add_protected_alias, set_alias, set_baseline_role
from tests.factories import (
    grant,
    make_link,
    make_member,
    make_project,
    make_registry,
    make_team,
    make_version,
)

RV, V, M, A = (
    RegistryRole.RESTRICTED_VIEWER,
    RegistryRole.VIEWER,
    RegistryRole.MEMBER,
    RegistryRole.ADMIN,
)
ROLES = [RV, V, M, A]

# Who may do what, transcribed from the table in DESIGN.md ("Roles").
TABLE = {
    "see the registry": {RV, V, M, A},
    "download files": {V, M, A},
    "create a collection": {M, A},
    "edit a collection": {M, A},
    "delete an ordinary collection": {M, A},
    "link": {M, A},
    "unlink an ordinary version": {M, A},
    "set an ordinary alias": {M, A},
    "remove an ordinary alias": {M, A},
    "set a protected alias": {A},
    "remove a protected alias": {A},
    "unlink a protected version": {A},
    "delete a collection holding a protected alias": {A},
    "edit the registry": {A},
}


@dataclass
class World:
    """One registry with an ordinary and a protected version, and a user per registry role."""

    registry: object
    users: dict
    targets: dict


def build_world(organization, org_admin, visibility) -> World:
    team = make_team(organization, "ml", olivia=TeamRole.ADMIN)
    project = make_project(team, "p")
    # A restricted_viewer baseline lets explicit grants decide on organization registries too.
    registry = make_registry(organization, org_admin, "Shared", visibility=visibility)
    registry.baseline_role = RV
    registry.save()
    add_protected_alias(actor=org_admin, registry=registry, name="production")
    ordinary = make_link(make_version(project, org_admin), registry, org_admin, "plain")
    protected = make_link(make_version(project, org_admin), registry, org_admin, "guarded")
    set_alias(actor=org_admin, link=protected, name="production")
    users = {}
    for role in ROLES:
        user = make_member(organization, f"user-{role}")
        grant(registry, role, user=user)
        users[role] = user
    targets = {
        "see the registry": (Action.VIEW, registry),
        "download files": (Action.DOWNLOAD, ordinary),
        "create a collection": (Action.CREATE_COLLECTION, registry),
        "edit a collection": (Action.EDIT_COLLECTION, ordinary.collection),
        "delete an ordinary collection": (Action.DELETE_COLLECTION, ordinary.collection),
        "link": (Action.LINK, registry),
        "unlink an ordinary version": (Action.UNLINK, ordinary),
        "set an ordinary alias": (
            Action.SET_ALIAS,
            Alias(collection=ordinary.collection, name="staging"),
        ),
        "remove an ordinary alias": (
            Action.REMOVE_ALIAS,
            Alias(collection=ordinary.collection, name="staging"),
        ),
        "set a protected alias": (
            Action.SET_ALIAS,
            Alias(collection=ordinary.collection, name="production"),
        ),
        "remove a protected alias": (
            Action.REMOVE_ALIAS,
            Alias(collection=protected.collection, name="production"),
        ),
        "unlink a protected version": (Action.UNLINK, protected),
        "delete a collection holding a protected alias": (
            Action.DELETE_COLLECTION,
            protected.collection,
        ),
        "edit the registry": (Action.EDIT_REGISTRY, registry),
    }
    return World(registry, users, targets)


@pytest.mark.parametrize("visibility", Visibility.values)
@pytest.mark.parametrize("role", ROLES, ids=str)
@pytest.mark.parametrize("what", TABLE)
def test_the_role_table(organization, org_admin, visibility, role, what):
    world = build_world(organization, org_admin, visibility)
    user = world.users[role]
    action, target = world.targets[what]
    assert effective_role(user, world.registry) == role
    assert can(user, action, target) is (role in TABLE[what])


@pytest.fixture
def restricted(organization, org_admin):
    return make_registry(organization, org_admin, "Closed", visibility=Visibility.RESTRICTED)


@pytest.fixture
def open_registry(organization, org_admin):
    return make_registry(organization, org_admin, "Open")


def test_organization_admins_are_admins_everywhere(org_admin, restricted, models_registry):
    assert effective_role(org_admin, restricted) == A
    assert effective_role(org_admin, models_registry) == A


def test_members_get_the_baseline_role_on_organization_registries(member, open_registry):
    assert effective_role(member, open_registry) == M
    for baseline in (RV, V):
        open_registry.baseline_role = baseline
        open_registry.save()
        assert effective_role(member, open_registry) == baseline


def test_restricted_registries_have_no_baseline(member, restricted):
    assert effective_role(member, restricted) is None
    with pytest.raises(Http404):
        check(member, Action.VIEW, restricted)


def test_organization_viewers_are_capped_at_viewer_by_the_baseline(viewer, open_registry):
    assert effective_role(viewer, open_registry) == V
    open_registry.baseline_role = RV
    open_registry.save()
    assert effective_role(viewer, open_registry) == RV


def test_an_explicit_grant_lifts_an_organization_viewer(viewer, open_registry):
    grant(open_registry, M, user=viewer)
    assert effective_role(viewer, open_registry) == M


def test_the_highest_role_wins(organization, member, restricted):
    grant(restricted, V, user=member)
    team = make_team(organization, "a", maria=TeamRole.MEMBER)
    grant(restricted, A, team=team)
    assert effective_role(member, restricted) == A


def test_a_team_grant_reaches_every_team_member_and_leaves_with_them(
    organization, member, restricted
):
    team = make_team(organization, "ml", maria=TeamRole.VIEWER)
    grant(restricted, M, team=team)
    assert effective_role(member, restricted) == M
    team.memberships.filter(user=member).delete()
    assert effective_role(member, restricted) is None


def test_outsiders_anonymous_and_inactive_users_get_nothing(
    outsider, member, models_registry, organization
):
    assert effective_role(outsider, models_registry) is None
    assert effective_role(AnonymousUser(), models_registry) is None
    member.is_active = False
    member.save()
    assert effective_role(member, models_registry) is None
    assert not can(outsider, Action.VIEW_ORGANIZATION, organization)


def test_hidden_is_404_and_visible_without_the_role_is_403(viewer, member, open_registry):
    with pytest.raises(PermissionDenied, match="needs the member role on registry Open"):
        check(viewer, Action.LINK, open_registry)
    open_registry.visibility = Visibility.RESTRICTED
    open_registry.save()
    with pytest.raises(Http404):
        check(member, Action.LINK, open_registry)


def test_core_registries_are_never_deleted(org_admin, models_registry):
    assert not can(org_admin, Action.DELETE_REGISTRY, models_registry)


def test_custom_registries_are_deleted_by_org_admins_or_their_creator(
    organization, org_admin, member
):
    mine = make_registry(organization, member, "Mine")
    other_admin = make_member(organization, "ada")
    grant(mine, A, user=other_admin)
    assert can(member, Action.DELETE_REGISTRY, mine)
    assert can(org_admin, Action.DELETE_REGISTRY, mine)
    assert not can(other_admin, Action.DELETE_REGISTRY, mine)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("org_admin", True), ("member", True), ("viewer", False)],
)
def test_who_may_create_a_registry(organization, request, persona, allowed):
    assert can(request.getfixturevalue(persona), Action.CREATE_REGISTRY, organization) is allowed


def test_outsiders_cannot_learn_an_organization_exists(organization, outsider):
    with pytest.raises(Http404):
        check(outsider, Action.CREATE_REGISTRY, organization)


@pytest.mark.parametrize(
    ("team_role", "view", "write"),
    [
        (TeamRole.ADMIN, True, True),
        (TeamRole.MEMBER, True, True),
        (TeamRole.VIEWER, True, False),
        (None, False, False),
    ],
)
def test_projects_follow_team_roles(organization, member, team_role, view, write):
    team = make_team(organization, "t")
    if team_role:
        team.add_member(member, team_role)
    project = make_project(team, "p")
    assert can(member, Action.VIEW_PROJECT, project) is view
    assert can(member, Action.WRITE_PROJECT, project) is write


def test_organization_admins_reach_every_project(organization, org_admin):
    project = make_project(make_team(organization, "t"), "p")
    assert can(org_admin, Action.WRITE_PROJECT, project)


@pytest.mark.parametrize(
    ("team_role", "ordinary", "protected"),
    [
        (TeamRole.ADMIN, True, True),
        (TeamRole.MEMBER, True, False),
        (TeamRole.VIEWER, False, False),
    ],
)
def test_legacy_aliases_need_the_edit_role_and_protected_ones_a_team_admin(
    organization, member, team_role, ordinary, protected
):
    team = make_team(organization, "t")
    team.add_member(member, team_role)
    team.legacy_protected.create(name="production")
    assert can(member, Action.SET_LEGACY_ALIAS, LegacyAliasName(team, "staging")) is ordinary
    assert can(member, Action.SET_LEGACY_ALIAS, LegacyAliasName(team, "production")) is protected


def test_a_legacy_registry_admin_may_set_protected_aliases(organization, member):
    team = make_team(organization, "t", maria=TeamRole.MEMBER)
    team.legacy_protected.create(name="production")
    team.legacy_admins.create(user=member)
    check(member, Action.SET_LEGACY_ALIAS, LegacyAliasName(team, "production"))


def test_visible_registries_matches_effective_role(
    organization, org_admin, member, viewer, outsider, restricted, open_registry
):
    team = make_team(organization, "t", maria=TeamRole.MEMBER)
    granted = make_registry(organization, org_admin, "Granted", visibility=Visibility.RESTRICTED)
    grant(granted, RV, team=team)
    for user in (org_admin, member, viewer, outsider):
        expected = {
            r.name for r in organization.registries.all() if effective_role(user, r) is not None
        }
        assert set(visible_registries(user, organization).values_list("name", flat=True)) == (
            expected
        )
    assert "Granted" in {r.name for r in visible_registries(member, organization)}


@pytest.mark.parametrize(
    "action", [Action.VIEW, Action.DOWNLOAD, Action.LINK, Action.MANAGE_AUTOMATIONS], ids=str
)
def test_registries_allowing_matches_check(
    organization, org_admin, member, viewer, outsider, restricted, open_registry, action
):
    """Every source of a role, and a grant too low beside one of the user's teams: the query
    keeps exactly the registries `can` allows."""
    team = make_team(organization, "t", maria=TeamRole.MEMBER, victor=TeamRole.MEMBER)
    for baseline, name in [(RV, "Low"), (V, "Mid"), (M, "High")]:
        low = make_registry(organization, org_admin, name)
        low.baseline_role = baseline
        low.save()
    by_team = make_registry(organization, org_admin, "By team", visibility=Visibility.RESTRICTED)
    grant(by_team, M, team=team)
    mixed = make_registry(organization, org_admin, "Mixed", visibility=Visibility.RESTRICTED)
    grant(mixed, V, user=member)
    grant(mixed, A, team=make_team(organization, "others"))
    grant(restricted, M, user=viewer)
    for user in (org_admin, member, viewer, outsider):
        expected = {r.name for r in organization.registries.all() if can(user, action, r)}
        found = registries_allowing(user, organization, action).values_list("name", flat=True)
        assert set(found) == expected, user


def test_registries_allowing_refuses_actions_the_role_alone_does_not_settle(organization, member):
    with pytest.raises(ValueError):
        registries_allowing(member, organization, Action.UNLINK)


def test_an_organization_admin_role_comes_from_the_organization(organization, member):
    organization.add_member(member, OrganizationRole.ADMIN)
    closed = make_registry(organization, member, "X", visibility=Visibility.RESTRICTED)
    assert effective_role(member, closed) == A


@pytest.mark.parametrize("action", [Action.VIEW, Action.DOWNLOAD, Action.MANAGE_AUTOMATIONS])
@pytest.mark.parametrize("baseline", [RV, V, M])
def test_registries_allowing_matches_can(
    organization, org_admin, member, viewer, outsider, action, baseline
):
    """The one-query set of registries agrees with `can` for every source of a role."""
    team = make_team(organization, "t", maria=TeamRole.MEMBER)
    opened = make_registry(organization, org_admin, "Open")
    set_baseline_role(actor=org_admin, registry=opened, role=baseline)
    by_team = make_registry(organization, org_admin, "By team", visibility=Visibility.RESTRICTED)
    grant(by_team, M, team=team)
    by_user = make_registry(organization, org_admin, "By user", visibility=Visibility.RESTRICTED)
    grant(by_user, V, user=viewer)
    grant(opened, A, user=viewer)
    make_registry(organization, org_admin, "Closed", visibility=Visibility.RESTRICTED)
    for user in (org_admin, member, viewer, outsider):
        expected = {r.name for r in organization.registries.all() if can(user, action, r)}
        found = registries_allowing(user, organization, action).values_list("name", flat=True)
        assert set(found) == expected, (user, action, baseline)


def test_teams_allowing_matches_can(organization, org_admin, member, viewer, outsider):
    make_team(organization, "admins", maria=TeamRole.ADMIN)
    make_team(organization, "members", maria=TeamRole.MEMBER, victor=TeamRole.ADMIN)
    make_team(organization, "viewers", maria=TeamRole.VIEWER)
    make_team(organization, "nobody")
    for action in (Action.USE_INTEGRATIONS, Action.MANAGE_INTEGRATIONS):
        for user in (org_admin, member, viewer, outsider):
            expected = {t.name for t in organization.teams.all() if can(user, action, t)}
            found = teams_allowing(user, organization, action).values_list("name", flat=True)
            assert set(found) == expected, (user, action)
