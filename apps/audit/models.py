"""The append-only audit log: what changed, who changed it and when.

Every app writes it, so it sits at the ground: it refers to the models it records by name
("accounts.Organization"), never by import.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from apps.audit.signals import audit_event_recorded


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
    AUTOMATION_CREATE = "automation.create", "Automation created"
    AUTOMATION_UPDATE = "automation.update", "Automation changed"
    AUTOMATION_DELETE = "automation.delete", "Automation deleted"
    WEBHOOK_CREATE = "webhook.create", "Webhook created"
    WEBHOOK_UPDATE = "webhook.update", "Webhook changed"
    WEBHOOK_DELETE = "webhook.delete", "Webhook deleted"
    SECRET_SET = "secret.set", "Team secret set"
    SECRET_REMOVE = "secret.remove", "Team secret removed"


# Event data shown as "<key> <value>" in an event's details, in this order.
NAMED_DETAILS = (
    "alias", "tag", "path", "source", "type", "visibility", "baseline_role", "metric", "direction",
)  # fmt: skip


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


# What someone read rather than changed: the audit log keeps these, a collection's or version's
# history (every link, unlink, alias and tag change) leaves them out.
READ_ACTIONS = (AuditAction.DOWNLOAD,)


class AuditEventQuerySet(models.QuerySet):
    def changes(self) -> AuditEventQuerySet:
        """The changes only, without the reads: what a collection's or version's history lists."""
        return self.exclude(action__in=READ_ACTIONS)

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
        "accounts.Organization", on_delete=models.PROTECT, related_name="audit_events"
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
        "artifacts.ArtifactVersion",
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
        # Its table from when it lived in apps.lineage, where the PostgreSQL trigger that keeps
        # it append-only was made (apps/lineage/migrations/0002_audit_event_append_only.py).
        db_table = "lineage_auditevent"
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
        return describe(self.action, self.data)

    @classmethod
    def record(
        cls,
        action: AuditAction,
        *,
        organization: Any,
        actor: Any,
        target: str,
        registry: Any = None,
        collection: Any = None,
        version: Any = None,
        **data: Any,
    ) -> AuditEvent:
        """Write one event; call it inside the transaction of the change it describes."""
        is_user = actor is not None and getattr(actor, "is_authenticated", False)
        event = cls.objects.create(
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
        audit_event_recorded.send(cls, event=event)
        return event


def describe(action: str, data: dict[str, Any]) -> str:
    """An event's data in words (`staging moved from v1 to v2`, `tag vision`): the one wording
    of history entries, the Registry's and the legacy Model Registry's alike."""
    if "from_version" in data:
        return f"{data['alias']} moved from {data['from_version']} to {data['to_version']}"
    if "grantee" in data:
        role = f" as {data['role']}" if action == AuditAction.GRANT_SET else ""
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
