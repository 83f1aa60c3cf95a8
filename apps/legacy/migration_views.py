"""The migration view: each team's move to the Registry, started in the background.

Organization admins see every team that has a legacy registry, team admins their own teams. Each
team's row says where its migration stands, what the legacy registry holds and what has moved;
while a migration is queued or running the row polls its own fragment with htmx. Without
JavaScript the Start button is a plain form and the page shows the same after a reload.

A first start makes the legacy registry read-only for good, so it asks for a ticked box that
says so; without it nothing starts and the row says why. Later runs (after a failure, an
interruption, or to pick up what is left) change nothing that is not read-only already.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from apps.accounts.models import Organization, Team
from apps.accounts.policy import Action, can, check, organization_role, visible_teams
from apps.jobs.models import Worker
from apps.legacy.migration import TeamPlan, plan_team, registry_name
from apps.legacy.models import (
    IN_PROGRESS,
    LegacyAlias,
    LegacyMigration,
    LegacyModelVersion,
    LegacyRegisteredModel,
    MigrationStatus,
)
from apps.legacy.tasks import queue_migration
from apps.lib.http import is_fragment_request
from apps.registries.lookups import organization_for
from apps.registries.models import Registry

TEMPLATE = "legacy/migration.html"


@dataclass
class MigrationRow:
    """One team on the migration page: its migration, if any, and the counts beside it."""

    team: Team
    migration: LegacyMigration | None
    models: int
    versions: int
    aliases: int
    migrated_models: int
    migrated_versions: int
    # Asked only when the migration is queued: whether any worker is there to take it.
    worker_alive: bool | None = None

    @property
    def url(self) -> str:
        return reverse(
            "legacy:migration_team",
            kwargs={"org": self.team.organization.slug, "team": self.team.slug},
        )

    @property
    def status(self) -> MigrationStatus:
        if self.migration is None:
            return MigrationStatus.NOT_STARTED
        return self.migration.current_status

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def can_start(self) -> bool:
        return not self.in_progress

    @property
    def needs_confirmation(self) -> bool:
        """A first start: it turns the legacy registry read-only, so it is confirmed first."""
        return self.status == MigrationStatus.NOT_STARTED

    @property
    def start_label(self) -> str:
        return {
            MigrationStatus.NOT_STARTED: "Start migration",
            MigrationStatus.FAILED: "Try again",
            MigrationStatus.INTERRUPTED: "Resume",
            MigrationStatus.DONE: "Run again",
        }[self.status]

    @property
    def target_registry(self) -> str:
        """The name of the registry it migrates into, made or not."""
        return self.registry.name if self.registry else registry_name(self.team)

    @property
    def heartbeat_age(self) -> int:
        """Whole seconds since the run last said it was alive."""
        return int((timezone.now() - self.migration.heartbeat_at).total_seconds())

    @property
    def registry(self) -> Registry | None:
        return self.migration.registry if self.migration else None

    @property
    def finished_at(self) -> datetime | None:
        return self.migration.finished_at if self.migration else None


def _count(queryset: QuerySet, team_field: str) -> Coalesce:
    """How many of these rows belong to the outer team: a subquery each, since joining
    versions and aliases in one query would multiply them."""
    counted = (
        queryset.filter(**{team_field: OuterRef("pk")})
        .order_by()
        .values(team_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _with_legacy_registry(teams: QuerySet[Team]) -> QuerySet[Team]:
    """Teams with registered models, as `migrate_legacy_registry --all` chooses them."""
    return teams.filter(Exists(LegacyRegisteredModel.objects.filter(team=OuterRef("pk"))))


def _rows(teams: QuerySet[Team]) -> list[MigrationRow]:
    """The teams that have a legacy registry, by name, with their counts: one query."""
    models = LegacyRegisteredModel.objects.all()
    versions = LegacyModelVersion.objects.all()
    migrated = Q(registered_model__migrated_to__isnull=False)
    teams = (
        _with_legacy_registry(teams)
        .select_related(
            "organization", "legacy_migration__registry", "legacy_migration__started_by"
        )
        .annotate(
            model_count=_count(models, "team"),
            version_count=_count(versions, "registered_model__team"),
            alias_count=_count(LegacyAlias.objects.all(), "registered_model__team"),
            migrated_model_count=_count(models.filter(migrated_to__isnull=False), "team"),
            migrated_version_count=_count(versions.filter(migrated), "registered_model__team"),
        )
        .order_by("name")
    )
    rows = [
        MigrationRow(
            team=team,
            # A team whose migration was never started has no row yet; the page does not write.
            migration=getattr(team, "legacy_migration", None),
            models=team.model_count,
            versions=team.version_count,
            aliases=team.alias_count,
            migrated_models=team.migrated_model_count,
            migrated_versions=team.migrated_version_count,
        )
        for team in teams
    ]
    queued = [row for row in rows if row.status == MigrationStatus.QUEUED]
    if queued:
        alive = Worker.objects.alive().exists()
        for row in queued:
            row.worker_alive = alive
    return rows


def _team_for(request: HttpRequest, org: str, slug: str) -> Team:
    """The team, if the user may migrate it: 404 if they may not see it, 403 naming the role."""
    team = get_object_or_404(
        Team.objects.select_related("organization"), organization__slug=org, slug=slug
    )
    check(request.user, Action.MIGRATE_LEGACY, team)
    return team


def _row_for(team: Team) -> MigrationRow:
    rows = _rows(Team.objects.filter(pk=team.pk))
    if not rows:
        raise Http404(f"Team {team.name} has no legacy Model Registry.")
    return rows[0]


def _plan_context(plan: TeamPlan) -> dict:
    return {
        "plan": plan,
        "to_create": plan.count("migrate"),
        "versions_to_link": sum(m.versions for m in plan.models if m.state == "migrate"),
        "already": plan.count("done"),
        "conflicts": plan.count("conflict"),
    }


@require_GET
def migration_overview(request: HttpRequest, org: str) -> HttpResponse:
    """Every team whose legacy registry the user may migrate, and where each migration stands."""
    organization = organization_for(request.user, org)
    teams = [
        team.pk
        for team in visible_teams(request.user, organization)
        if can(request.user, Action.MIGRATE_LEGACY, team)
    ]
    if not teams:
        raise PermissionDenied(_nothing_to_migrate(request, organization))
    context = {"organization": organization, "rows": _rows(Team.objects.filter(pk__in=teams))}
    return render(request, TEMPLATE, context)


def _nothing_to_migrate(request: HttpRequest, organization: Organization) -> str:
    role = organization_role(request.user, organization.pk)
    return (
        f"Migrating legacy Model Registries in {organization.name} needs an organization admin "
        f"or a team's admin; you are a {role.label.lower()} and administer no team."
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def migration_team(request: HttpRequest, org: str, team: str) -> HttpResponse:
    """One team's migration and its dry run; POST starts it in the background.

    htmx asks here for the team's row (polling while it runs) and for the dry run alone
    (`?part=plan`, when the overview opens it).
    """
    target = _team_for(request, org, team)
    if request.method == "POST":
        return _start(request, target)
    organization = target.organization
    if is_fragment_request(request):
        if request.GET.get("part") == "plan":
            context = {"organization": organization, **_plan_context(plan_team(target))}
            return render(request, f"{TEMPLATE}#team-plan", context)
        row = _row_for(target)
        response = render(
            request, f"{TEMPLATE}#team-row", {"organization": organization, "row": row}
        )
        if not row.in_progress:
            # Only polling asks for a row, so this answer ends it: the dry run beside the row
            # is out of date now and reloads on this event.
            trigger_client_event(response, f"migration-finished-{target.slug}")
        return response
    row = _row_for(target)
    context = {
        "organization": organization,
        "rows": [row],
        "focus": row,
        **_plan_context(plan_team(target)),
    }
    return render(request, TEMPLATE, context)


def _start(request: HttpRequest, team: Team) -> HttpResponse:
    """Queue the team's migration; refused while it is queued or running, and a first start
    unless its box confirms that the legacy registry becomes read-only."""
    if not _with_legacy_registry(Team.objects.filter(pk=team.pk)).exists():
        raise Http404(f"Team {team.name} has no legacy Model Registry.")
    if not request.POST.get("confirm") and not _has_started(team):
        return _unconfirmed(request, _row_for(team))
    started = queue_migration(team, actor=request.user)
    row = _row_for(team)
    if started:
        notice = ""
    else:
        notice = (
            f"The migration of team {team.name} is {row.status.label.lower()} already; "
            "it was not started again."
        )
    if request.htmx:
        context = {"organization": team.organization, "row": row, "notice": notice}
        return render(request, f"{TEMPLATE}#team-row", context)
    if started:
        messages.success(
            request,
            f"Queued the migration of team {team.name}. Its row shows the progress: reload the "
            "page to follow it.",
        )
    else:
        messages.error(request, notice)
    return redirect("legacy:migration", org=team.organization.slug)


def _has_started(team: Team) -> bool:
    """Whether a migration made the legacy registry read-only already."""
    return (
        LegacyMigration.objects.filter(team=team)
        .exclude(status=MigrationStatus.NOT_STARTED)
        .exists()
    )


def _unconfirmed(request: HttpRequest, row: MigrationRow) -> HttpResponse:
    """The row again, saying what the box is for; without htmx, on the team's page."""
    team = row.team
    confirm_error = (
        f"Nothing started: tick the box to confirm that the legacy Model Registry of team "
        f"{team.name} becomes read-only."
    )
    context = {"organization": team.organization, "row": row, "confirm_error": confirm_error}
    if request.htmx:
        return render(request, f"{TEMPLATE}#team-row", context, status=400)
    context |= {"rows": [row], "focus": row, **_plan_context(plan_team(team))}
    return render(request, TEMPLATE, context, status=400)
