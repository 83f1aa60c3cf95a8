"""Staff look at automations here, and may pause or delete a misbehaving one (written to the
audit log like any other change); everything else goes through the pages, whose services check
regexes, payloads and addresses. A secret's value and a webhook's full URL are never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from apps.audit.models import AuditAction, AuditEvent
from apps.automations.models import Automation, Execution, TeamSecret, Webhook
from apps.automations.services import automation_path
from apps.lib.admin import OneByOneDeleteMixin, ReadOnlyAdminMixin


@admin.register(TeamSecret)
class TeamSecretAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "team", "created_by", "updated_at"]
    list_select_related = ["team", "created_by"]
    search_fields = ["name", "team__name"]
    fields = ["name", "team", "created_by", "created_at", "updated_at"]  # never the value
    readonly_fields = fields


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "team", "kind", "masked_url"]
    list_select_related = ["team"]
    list_filter = ["kind"]
    search_fields = ["name", "team__name"]
    fields = [
        "name",
        "team",
        "kind",
        "masked_url",
        "access_token",
        "signing_secret",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="URL")
    def masked_url(self, webhook: Webhook) -> str:
        return webhook.masked_url


@admin.register(Automation)
class AutomationAdmin(OneByOneDeleteMixin, admin.ModelAdmin):
    """Only `paused` changes here."""

    list_display = ["name", "organization", "scope_label", "event", "webhook", "paused"]
    list_select_related = ["organization", "registry", "collection", "webhook__team"]
    list_filter = ["paused", "event"]
    search_fields = ["name"]
    fields = [
        "name",
        "organization",
        "registry",
        "collection",
        "event",
        "alias_regex",
        "tag_regex",
        "webhook",
        "payload",
        "rate_limit_per_hour",
        "cooldown_seconds",
        "paused",
        "description",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [name for name in fields if name != "paused"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _audit(self, action: AuditAction, request: HttpRequest, obj: Automation, **data: Any):
        AuditEvent.record(
            action,
            organization=obj.organization,
            actor=request.user,
            target=automation_path(obj),
            registry=obj.registry,
            collection=obj.collection,
            via="admin",
            **data,
        )

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Automation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "paused" in form.changed_data:
            field = "paused" if obj.paused else "resumed"
            self._audit(AuditAction.AUTOMATION_UPDATE, request, obj, field=field)

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Automation) -> None:
        self._audit(AuditAction.AUTOMATION_DELETE, request, obj)
        super().delete_model(request, obj)


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What was sent and what came back: a record, never edited."""

    list_display = [
        "created_at",
        "automation",
        "event",
        "actor_name",
        "status",
        "attempts",
        "response_status",
    ]
    list_select_related = ["automation"]
    list_filter = ["status", "event"]
    search_fields = ["automation__name", "actor_name", "target"]
    date_hierarchy = "created_at"
