"""From an audit event to the executions it sets off, in the transaction of the change.

Each automation watching the event's place (its collection, its registry, its organization)
whose event and regex match records one execution, and its delivery task is enqueued in the
same transaction: the database task queue makes both durable with the change, or neither, and a
worker takes the task only once it commits. Rate limit and cooldown are applied here, so the
history says which events were skipped and why.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.automations.delivery import enqueue_delivery, rendered_payload
from apps.automations.models import (
    ALIAS_EVENTS,
    EVENT_OF_ACTION,
    TAG_EVENTS,
    Automation,
    Event,
    Execution,
    ExecutionStatus,
)


def on_audit_event(sender: Any, event: AuditEvent, **kwargs: Any) -> None:
    kind = EVENT_OF_ACTION.get(event.action)
    if kind is None:
        return
    watching = Automation.objects.watching(
        organization_id=event.organization_id,
        registry_id=event.registry_id,
        collection_id=event.collection_id,
    ).filter(event=kind, paused=False)
    for automation in watching.select_related("webhook"):
        if matches(automation, event):
            record_execution(automation, event, kind)


def matches(automation: Automation, event: AuditEvent) -> bool:
    """Whether the event's alias or tag satisfies the automation's regex (searched, so
    `^production$` is exact and `prod` matches anywhere)."""
    if automation.event in ALIAS_EVENTS and automation.alias_regex:
        return re.search(automation.alias_regex, event.data.get("alias", "")) is not None
    if automation.event in TAG_EVENTS and automation.tag_regex:
        return re.search(automation.tag_regex, event.data.get("tag", "")) is not None
    return True


def record_execution(automation: Automation, event: AuditEvent, kind: Event) -> Execution:
    execution = Execution(
        automation=automation,
        audit_event=event,
        event=kind,
        actor_name=event.actor_name,
        target=event.target,
    )
    if reason := _held_back(automation):
        execution.status = ExecutionStatus.SKIPPED
        execution.error = reason
        execution.finished_at = timezone.now()
        execution.save()
        return execution
    execution.payload = rendered_payload(automation, event_context(event, kind), _metadata(event))
    execution.save()
    enqueue_delivery(execution)
    return execution


def _held_back(automation: Automation) -> str:
    """Why the rate limit or the cooldown holds this execution back, or '' when neither does."""
    now = timezone.now()
    sent = automation.executions.exclude(status=ExecutionStatus.SKIPPED)
    if automation.cooldown_seconds:
        last = sent.order_by("-created_at").values_list("created_at", flat=True).first()
        if last is not None and now - last < timedelta(seconds=automation.cooldown_seconds):
            return (
                f"Skipped: within the {automation.cooldown_seconds} s cooldown after the "
                "last execution."
            )
    in_last_hour = sent.filter(created_at__gt=now - timedelta(hours=1)).count()
    if in_last_hour >= automation.rate_limit_per_hour:
        return (
            f"Skipped: the rate limit of {automation.rate_limit_per_hour} executions an hour "
            "was reached."
        )
    return ""


def event_context(event: AuditEvent, kind: Event) -> dict[str, str]:
    """The template variables an event provides (reference §11.6), and the page it concerns."""
    registry, collection, version = event.registry, event.collection, event.version
    return {
        "event_type": kind.value,
        "event_author": event.actor_name,
        "entity_name": event.organization.slug,
        "project_name": registry.slug if registry else "",
        "artifact_collection_name": collection.name if collection else "",
        "artifact_version": str(version.uid) if version else "",
        "artifact_version_string": event.target,
        "alias": event.data.get("alias", ""),
        "tag": event.data.get("tag", ""),
        "page_url": _page_url(event),
    }


def _page_url(event: AuditEvent) -> str:
    org = event.organization.slug
    if event.collection is not None:
        # The collection's page lists its versions and its history, unlinked ones included.
        path = reverse(
            "registries:collection",
            args=[org, event.registry.slug, event.collection.name],
        )
    elif event.registry is not None:
        path = reverse("registries:registry", args=[org, event.registry.slug])
    else:
        path = reverse("registries:landing", args=[org])
    return settings.SITE_URL.rstrip("/") + path


def _metadata(event: AuditEvent) -> dict[str, Any]:
    return event.version.metadata if event.version is not None else {}
