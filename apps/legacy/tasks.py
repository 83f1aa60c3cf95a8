"""Background work for the legacy Model Registry: a team's migration, run by `manage.py db_worker`.

The migration view marks a team's migration queued and enqueues `migrate_legacy_team` once that
commits; the worker runs it, and `migrate_team` moves the row on to running, done or failed. A
task whose worker dies, or that raises, runs again (apps.jobs), and resumes where the last run
stopped; once its attempts run out, the row says failed and why.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from apps.accounts.models import Team, User
from apps.jobs.policy import job_policy
from apps.legacy.migration import migrate_team, migration_of
from apps.legacy.models import IN_PROGRESS, LegacyMigration, MigrationStatus

log = logging.getLogger(__name__)


def _record_failure(args: list[Any], kwargs: dict[str, Any], reason: str) -> None:
    _mark_failed(
        args[0], f"The migration stopped: {reason}. What moved stays; start it again to resume."
    )


def _record_retry(args: list[Any], kwargs: dict[str, Any], reason: str, again_at) -> None:
    """Between attempts the migration waits for the next: queued, saying why and until when."""
    at = timezone.localtime(again_at).strftime("%H:%M:%S")
    note = f"The last run stopped: {reason}. It runs again at {at}, resuming where it stopped."
    try:
        LegacyMigration.objects.filter(team_id=args[0]).exclude(status=MigrationStatus.DONE).update(
            status=MigrationStatus.QUEUED, error=note, finished_at=None
        )
    except Exception:
        log.exception("Could not record that the migration of team %s runs again", args[0])


@job_policy(max_attempts=3, on_failure=_record_failure, on_retry=_record_retry)
@task()
def migrate_legacy_team(team_id: int, actor_id: int | None = None) -> dict[str, Any]:
    """Migrate the team's legacy registry as the admin who started it; a summary for the result."""
    team = Team.objects.select_related("organization").get(pk=team_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    result = migrate_team(team, actor=actor)
    # migrate_team leaves the row as it is when it finds nothing to move; it must not stay queued.
    LegacyMigration.objects.filter(team=team, status=MigrationStatus.QUEUED).update(
        status=MigrationStatus.DONE if result.ok else MigrationStatus.FAILED,
        finished_at=timezone.now(),
    )
    return {
        "registry": result.registry.slug if result.registry else None,
        "migrated": result.migrated,
        "already": result.already,
        "versions": result.versions,
        "failed": [list(failure) for failure in result.failed],
    }


def _mark_failed(team_id: int, reason: str) -> None:
    try:
        LegacyMigration.objects.filter(team_id=team_id, status__in=IN_PROGRESS).update(
            status=MigrationStatus.FAILED, error=reason, finished_at=timezone.now()
        )
    except Exception:
        log.exception("Could not record that the migration of team %s failed", team_id)


def queue_migration(team: Team, *, actor: User) -> bool:
    """Mark the team's migration queued and enqueue it once that commits; False, changing
    nothing, if it is queued or running already. An interrupted migration is taken over."""
    migration = migration_of(team)
    with transaction.atomic():
        # One conditional UPDATE, so two admins pressing Start at once queue it once.
        queued = (
            LegacyMigration.objects.filter(pk=migration.pk)
            .startable()
            .update(status=MigrationStatus.QUEUED, started_by=actor, error="", finished_at=None)
        )
        if queued:
            # After commit: a worker must never pick up a task whose "queued" could still roll
            # back, and a rolled-back start must leave no task behind.
            transaction.on_commit(partial(_enqueue, team.pk, actor.pk))
    return bool(queued)


def _enqueue(team_id: int, actor_id: int) -> None:
    try:
        migrate_legacy_team.enqueue(team_id, actor_id)
    except Exception as error:
        # Without a task nothing would ever move the row on from queued.
        log.exception("Could not enqueue the migration of team %s", team_id)
        _mark_failed(team_id, f"The migration could not be queued: {error}")
