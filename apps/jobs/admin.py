from django.contrib import admin
from django.http import HttpRequest

from apps.jobs.models import Worker


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    """The workers running now, and those that died and no live worker has noticed yet."""

    list_display = ["worker_id", "hostname", "pid", "started_at", "heartbeat_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Worker | None = None) -> bool:
        return False
