from __future__ import annotations

from django.contrib import admin

from apps.artifacts.models import Artifact, ArtifactVersion, Blob, ManifestEntry, Project
from apps.lib.admin import ReadOnlyAdminMixin, ReadOnlyInline


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "created_at"]
    list_filter = ["team__organization"]
    list_select_related = ["team__organization"]
    search_fields = ["name", "team__name"]
    autocomplete_fields = ["team"]


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "artifact_type", "project", "next_version_number"]
    list_filter = ["artifact_type"]
    list_select_related = ["project__team"]
    search_fields = ["name", "project__name"]


class ManifestEntryInline(ReadOnlyInline):
    model = ManifestEntry
    fields = ["path", "size", "blob"]
    readonly_fields = fields


@admin.register(ArtifactVersion)
class ArtifactVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Versions are immutable: staff may look, never change."""

    list_display = ["__str__", "state", "size", "file_count", "created_by", "created_at"]
    list_filter = ["state", "artifact__artifact_type"]
    list_select_related = ["artifact__project__team", "created_by"]
    search_fields = ["artifact__name", "digest"]
    inlines = [ManifestEntryInline]


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["sha256", "size", "created_at"]
    search_fields = ["sha256"]
