"""Runs and the versions they use and log (lineage), and the append-only audit log."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.accounts.models import Organization
from apps.artifacts.models import ArtifactVersion, Project


class RunState(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CRASHED = "crashed", "Crashed"


class Run(models.Model):
    """One execution of code in a project: a training job, an evaluation, a preprocessing step."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="runs")
    run_id = models.CharField(max_length=64, default="", help_text="Stable id used in URLs.")
    name = models.CharField(max_length=128)
    job_type = models.CharField(max_length=64, blank=True)
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


class AuditAction(models.TextChoices):
    ORGANIZATION_CREATE = "organization.create", "Organization created"
    REGISTRY_CREATE = "registry.create", "Registry created"
    REGISTRY_UPDATE = "registry.update", "Registry changed"
    REGISTRY_DELETE = "registry.delete", "Registry deleted"
    REGISTRY_STAR = "registry.star", "Registry starred"
    REGISTRY_UNSTAR = "registry.unstar", "Registry unstarred"
    GRANT_SET = "grant.set", "Role granted"
    GRANT_REMOVE = "grant.remove", "Role removed"
    PROTECTED_ALIAS_ADD = "protected_alias.add", "Protected alias added"
    PROTECTED_ALIAS_REMOVE = "protected_alias.remove", "Protected alias removed"
    COLLECTION_CREATE = "collection.create", "Collection created"
    COLLECTION_UPDATE = "collection.update", "Collection changed"
    COLLECTION_DELETE = "collection.delete", "Collection deleted"
    COLLECTION_TAG_ADD = "collection.tag_add", "Collection tag added"
    COLLECTION_TAG_REMOVE = "collection.tag_remove", "Collection tag removed"
    VERSION_LOG = "version.log", "Version logged"
    VERSION_UPDATE = "version.update", "Version changed"
    VERSION_TAG_ADD = "version.tag_add", "Version tag added"
    VERSION_TAG_REMOVE = "version.tag_remove", "Version tag removed"
    LINK = "link.create", "Version linked"
    UNLINK = "link.delete", "Version unlinked"
    ALIAS_ADD = "alias.add", "Alias added"
    ALIAS_MOVE = "alias.move", "Alias moved"
    ALIAS_REMOVE = "alias.remove", "Alias removed"
    DOWNLOAD = "version.download", "Files downloaded"
    MIGRATE = "collection.migrate", "Migrated from the legacy Model Registry"


# Event data shown as "<key> <value>" in an event's details, in this order.
NAMED_DETAILS = (
    "alias", "tag", "path", "source", "type", "visibility", "baseline_role", "metric", "direction",
)  # fmt: skip


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """What changed, who changed it and when. Never edited or deleted once written.

    References are soft (no database constraint) and names are copied into `target`, so an
    event still reads correctly after its registry, collection or actor is gone.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="audit_events"
    )
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    registry = models.ForeignKey(
        "registries.Registry",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    collection = models.ForeignKey(
        "registries.Collection",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.ForeignKey(
        ArtifactVersion,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    target = models.CharField(max_length=512, help_text="The path of what changed, at the time.")
    data = models.JSONField(default=dict, blank=True)
    # When the change happened: now, except for history carried over from the legacy registry.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"]),
            models.Index(fields=["collection", "-created_at", "-id"]),
            models.Index(fields=["version", "-created_at", "-id"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")

    @property
    def details(self) -> str:
        """What the event's data says, in words: which alias moved from where to where, etc."""
        data = self.data
        if "from_version" in data:
            return f"{data['alias']} moved from {data['from_version']} to {data['to_version']}"
        if "grantee" in data:
            role = f" as {data['role']}" if self.action == AuditAction.GRANT_SET else ""
            return f"{data['kind']} {data['grantee']}{role}"
        parts = []
        for key in NAMED_DETAILS:
            if key in data:
                parts.append(f"{key.replace('_', ' ')} {data[key]}")
        for key in ("field", "fields", "added_types", "removed_aliases"):
            if data.get(key):
                value = data[key]
                listed = ", ".join(value) if isinstance(value, list) else value
                parts.append(f"{key.replace('_', ' ')}: {listed}")
        return "; ".join(parts)

    @classmethod
    def record(
        cls,
        action: AuditAction,
        *,
        organization: Organization,
        actor: Any,
        target: str,
        registry: Any = None,
        collection: Any = None,
        version: ArtifactVersion | None = None,
        **data: Any,
    ) -> AuditEvent:
        """Write one event; call it inside the transaction of the change it describes."""
        is_user = actor is not None and getattr(actor, "is_authenticated", False)
        return cls.objects.create(
            organization=organization,
            action=action,
            actor=actor if is_user else None,
            actor_name=actor.get_username() if is_user else "",
            registry=registry,
            collection=collection,
            version=version,
            target=target,
            data=data,
        )
