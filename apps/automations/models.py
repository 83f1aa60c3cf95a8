"""Automations: what registry events set off (a webhook or a Slack message), and every execution.

A team keeps its destinations (`Webhook`, of kind webhook or Slack) and the secrets they use
(`TeamSecret`), both encrypted at rest. An `Automation` watches one event in a scope (the
organization, a registry with the collections it gets later, or one collection), narrowed by an
alias or tag regex, and sends to one destination. Each event it matches becomes an `Execution`,
written in the transaction of the change and delivered by the background worker after it
commits, at least once, under the execution's `uid` (receivers dedupe on it).
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.accounts.models import Organization, Team
from apps.audit.models import AuditAction
from apps.automations.crypto import EncryptedTextField
from apps.registries.models import Collection, Registry


class Event(models.TextChoices):
    """What an automation watches, named as W&B's API names them (`${event_type}`)."""

    LINK = "LINK_ARTIFACT", "A version is linked to a collection"
    UNLINK = "UNLINK_ARTIFACT", "A version is unlinked"
    ALIAS_ADD = "ADD_ARTIFACT_ALIAS", "An alias is added or moved to a version"
    ALIAS_REMOVE = "REMOVE_ARTIFACT_ALIAS", "An alias is removed"
    VERSION_TAG_ADD = "ADD_ARTIFACT_TAG", "A tag is added to a version"
    VERSION_TAG_REMOVE = "REMOVE_ARTIFACT_TAG", "A tag is removed from a version"
    COLLECTION_TAG_ADD = "ADD_COLLECTION_TAG", "A tag is added to a collection"
    COLLECTION_TAG_REMOVE = "REMOVE_COLLECTION_TAG", "A tag is removed from a collection"
    VERSION_CREATE = "CREATE_ARTIFACT", "A new source version is logged"


# The audit log's actions behind each event; an alias moved is an alias added to its new version.
EVENT_OF_ACTION = {
    AuditAction.LINK: Event.LINK,
    AuditAction.UNLINK: Event.UNLINK,
    AuditAction.ALIAS_ADD: Event.ALIAS_ADD,
    AuditAction.ALIAS_MOVE: Event.ALIAS_ADD,
    AuditAction.ALIAS_REMOVE: Event.ALIAS_REMOVE,
    AuditAction.VERSION_TAG_ADD: Event.VERSION_TAG_ADD,
    AuditAction.VERSION_TAG_REMOVE: Event.VERSION_TAG_REMOVE,
    AuditAction.COLLECTION_TAG_ADD: Event.COLLECTION_TAG_ADD,
    AuditAction.COLLECTION_TAG_REMOVE: Event.COLLECTION_TAG_REMOVE,
    AuditAction.VERSION_LOG: Event.VERSION_CREATE,
}
ALIAS_EVENTS = {Event.ALIAS_ADD, Event.ALIAS_REMOVE}
TAG_EVENTS = {
    Event.VERSION_TAG_ADD,
    Event.VERSION_TAG_REMOVE,
    Event.COLLECTION_TAG_ADD,
    Event.COLLECTION_TAG_REMOVE,
}


class TeamSecret(models.Model):
    """A value a team's webhooks send (an access token, a signing secret), encrypted at rest and
    never shown again once saved; payload templates name it as ${NAME}."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=64)
    value = EncryptedTextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="automations_secret_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"


class WebhookKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    SLACK = "slack", "Slack incoming webhook"


class Webhook(models.Model):
    """Where a team's automations send: a webhook endpoint, or a Slack channel's incoming-webhook
    URL. The URL is encrypted at rest (Slack's carries its credential) and shown by host only."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=16, choices=WebhookKind.choices, default=WebhookKind.WEBHOOK)
    url = EncryptedTextField()
    # Sent as `Authorization: Bearer`, and as ${ACCESS_TOKEN} in payloads.
    access_token = models.ForeignKey(
        TeamSecret, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Signs each body: W&B's X-Wandb-Signature and the Standard Webhooks headers.
    signing_secret = models.ForeignKey(
        TeamSecret, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="automations_webhook_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"

    @property
    def masked_url(self) -> str:
        """The URL as pages show it: scheme and host only, since its path may be a credential
        (Slack's is)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


class AutomationQuerySet(models.QuerySet):
    def watching(self, *, organization_id: int, registry_id: int | None, collection_id: int | None):
        """Automations, paused ones included, whose scope holds an event at this place."""
        scopes = Q(registry__isnull=True, collection__isnull=True)
        if registry_id is not None:
            scopes |= Q(registry_id=registry_id, collection__isnull=True)
        if collection_id is not None:
            scopes |= Q(collection_id=collection_id)
        return self.filter(scopes, organization_id=organization_id)


class Automation(models.Model):
    """An event in a scope, narrowed by regexes, and what it sends where.

    The scope is the collection when set, else the registry (its collections, later ones
    included), else the whole organization.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="automations"
    )
    registry = models.ForeignKey(
        Registry, on_delete=models.CASCADE, null=True, blank=True, related_name="automations"
    )
    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, null=True, blank=True, related_name="automations"
    )
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    event = models.CharField(max_length=32, choices=Event.choices)
    alias_regex = models.CharField(max_length=256, blank=True)
    tag_regex = models.CharField(max_length=256, blank=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.PROTECT, related_name="automations")
    # For a webhook: a JSON template with ${variables}; Slack messages are written by the product.
    payload = models.TextField(blank=True)
    paused = models.BooleanField(default=False)
    # At most this many executions an hour, and none sooner than the cooldown after the last:
    # the rest are recorded as skipped, saying why.
    rate_limit_per_hour = models.PositiveIntegerField(default=60)
    cooldown_seconds = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AutomationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="automations_automation_name_unique"
            ),
            models.CheckConstraint(
                condition=Q(collection__isnull=True) | Q(registry__isnull=False),
                name="automations_collection_in_registry",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_label(self) -> str:
        if self.collection_id:
            return f"collection {self.collection.name}"
        if self.registry_id:
            return f"registry {self.registry.name}"
        return "organization"


class ExecutionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class Execution(models.Model):
    """One event an automation matched (or a replay of one), and how its delivery went.

    `uid` goes out as `webhook-id`: the same across retries, so a receiver can drop repeats.
    The payload is kept as sent, with secret values masked.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="executions")
    # The audit event that set it off (soft: the log outlives what it names).
    audit_event = models.ForeignKey(
        "audit.AuditEvent",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    event = models.CharField(max_length=32, choices=Event.choices)
    actor_name = models.CharField(max_length=150, blank=True)
    target = models.CharField(max_length=512)
    # A replay shares its original's audit event: with replay_of set to null (as SET_NULL does,
    # even when both are being deleted) it would read as a second original to the
    # once-per-event constraint below. So a replay goes with its original.
    replay_of = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replays"
    )
    status = models.CharField(
        max_length=16, choices=ExecutionStatus.choices, default=ExecutionStatus.PENDING
    )
    payload = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["automation", "-created_at", "-id"])]
        constraints = [
            # One execution per automation and event, however often the event is announced.
            models.UniqueConstraint(
                fields=["automation", "audit_event"],
                condition=Q(replay_of__isnull=True, audit_event__isnull=False),
                name="automations_execution_once_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.automation} {self.event} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status != ExecutionStatus.PENDING
