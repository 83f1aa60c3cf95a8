"""The worker processes that run background tasks, each alive while its heartbeat is fresh."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.jobs.conf import job_settings


class WorkerQuerySet(models.QuerySet):
    def alive(self) -> WorkerQuerySet:
        """Workers heard from within the lease."""
        return self.filter(heartbeat_at__gte=timezone.now() - job_settings().lease)


class Worker(models.Model):
    """A running `manage.py db_worker` process. It deletes its row when it stops; a row whose
    heartbeat is older than the lease is a worker that died, and any live worker takes up its
    task and then deletes the row."""

    # The id django-tasks-db appends to the worker_ids of each task the worker claims.
    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.hostname}:{self.pid} ({self.worker_id})"
