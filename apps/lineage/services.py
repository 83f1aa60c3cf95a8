"""Runs and the lineage edges they record."""

from __future__ import annotations

import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.policy import Action, check
from apps.artifacts.models import ArtifactVersion, Project
from apps.lib.validators import validate_metadata
from apps.lineage.models import JOB_TYPE_MAX, RUN_NAME_MAX, Run, RunInput, RunState

# Words of the names runs get when started without one, as W&B names its runs.
ADJECTIVES = (
    "amber", "bold", "bright", "brisk", "calm", "clever", "crisp", "daring", "eager", "fancy",
    "gentle", "glad", "golden", "hardy", "jolly", "keen", "lively", "lucky", "mellow", "misty",
    "noble", "proud", "quiet", "rapid", "silver", "snowy", "spring", "sunny", "swift", "vivid",
    "warm", "wild",
)  # fmt: skip
NOUNS = (
    "brook", "cedar", "cloud", "comet", "dawn", "delta", "dune", "ember", "field", "fjord",
    "forest", "frost", "glade", "grove", "harbor", "lake", "leaf", "meadow", "moon", "morning",
    "night", "ocean", "peak", "pine", "rain", "river", "sea", "sky", "star", "sun", "valley",
    "wave",
)  # fmt: skip


def readable_run_name(project: Project) -> str:
    """`<adjective>-<noun>-<N>`, N the run's number in its project: a name a person tells
    apart in a list or a lineage graph, though not guaranteed unique."""
    number = project.runs.count() + 1
    return f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}-{number}"


def start_run(
    *,
    actor: Any,
    project: Project,
    name: str = "",
    job_type: str = "",
    config: dict | None = None,
) -> Run:
    """A run in the project; without a name it gets a readable one (`readable_run_name`)."""
    check(actor, Action.WRITE_PROJECT, project)
    name = name.strip() or readable_run_name(project)
    for value, what, limit in ((name, "name", RUN_NAME_MAX), (job_type, "job type", JOB_TYPE_MAX)):
        if len(value) > limit:
            raise ValidationError(
                f"A run's {what} is at most {limit} characters, not {len(value)}.",
                code="too_long",
            )
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
