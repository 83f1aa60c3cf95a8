"""Runs and the lineage edges they record."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.policy import Action, check
from apps.artifacts.models import ArtifactVersion, Project
from apps.lib.validators import validate_metadata
from apps.lineage.models import Run, RunInput, RunState


def start_run(
    *,
    actor: Any,
    project: Project,
    name: str,
    job_type: str = "",
    config: dict | None = None,
) -> Run:
    check(actor, Action.WRITE_PROJECT, project)
    if not name.strip():
        raise ValidationError("A run needs a name.", code="required")
    return Run.objects.create(
        project=project,
        name=name,
        job_type=job_type,
        config=validate_metadata(config or {}),
        created_by=actor,
    )


def finish_run(
    *, actor: Any, run: Run, state: str = RunState.FINISHED, summary: dict | None = None
) -> Run:
    check(actor, Action.WRITE_PROJECT, run.project)
    if state == RunState.RUNNING or state not in RunState.values:
        raise ValidationError(
            f"A run finishes as finished, failed or crashed, not {state!r}.", code="invalid_state"
        )
    run.state = state
    run.summary = validate_metadata(summary or run.summary)
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "summary", "finished_at"])
    return run


@transaction.atomic
def record_input(*, actor: Any, run: Run, version: ArtifactVersion) -> RunInput:
    """Record that a run used a version. The caller checks the actor may download it."""
    check(actor, Action.WRITE_PROJECT, run.project)
    if not version.is_committed:
        raise ValidationError("A pending version cannot be used yet.", code="version_pending")
    run_input, _ = RunInput.objects.get_or_create(run=run, version=version)
    return run_input
