from __future__ import annotations

from django.contrib import admin

from apps.lib.admin import ReadOnlyAdminMixin, ReadOnlyInline
from apps.lineage.models import AuditEvent, Run, RunInput, RunOutput


class RunInputInline(ReadOnlyInline):
    model = RunInput
    fields = ["version", "created_at"]
    readonly_fields = fields


class RunOutputInline(ReadOnlyInline):
    model = RunOutput
    fields = ["version", "created_at"]
    readonly_fields = fields


@admin.register(Run)
class RunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "project", "job_type", "state", "created_by", "started_at"]
    list_filter = ["state", "job_type"]
    list_select_related = ["project__team", "created_by"]
    search_fields = ["name", "run_id", "project__name"]
    inlines = [RunInputInline, RunOutputInline]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log is append-only: nobody adds, changes or deletes an entry, staff included."""

    list_display = ["created_at", "organization", "actor_name", "action", "target"]
    list_filter = ["action", "organization"]
    list_select_related = ["organization"]
    search_fields = ["actor_name", "target"]
    date_hierarchy = "created_at"
