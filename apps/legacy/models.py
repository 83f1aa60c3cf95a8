"""The legacy, team-scoped Model Registry, and where each team's move to the Registry stands.

A team's registered models hold pointers to model versions, numbered per registered model, with
aliases unique in it; the team keeps protected aliases and registry admins of its own. Once a
team's migration starts, its legacy registry is read-only: the data stays, copied, not moved.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Team
from apps.artifacts.models import ArtifactVersion
from apps.jobs.conf import job_settings
from apps.lib.validators import TAG_PATTERN
from apps.registries.models import Collection, Registry


class LegacyRegisteredModel(models.Model):
    """A named set of linked model versions for one task, in a team's legacy registry."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="legacy_models")
    name = models.CharField(max_length=128)
    artifact_type = models.CharField(max_length=128, default="model")
    description = models.TextField(blank=True, help_text="Markdown, rendered sanitized.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Set in the transaction that migrates the model: the collection it became.
    migrated_to = models.ForeignKey(
        Collection, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    migrated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="legacy_model_name_unique"),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(name__contains="/") & ~Q(name__contains=":"),
                name="legacy_model_name_no_slash_or_colon",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}/model-registry/{self.name}"


class LegacyModelTag(models.Model):
    registered_model = models.ForeignKey(
        LegacyRegisteredModel, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "name"], name="legacy_model_tag_unique"
            ),
            models.CheckConstraint(
                condition=Q(name__regex=TAG_PATTERN), name="legacy_model_tag_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LegacyModelVersion(models.Model):
    """A version linked into a registered model: a pointer to a source artifact version."""

    registered_model = models.ForeignKey(
        LegacyRegisteredModel, on_delete=models.CASCADE, related_name="versions"
    )
    version = models.ForeignKey(
        ArtifactVersion, on_delete=models.PROTECT, related_name="legacy_links"
    )
    number = models.PositiveIntegerField()
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["registered_model", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "number"], name="legacy_version_number_unique"
            ),
            models.UniqueConstraint(
                fields=["registered_model", "version"], name="legacy_version_once_per_model"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.registered_model}:v{self.number}"

    @property
    def label(self) -> str:
        return f"v{self.number}"


class LegacyAlias(models.Model):
    """An alias of one version, unique in its registered model."""

    registered_model = models.ForeignKey(
        LegacyRegisteredModel, on_delete=models.CASCADE, related_name="aliases"
    )
    model_version = models.ForeignKey(
        LegacyModelVersion, on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registered_model", "name"], name="legacy_alias_unique_in_model"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LegacyVersionTag(models.Model):
    model_version = models.ForeignKey(
        LegacyModelVersion, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["model_version", "name"], name="legacy_version_tag_unique"
            ),
            models.CheckConstraint(
                condition=Q(name__regex=TAG_PATTERN), name="legacy_version_tag_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LegacyProtectedAlias(models.Model):
    """An alias only the team's registry admins may put on or take off a version."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="legacy_protected")
    name = models.CharField(max_length=128)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="legacy_protected_alias_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class LegacyRegistryAdmin(models.Model):
    """A team member who administers the team's legacy registry (protected aliases, admins)."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="legacy_admins")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="legacy_admin_of"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="legacy_registry_admin_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} administers {self.team}'s model registry"


class LegacyAction(models.TextChoices):
    CREATE = "create", "Registered model created"
    LINK = "link", "Version linked"
    UNLINK = "unlink", "Version unlinked"
    ALIAS_ADD = "alias_add", "Alias added"
    ALIAS_MOVE = "alias_move", "Alias moved"
    ALIAS_REMOVE = "alias_remove", "Alias removed"
    TAG_ADD = "tag_add", "Tag added"
    TAG_REMOVE = "tag_remove", "Tag removed"
    DESCRIPTION = "description", "Description changed"


class LegacyEvent(models.Model):
    """One change in a registered model's history, as the legacy registry recorded it.

    `data` names what the change touched: `version` (a number), `alias`, `tag`, and for a move
    `from_version` and `to_version`.
    """

    registered_model = models.ForeignKey(
        LegacyRegisteredModel, on_delete=models.CASCADE, related_name="events"
    )
    action = models.CharField(max_length=16, choices=LegacyAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action__in=LegacyAction.values), name="legacy_event_action_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class MigrationStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    # Never stored: how a running migration reads once nothing renews its heartbeat.
    INTERRUPTED = "interrupted", "Interrupted"


# Something is running it, or will: a new start is refused, the registry stays read-only.
IN_PROGRESS = (MigrationStatus.QUEUED, MigrationStatus.RUNNING)


class LegacyMigrationQuerySet(models.QuerySet):
    def startable(self) -> LegacyMigrationQuerySet:
        """Those a start may take over: neither queued nor running with a live heartbeat."""
        live = Q(status=MigrationStatus.RUNNING, heartbeat_at__gte=_stale_before())
        return self.exclude(status=MigrationStatus.QUEUED).exclude(live)


def _stale_before() -> datetime:
    return timezone.now() - job_settings().lease


class LegacyMigration(models.Model):
    """Where one team's move from its legacy registry to a Registry custom registry stands.

    Whatever runs a migration (a worker's task, the command) renews `heartbeat_at` every few
    seconds; a running migration whose heartbeat is older than the tasks' lease lost its run,
    reads as interrupted, and may be started again, which resumes it.
    """

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="legacy_migration")
    status = models.CharField(
        max_length=16, choices=MigrationStatus.choices, default=MigrationStatus.NOT_STARTED
    )
    registry = models.ForeignKey(
        Registry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    models_total = models.PositiveIntegerField(default=0)
    models_done = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Why the last run failed, to fix it.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="When the run working on it last said it was alive."
    )

    objects = LegacyMigrationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=MigrationStatus.values)
                & ~Q(status=MigrationStatus.INTERRUPTED),
                name="legacy_migration_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team}: {self.get_status_display()}"

    @property
    def current_status(self) -> MigrationStatus:
        """The status as it truly is: running without a live heartbeat is interrupted."""
        if self.status == MigrationStatus.RUNNING and (
            self.heartbeat_at is None or self.heartbeat_at < _stale_before()
        ):
            return MigrationStatus.INTERRUPTED
        return MigrationStatus(self.status)

    @property
    def is_read_only(self) -> bool:
        """Once a migration starts, the legacy registry takes no more changes: what is
        migrated must not drift from what stays behind."""
        return self.status != MigrationStatus.NOT_STARTED
