"""Who may do what: the one module that answers "may this user do this?".

`effective_role(user, registry)` is the highest of the roles a user gets on a registry;
`can(user, action, target)` applies the role table of DESIGN.md; `check` raises the error a view
or the API shows: Http404 when the user may not even see the target (so its existence does not
leak), PermissionDenied naming the role needed when they may see it but lack the role.

Accounts sits below the apps whose things the policy rules on, so it imports none of their
models (type hints read Any) and asks the targets instead. Organizations, teams and
`LegacyAliasName` are told apart by type. A project action (VIEW_PROJECT, WRITE_PROJECT) is on a
project or on anything with a `.project` (an artifact, a version); every other action is on a
registry or on anything with a `.registry` (a collection, a link, an alias). Whether an action
touches a protected alias is a fact about the target, asked with the method PROTECTED_FACTS
names for the action; a target without that method touches none. The rule stays here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from apps.accounts.models import (
    BASELINE_ROLES,
    ROLE_RANK,
    Organization,
    OrganizationMembership,
    OrganizationRole,
    RegistryRole,
    Team,
    TeamMembership,
    TeamRole,
    Visibility,
)


class Action(StrEnum):
    # On a registry, or anything in it.
    VIEW = "view"
    DOWNLOAD = "download"
    CREATE_COLLECTION = "create_collection"
    EDIT_COLLECTION = "edit_collection"  # description and tags; version description and tags
    DELETE_COLLECTION = "delete_collection"
    LINK = "link"
    UNLINK = "unlink"
    SET_ALIAS = "set_alias"  # put an alias on, or move it to, a version
    REMOVE_ALIAS = "remove_alias"
    EDIT_REGISTRY = "edit_registry"  # settings, protected aliases, members
    DELETE_REGISTRY = "delete_registry"
    WIDEN_VISIBILITY = "widen_visibility"  # restricted back to organization
    # On an organization.
    CREATE_REGISTRY = "create_registry"
    VIEW_ORGANIZATION = "view_organization"
    VIEW_AUDIT_LOG = "view_audit_log"
    # On a project and the artifacts, versions and runs in it.
    VIEW_PROJECT = "view_project"
    WRITE_PROJECT = "write_project"  # log versions, start runs
    # On a team's legacy Model Registry.
    VIEW_LEGACY = "view_legacy"
    EDIT_LEGACY = "edit_legacy"  # register models, link versions, ordinary aliases, tags, cards
    SET_LEGACY_PROTECTED = "set_legacy_protected"  # put protected aliases on or off versions
    SET_LEGACY_ALIAS = "set_legacy_alias"  # put one alias on or off (a LegacyAliasName)
    MIGRATE_LEGACY = "migrate_legacy"  # see the migration plan and start it
    # Automations: a team's webhooks and secrets, and the automations that send to them.
    MANAGE_INTEGRATIONS = "manage_integrations"  # a team's webhooks and secrets
    USE_INTEGRATIONS = "use_integrations"  # send to a team's webhooks (automations, tests)
    MANAGE_AUTOMATIONS = "manage_automations"  # on a registry or collection, or organization-wide


# `check` tells a project's actions apart by the action: their targets are another app's.
PROJECT_ACTIONS = {Action.VIEW_PROJECT, Action.WRITE_PROJECT}

# The least registry role each registry action needs, before the protected-alias rules.
REGISTRY_ACTION_ROLE = {
    Action.VIEW: RegistryRole.RESTRICTED_VIEWER,
    Action.DOWNLOAD: RegistryRole.VIEWER,
    Action.CREATE_COLLECTION: RegistryRole.MEMBER,
    Action.EDIT_COLLECTION: RegistryRole.MEMBER,
    Action.DELETE_COLLECTION: RegistryRole.MEMBER,
    Action.LINK: RegistryRole.MEMBER,
    Action.UNLINK: RegistryRole.MEMBER,
    Action.SET_ALIAS: RegistryRole.MEMBER,
    Action.REMOVE_ALIAS: RegistryRole.MEMBER,
    Action.EDIT_REGISTRY: RegistryRole.ADMIN,
    Action.DELETE_REGISTRY: RegistryRole.ADMIN,
    Action.WIDEN_VISIBILITY: RegistryRole.ADMIN,
    Action.MANAGE_AUTOMATIONS: RegistryRole.MEMBER,
}

# The question whose yes makes an action touch a protected alias, by the method of the target
# that answers it: a link unlinked, a collection deleted, an alias (often unsaved) set or removed.
PROTECTED_FACTS = {
    Action.UNLINK: "carries_protected_alias",
    Action.DELETE_COLLECTION: "holds_protected_alias",
    Action.SET_ALIAS: "is_protected",
    Action.REMOVE_ALIAS: "is_protected",
}


def _remembered(user: Any, kind: str, key: int, look_up: Callable[[], str | None]):
    """`look_up()` once per user object and key; the user object lives for one request, and a
    page asks the policy many questions that need the same role. (Django's permission backend
    caches the same way.)"""
    roles = user.__dict__.setdefault(kind, {})
    if key not in roles:
        roles[key] = look_up()
    return roles[key]


def organization_role(user: Any, organization_id: int) -> OrganizationRole | None:
    """The user's role in the organization, or None for outsiders and anonymous users."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    role = _remembered(
        user,
        "_organization_roles",
        organization_id,
        lambda: (
            OrganizationMembership.objects.filter(organization_id=organization_id, user=user)
            .values_list("role", flat=True)
            .first()
        ),
    )
    return OrganizationRole(role) if role else None


def effective_role(user: Any, registry: Any) -> RegistryRole | None:
    """The highest role the user holds on the registry, or None if they may not see it.

    Sources: admin for organization admins; the user's own grant; grants to the user's teams;
    and on organization-visible registries the baseline role (capped at viewer for
    organization viewers). Only members of the registry's organization get any role.
    """
    org_role = organization_role(user, registry.organization_id)
    if org_role is None:
        return None
    if org_role == OrganizationRole.ADMIN:
        return RegistryRole.ADMIN
    roles = [
        RegistryRole(role)
        for role in registry.grants.filter(
            Q(user=user) | Q(team__memberships__user=user)
        ).values_list("role", flat=True)
    ]
    if baseline := _baseline_role(org_role, registry):
        roles.append(baseline)
    return max(roles, key=ROLE_RANK.__getitem__, default=None)


def _baseline_role(org_role: OrganizationRole, registry: Any) -> RegistryRole | None:
    """What every organization member holds on an organization-visible registry (capped at
    viewer for organization viewers); nothing on a restricted one."""
    if registry.visibility != Visibility.ORGANIZATION:
        return None
    return _capped(org_role, RegistryRole(registry.baseline_role))


def _capped(org_role: OrganizationRole, baseline: RegistryRole) -> RegistryRole:
    """The baseline as an organization role gets it: organization viewers stay viewers."""
    if org_role == OrganizationRole.VIEWER and ROLE_RANK[baseline] > ROLE_RANK[RegistryRole.VIEWER]:
        return RegistryRole.VIEWER
    return baseline


def _baseline_allows(user: Any, registry: Any, action: Action) -> bool:
    """Whether the baseline role alone allows a read, sparing the grants query: most reads
    are by members of an organization-visible registry."""
    org_role = organization_role(user, registry.organization_id)
    return org_role is not None and role_allows(_baseline_role(org_role, registry), action)


def team_role(user: Any, team_id: int) -> TeamRole | None:
    """The user's role in the team, or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    role = _remembered(
        user,
        "_team_roles",
        team_id,
        lambda: (
            TeamMembership.objects.filter(team_id=team_id, user=user)
            .values_list("role", flat=True)
            .first()
        ),
    )
    return TeamRole(role) if role else None


def registry_of(target: Any) -> Any:
    # A registry has no `.registry`: a target without one is the registry itself.
    return getattr(target, "registry", target)


def project_of(target: Any) -> Any:
    # A project has no `.project`: a target without one is the project itself.
    return getattr(target, "project", target)


def touches_protected(action: Action, target: Any) -> bool:
    """Whether the action puts on, takes off or removes a protected alias."""
    fact = PROTECTED_FACTS.get(action)
    answer = getattr(target, fact, None) if fact else None
    return answer is not None and answer()


def required_role(action: Action, *, protected: bool = False) -> RegistryRole:
    """The least registry role an action needs; protected aliases raise it to admin."""
    return RegistryRole.ADMIN if protected else REGISTRY_ACTION_ROLE[action]


def role_allows(role: RegistryRole | None, action: Action, *, protected: bool = False) -> bool:
    """The role table itself, for pages that already know the user's role."""
    if role is None:
        return False
    return ROLE_RANK[role] >= ROLE_RANK[required_role(action, protected=protected)]


def _can_delete_registry(user: Any, registry: Any, role: RegistryRole | None) -> bool:
    """Core registries never; custom ones by an organization admin, or the admin who made it."""
    if registry.is_core or role != RegistryRole.ADMIN:
        return False
    if registry.created_by_id == user.pk:
        return True
    return organization_role(user, registry.organization_id) == OrganizationRole.ADMIN


def can(user: Any, action: Action, target: Any) -> bool:
    """Whether the user may do the action on the target, as the role table in DESIGN.md says."""
    try:
        check(user, action, target)
    except (Http404, PermissionDenied):
        return False
    return True


ACTION_PHRASES = {
    Action.VIEW: "Seeing this registry",
    Action.DOWNLOAD: "Downloading files or seeing their contents",
    Action.CREATE_COLLECTION: "Creating a collection",
    Action.EDIT_COLLECTION: "Editing descriptions and tags",
    Action.DELETE_COLLECTION: "Deleting this collection",
    Action.LINK: "Linking a version",
    Action.UNLINK: "Unlinking this version",
    Action.SET_ALIAS: "Setting this alias",
    Action.REMOVE_ALIAS: "Removing this alias",
    Action.EDIT_REGISTRY: "Changing this registry's settings",
    Action.DELETE_REGISTRY: "Deleting this registry",
    Action.WIDEN_VISIBILITY: "Opening this registry to the whole organization",
    Action.CREATE_REGISTRY: "Creating a registry",
    Action.WRITE_PROJECT: "Logging to this project",
    Action.MANAGE_AUTOMATIONS: "Managing automations here",
}


def not_found(asked: str) -> Http404:
    """The one 404 for what does not exist and for what the user may not see: it names only
    what was asked for, so that it cannot tell the two apart."""
    return Http404(f"Nothing is at {asked}, or you may not see it.")


@dataclass(frozen=True)
class LegacyAliasName:
    """An alias put on or taken off a version in a team's legacy Model Registry."""

    team: Team
    name: str


def check(user: Any, action: Action, target: Any) -> None:
    """Raise Http404 if the user may not see the target, PermissionDenied if they lack the role."""
    if isinstance(target, Organization):
        _check_organization(user, action, target)
    elif isinstance(target, Team):
        _check_team(user, action, target)
    elif isinstance(target, LegacyAliasName):
        _check_legacy_alias(user, action, target)
    elif action in PROJECT_ACTIONS:
        _check_project(user, action, project_of(target))
    else:
        _check_registry(user, action, target)


def _check_organization(user: Any, action: Action, organization: Organization) -> None:
    role = organization_role(user, organization.pk)
    if role is None:
        raise Http404("No such organization.")
    if action == Action.VIEW_ORGANIZATION:
        return
    if action == Action.CREATE_REGISTRY:
        if role == OrganizationRole.VIEWER:
            raise PermissionDenied(
                f"Creating a registry needs the member or admin role in {organization.name}; "
                "you are a viewer."
            )
        return
    if action == Action.MANAGE_AUTOMATIONS:
        # Organization-wide automations watch every registry: the organization's admins' call.
        if role != OrganizationRole.ADMIN:
            raise PermissionDenied(
                f"Organization-wide automations in {organization.name} need the admin role; "
                f"you are a {role.label.lower()}. Make one on a registry or collection instead."
            )
        return
    if action == Action.VIEW_AUDIT_LOG:
        if role != OrganizationRole.ADMIN:
            raise PermissionDenied(
                f"The audit log of {organization.name} needs the admin role; "
                f"you are a {role.label.lower()}."
            )
        return
    raise ValueError(f"{action} is not an organization action")


def _check_project(user: Any, action: Action, project: Any) -> None:
    if organization_role(user, project.team.organization_id) == OrganizationRole.ADMIN:
        return
    role = team_role(user, project.team_id)
    if role is None:
        raise Http404("No such project.")
    if action == Action.WRITE_PROJECT and role == TeamRole.VIEWER:
        raise PermissionDenied(
            f"Logging to project {project.name} needs the member or admin role in team "
            f"{project.team.name}; you are a viewer."
        )


def _check_team(user: Any, action: Action, team: Team) -> None:
    """A team's legacy Model Registry is the team's own: its members see it, its members and
    admins change it, its registry admins and team admins handle protected aliases, and its
    team admins migrate it; its members send to its webhooks, which its admins configure;
    organization admins may do all of that."""
    if organization_role(user, team.organization_id) == OrganizationRole.ADMIN:
        return
    role = team_role(user, team.pk)
    if role is None:
        raise Http404("No such team.")
    if action == Action.VIEW_LEGACY:
        return
    if action == Action.EDIT_LEGACY:
        if role == TeamRole.VIEWER:
            raise PermissionDenied(
                f"Changing the legacy Model Registry of team {team.name} needs the member or "
                "admin role in the team; you are a viewer."
            )
        return
    if action == Action.SET_LEGACY_PROTECTED:
        if role != TeamRole.ADMIN and not team.legacy_admins.filter(user=user).exists():
            raise PermissionDenied(
                f"Protected aliases in team {team.name}'s Model Registry need the admin role in "
                "the team, or a place among its registry admins; you are a "
                f"{role.label.lower()}."
            )
        return
    if action == Action.USE_INTEGRATIONS:
        return
    if action == Action.MANAGE_INTEGRATIONS:
        if role != TeamRole.ADMIN:
            raise PermissionDenied(
                f"Webhooks and secrets of team {team.name} need the admin role in the team; "
                f"you are a {role.label.lower()}."
            )
        return
    if action == Action.MIGRATE_LEGACY:
        if role != TeamRole.ADMIN:
            raise PermissionDenied(
                f"Migrating the legacy Model Registry of team {team.name} needs the admin role "
                f"in the team, or an organization admin; you are a {role.label.lower()}."
            )
        return
    raise ValueError(f"{action} is not a team action")


def _check_legacy_alias(user: Any, action: Action, alias: LegacyAliasName) -> None:
    """An ordinary alias needs the edit role; a protected one, the team's admins or its legacy
    registry admins (where the Registry asks for a registry admin)."""
    if action != Action.SET_LEGACY_ALIAS:
        raise ValueError(f"{action} is not a legacy alias action")
    team = alias.team
    if not team.legacy_protected.filter(name=alias.name).exists():
        _check_team(user, Action.EDIT_LEGACY, team)
        return
    try:
        _check_team(user, Action.SET_LEGACY_PROTECTED, team)
    except PermissionDenied as error:
        raise PermissionDenied(f"{alias.name} is a protected alias. {error}") from None


def visible_teams(user: Any, organization: Organization) -> QuerySet[Team]:
    """The organization's teams whose legacy registries and projects the user sees: theirs, or
    all for admins."""
    teams = organization.teams.all()
    role = organization_role(user, organization.pk)
    if role is None:
        return teams.none()
    if role == OrganizationRole.ADMIN:
        return teams
    return teams.filter(memberships__user=user)


def may_migrate_some_team(user: Any, organization: Organization) -> bool:
    """Whether the user may migrate at least one team's legacy registry (MIGRATE_LEGACY): an
    organization admin, or an admin of one of its teams. The migration page's door."""
    role = organization_role(user, organization.pk)
    if role is None:
        return False
    return (
        role == OrganizationRole.ADMIN
        or TeamMembership.objects.filter(
            user=user, team__organization=organization, role=TeamRole.ADMIN
        ).exists()
    )


def _check_registry(user: Any, action: Action, target: Any) -> None:
    registry = registry_of(target)
    # Reads touch no protected alias: the baseline may settle them before any grant is read.
    if action in (Action.VIEW, Action.DOWNLOAD) and _baseline_allows(user, registry, action):
        return
    role = effective_role(user, registry)
    if role is None:
        raise Http404("No such registry.")
    if action == Action.DELETE_REGISTRY:
        if not _can_delete_registry(user, registry, role):
            reason = (
                "core registries cannot be deleted"
                if registry.is_core
                else "it needs the admin role in the organization, or the admin role on the "
                f"registry for the one who created it; your role is {role.label.lower()}"
            )
            raise PermissionDenied(f"Deleting registry {registry.name}: {reason}.")
        return
    if action == Action.WIDEN_VISIBILITY:
        # A registry admin may restrict a registry; only an organization admin opens it again.
        if organization_role(user, registry.organization_id) != OrganizationRole.ADMIN:
            raise PermissionDenied(
                f"Opening registry {registry.name} to the whole organization needs an "
                "organization admin (the admin role in the organization); your role on the "
                f"registry is {role.label.lower()}."
            )
        return
    protected = touches_protected(action, target)
    if not role_allows(role, action, protected=protected):
        needed = required_role(action, protected=protected)
        why = " because of a protected alias" if protected else ""
        raise PermissionDenied(
            f"{ACTION_PHRASES[action]} needs the {needed.label.lower()} role on registry "
            f"{registry.name}{why}; your role is {role.label.lower()}."
        )


def visible_registries(user: Any, organization: Organization) -> QuerySet:
    """The registries of the organization that the user may see, in one query."""
    role = organization_role(user, organization.pk)
    registries = organization.registries.all()
    if role is None:
        return registries.none()
    if role == OrganizationRole.ADMIN:
        return registries
    granted = registries.filter(Q(grants__user=user) | Q(grants__team__memberships__user=user))
    return registries.filter(Q(visibility=Visibility.ORGANIZATION) | Q(pk__in=granted.values("pk")))


def registries_allowing(user: Any, organization: Organization, action: Action) -> QuerySet:
    """The organization's registries on which the user's role allows `action`, in one query:
    effective_role's sources (organization admin, grants to the user or their teams, the
    baseline capped at viewer for organization viewers) as a filter, so that a list can keep
    what the user may act on without asking about each registry. For actions the role table
    settles alone: protected aliases, deleting and widening are for `check`."""
    # A protected alias, the registry's creator or an organization admin can change these.
    beyond_the_table = {*PROTECTED_FACTS, Action.DELETE_REGISTRY, Action.WIDEN_VISIBILITY}
    if action not in REGISTRY_ACTION_ROLE or action in beyond_the_table:
        raise ValueError(f"{action} is not settled by the role table alone")
    registries = organization.registries.all()
    role = organization_role(user, organization.pk)
    if role is None:
        return registries.none()
    if role == OrganizationRole.ADMIN:
        return registries
    enough = [r for r in RegistryRole if role_allows(r, action)]
    # One filter() call, so that the role and the grantee are of the same grant.
    granted = registries.filter(
        Q(grants__user=user) | Q(grants__team__memberships__user=user), grants__role__in=enough
    )
    baselines = [r for r in BASELINE_ROLES if role_allows(_capped(role, r), action)]
    return registries.filter(
        Q(visibility=Visibility.ORGANIZATION, baseline_role__in=baselines)
        | Q(pk__in=granted.values("pk"))
    )


def teams_allowing(user: Any, organization: Organization, action: Action) -> QuerySet[Team]:
    """The organization's teams where the user may send to webhooks (USE_INTEGRATIONS: their
    teams) or configure them (MANAGE_INTEGRATIONS: the teams they administer), in one query;
    every team for organization admins, as `_check_team` decides."""
    teams = visible_teams(user, organization)
    if action == Action.USE_INTEGRATIONS:
        return teams
    if action != Action.MANAGE_INTEGRATIONS:
        raise ValueError(f"{action} is not an integrations action")
    if organization_role(user, organization.pk) == OrganizationRole.ADMIN:
        return teams
    return teams.filter(memberships__user=user, memberships__role=TeamRole.ADMIN)


@dataclass
class RegistryMember:
    """A person with a role on a registry, and where the role comes from."""

    user: Any
    role: RegistryRole
    source: str
    grant: Any  # the user's own RegistryGrant, which settings can change, or None


def registry_members(registry: Any) -> list[RegistryMember]:
    """Everyone holding a role on the registry beyond the baseline, in three queries.

    Follows `effective_role`: organization admins, the users' own grants, and their teams'
    grants; the highest wins, and its source is shown.
    """
    org = registry.organization_id
    admins = OrganizationMembership.objects.filter(
        organization_id=org, role=OrganizationRole.ADMIN
    ).select_related("user")
    grants = list(
        registry.grants.filter(
            Q(team__isnull=False) | Q(user__organization_memberships__organization_id=org)
        ).select_related("user", "team")
    )
    team_roles = {g.team_id: (RegistryRole(g.role), g.team.name) for g in grants if g.team_id}
    team_members = TeamMembership.objects.filter(
        team_id__in=team_roles, user__organization_memberships__organization_id=org
    ).select_related("user")

    candidates: dict[int, list[tuple[RegistryRole, str, Any, Any]]] = {}
    for membership in admins:
        candidates.setdefault(membership.user_id, []).append(
            (RegistryRole.ADMIN, "organization admin", membership.user, None)
        )
    for grant in grants:
        if grant.user_id:
            candidates.setdefault(grant.user_id, []).append(
                (RegistryRole(grant.role), "direct", grant.user, grant)
            )
    for membership in team_members:
        role, team = team_roles[membership.team_id]
        candidates.setdefault(membership.user_id, []).append(
            (role, f"team {team}", membership.user, None)
        )
    members = []
    for options in candidates.values():
        role, source, user, _ = max(options, key=lambda option: ROLE_RANK[option[0]])
        own_grant = next((option[3] for option in options if option[3] is not None), None)
        members.append(RegistryMember(user, role, source, own_grant))
    return sorted(members, key=lambda m: (-ROLE_RANK[m.role], m.user.get_username()))
