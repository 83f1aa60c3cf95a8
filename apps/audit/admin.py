from __future__ import annotations

from django.contrib import admin

from apps.audit.models import AuditEvent
from apps.lib.admin import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit log is append-only: nobody adds, changes or deletes an entry, staff included."""

    list_display = ["created_at", "organization", "actor_name", "action", "target"]
    list_filter = ["action", "organization"]
    list_select_related = ["organization"]
    search_fields = ["actor_name", "target"]
    date_hierarchy = "created_at"
