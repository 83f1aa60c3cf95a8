"""Runs and the versions they use and log (lineage)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models

from apps.artifacts.models import ArtifactVersion, Project


class RunState(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CRASHED = "crashed", "Crashed"


RUN_NAME_MAX = 128
JOB_TYPE_MAX = 64


class Run(models.Model):
    """One execution of code in a project: a training job, an evaluation, a preprocessing step."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=64, default="", help_text="Stable id used in URLs.")
    name = models.CharField(max_length=RUN_NAME_MAX)
    job_type = models.CharField(max_length=JOB_TYPE_MAX, blank=True)
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.RUNNING)
    config = models.JSONField(default=dict, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "run_id"], name="lineage_run_id_unique"),
            models.CheckConstraint(
                condition=models.Q(state__in=RunState.values), name="lineage_run_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.run_id:
            self.run_id = uuid.uuid4().hex[:12]
        super().save(*args, **kwargs)


class RunInputQuerySet(models.QuerySet):
    def newest_with_runs(self) -> RunInputQuerySet:
        """Newest first, each with its run, the run's project and team, and who started it."""
        return self.select_related("run__project__team", "run__created_by").order_by("-created_at")


class RunInput(models.Model):
    """A version a run used: the edge version → run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="inputs")
    version = models.ForeignKey(ArtifactVersion, on_delete=models.CASCADE, related_name="used_by")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RunInputQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "version"], name="lineage_run_input_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run} used {self.version}"


class RunOutput(models.Model):
    """A version a run logged: the edge run → version."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="outputs")
    version = models.ForeignKey(ArtifactVersion, on_delete=models.CASCADE, related_name="logged_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "version"], name="lineage_run_output_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.run} logged {self.version}"
