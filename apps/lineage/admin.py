from __future__ import annotations

from django.contrib import admin

from apps.lib.admin import ReadOnlyAdminMixin, ReadOnlyInline
from apps.lineage.models import Run, RunInput, RunOutput


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
