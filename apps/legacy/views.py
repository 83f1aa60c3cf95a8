"""The legacy Model Registry's pages: read-only, and after migration they say where things went.

A team's legacy registry is the team's own: its members see it, everyone else gets 404 (through
the policy, as everywhere). Nothing here writes; changes went through `apps.legacy.services`
until the team's migration started.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import CharField, Count, Max, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from apps.accounts.models import Organization, Team
from apps.accounts.policy import Action, can, check, visible_teams
from apps.legacy.models import (
    LegacyAction,
    LegacyEvent,
    LegacyMigration,
    LegacyModelVersion,
    LegacyRegisteredModel,
    MigrationStatus,
)
from apps.lib.pagination import keyset_page
from apps.registries.lookups import organization_for
from apps.registries.models import Collection

MODELS_PER_PAGE = 50
TEAMS_ON_HOME = 100
VERSIONS_PER_PAGE = 50
EVENTS_PER_PAGE = 25
VERSION_EVENTS = 20


def team_for(request: HttpRequest, org: str, slug: str) -> Team:
    """The team, or 404 for anyone who may not see its legacy registry."""
    team = get_object_or_404(
        Team.objects.select_related("organization", "legacy_migration__registry"),
        organization__slug=org,
        slug=slug,
    )
    check(request.user, Action.VIEW_LEGACY, team)
    return team


def model_for(request: HttpRequest, org: str, team: str, name: str) -> LegacyRegisteredModel:
    found = team_for(request, org, team)
    model = get_object_or_404(
        LegacyRegisteredModel.objects.select_related(
            "created_by", "migrated_to__registry__organization"
        ),
        team=found,
        name=name,
    )
    model.team = found  # keeps the migration row loaded with it
    return model


def migration_of(team: Team) -> LegacyMigration | None:
    """The team's migration row, loaded with the team; None before anyone started one."""
    return getattr(team, "legacy_migration", None)


def page_query(request: HttpRequest, param: str, cursor: str | None) -> str | None:
    """This page's query string with `param` set to the next cursor; None on the last page."""
    if not cursor:
        return None
    params = request.GET.copy()
    params[param] = cursor
    return params.urlencode()


@dataclass
class Status:
    """Where a registered model stands, as its row or page says it."""

    key: str  # "legacy", "migrating", "migrated", "failed" or "gone"
    label: str
    collection: Collection | None = None


def status_of(model: LegacyRegisteredModel, migration: LegacyMigration | None) -> Status:
    if model.migrated_to is not None:
        return Status("migrated", "Migrated", model.migrated_to)
    if model.migrated_at is not None:
        return Status("gone", "Migrated; the collection was deleted since")
    if migration is None or migration.status == MigrationStatus.NOT_STARTED:
        return Status("legacy", "Not migrated")
    if migration.status == MigrationStatus.FAILED:
        return Status("failed", "Not migrated: the last migration run failed")
    return Status("migrating", "Migrating")


def _team_rows(request: HttpRequest, organization: Organization) -> list[Team]:
    """The visible teams that have a legacy registry, with counts and their migration."""
    teams = list(
        visible_teams(request.user, organization)
        .select_related("legacy_migration__registry")
        .annotate(model_count=Count("legacy_models"))
        .filter(model_count__gt=0)
        .order_by("name")[:TEAMS_ON_HOME]
    )
    for team in teams:
        team.migration = migration_of(team)
    return teams


def _may_migrate_any(request: HttpRequest, teams: list[Team]) -> bool:
    # One policy question per team until one says yes; an organization admin's first answer is
    # yes and costs nothing (the organization role is remembered for the request).
    return any(can(request.user, Action.MIGRATE_LEGACY, team) for team in teams)


def _with_version_counts(models):
    return models.annotate(
        version_count=Count("versions"), latest_linked_at=Max("versions__linked_at")
    ).prefetch_related("tags")


@require_GET
def legacy_home(request: HttpRequest, org: str) -> HttpResponse:
    """The registered models of every team the user sees, in keyset pages, and each team's
    migration."""
    organization = organization_for(request.user, org)
    teams = _team_rows(request, organization)
    models = _with_version_counts(
        LegacyRegisteredModel.objects.filter(team__in=visible_teams(request.user, organization))
        .select_related("team__legacy_migration", "migrated_to__registry")
        # Team, then name: one sort key, so keyset pages need no second column.
        .annotate(path=Concat("team__slug", Value("/"), "name", output_field=CharField()))
    )
    page = keyset_page(
        models,
        field="path",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=MODELS_PER_PAGE,
    )
    for model in page.items:
        model.status = status_of(model, migration_of(model.team))
    context = {
        "organization": organization,
        "teams": teams,
        "models": page.items,
        "next_query": page_query(request, "cursor", page.next_cursor),
        "can_migrate": _may_migrate_any(request, teams),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return render(request, "legacy/home.html", context)


@require_GET
def legacy_team(request: HttpRequest, org: str, team: str) -> HttpResponse:
    """One team's registered models, protected aliases and registry admins."""
    found = team_for(request, org, team)
    migration = migration_of(found)
    page = keyset_page(
        _with_version_counts(found.legacy_models.select_related("migrated_to__registry")),
        field="name",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=MODELS_PER_PAGE,
    )
    for model in page.items:
        model.status = status_of(model, migration)
    context = {
        "organization": found.organization,
        "team": found,
        "migration": migration,
        "models": page.items,
        "next_query": page_query(request, "cursor", page.next_cursor),
        "protected": list(found.legacy_protected.values_list("name", flat=True)),
        "admins": [
            admin.user
            for admin in found.legacy_admins.select_related("user").order_by("user__username")
        ],
        "can_migrate": can(request.user, Action.MIGRATE_LEGACY, found),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return render(request, "legacy/team.html", context)


def describe_event(event: LegacyEvent) -> str:
    """What a history entry touched, in words: `production: v1 → v2`, `tag vision on v3`."""
    data = event.data
    on = f"v{data['version']}" if "version" in data else ""
    if event.action == LegacyAction.ALIAS_MOVE:
        return f"{data.get('alias', '')}: {data.get('from_version', '?')} → {on}"
    if "alias" in data:
        return f"{data['alias']} on {on}" if on else data["alias"]
    if "tag" in data:
        return f"{data['tag']} on {on}" if on else data["tag"]
    return on


@require_GET
def legacy_model(request: HttpRequest, org: str, team: str, model: str) -> HttpResponse:
    """A registered model: its card, tags, versions in order and its history, newest first."""
    found = model_for(request, org, team, model)
    protected = set(found.team.legacy_protected.values_list("name", flat=True))
    versions = keyset_page(
        found.versions.select_related("version__artifact__project__team", "linked_by")
        .prefetch_related("aliases", "tags"),
        field="number",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=VERSIONS_PER_PAGE,
    )  # fmt: skip
    for linked in versions.items:
        names = sorted(alias.name for alias in linked.aliases.all())
        linked.alias_chips = [(name, name in protected) for name in names]
    history = keyset_page(
        found.events.select_related("actor"),
        field="created_at",
        descending=True,
        cursor=request.GET.get("history"),
        size=EVENTS_PER_PAGE,
    )
    for event in history.items:
        event.summary = describe_event(event)
    context = {
        "organization": found.team.organization,
        "team": found.team,
        "model": found,
        "status": status_of(found, migration_of(found.team)),
        "tags": [tag.name for tag in found.tags.all()],
        "versions": versions.items,
        "next_versions": page_query(request, "cursor", versions.next_cursor),
        "events": history.items,
        "next_history": page_query(request, "history", history.next_cursor),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return render(request, "legacy/model.html", context)


@require_GET
def legacy_version(
    request: HttpRequest, org: str, team: str, model: str, number: int
) -> HttpResponse:
    """One version of a registered model; once migrated, its new page in the Registry."""
    found = model_for(request, org, team, model)
    if found.migrated_to is not None and settings.ENABLE_REGISTRY_UI:
        # The migration keeps numbers, so vN here is vN there.
        collection = found.migrated_to
        return redirect(
            reverse(
                "registries:version",
                kwargs={
                    "org": collection.registry.organization.slug,
                    "registry": collection.registry.slug,
                    "collection": collection.name,
                    "number": number,
                },
            )
        )
    linked = get_object_or_404(
        LegacyModelVersion.objects.select_related(
            "version__artifact__project__team", "version__created_by", "linked_by"
        ).prefetch_related("aliases", "tags"),
        registered_model=found,
        number=number,
    )
    protected = set(found.team.legacy_protected.values_list("name", flat=True))
    names = sorted(alias.name for alias in linked.aliases.all())
    events = list(
        found.events.select_related("actor").filter(data__version=number)[:VERSION_EVENTS]
    )
    for event in events:
        event.summary = describe_event(event)
    context = {
        "organization": found.team.organization,
        "team": found.team,
        "model": found,
        "linked": linked,
        "version": linked.version,
        "status": status_of(found, migration_of(found.team)),
        "alias_chips": [(name, name in protected) for name in names],
        "tags": [tag.name for tag in linked.tags.all()],
        "events": events,
        "can_view_project": can(request.user, Action.VIEW_PROJECT, linked.version),
        "registry_ui": settings.ENABLE_REGISTRY_UI,
    }
    return render(request, "legacy/version.html", context)
