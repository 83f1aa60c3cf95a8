"""Staff browse the legacy Model Registry here; once a team's migration starts, what it copied
takes no more changes, so the Registry never drifts from what stays behind.

What is locked, and when:
- while a migration run is queued or running, and once it is done: everything of the team;
- after a run that failed: the registered models it migrated, and the team's protected aliases and
  registry admins once the migrated registry (which copied them) exists.

What a failed run left behind stays open so staff can fix what the migration reported (rename a
model or an alias, correct a type, remove a version), then run it again. New registered models and
versions come only through the services, which number them and record their history; the history
and the migrations are records, never edited here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse

from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyMigration,
    LegacyModelTag,
    LegacyModelVersion,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    MigrationStatus,
)
from apps.lib.admin import OneByOneDeleteMixin, ReadOnlyAdminMixin
from apps.lib.validators import LATEST, validate_alias, validate_collection_name, validate_tag


def _migration(team_id: int) -> LegacyMigration | None:
    return LegacyMigration.objects.filter(team_id=team_id).first()


def _fixable(migration: LegacyMigration | None) -> bool | None:
    """True before any migration, False while one is under way or done, None after a failure
    (then it depends on what the failed run already copied)."""
    if migration is None or migration.status == MigrationStatus.NOT_STARTED:
        return True
    if migration.current_status in (MigrationStatus.FAILED, MigrationStatus.INTERRUPTED):
        return None
    return False


def team_is_locked(team_id: int) -> bool:
    """Whether the team's protected aliases and registry admins are fixed: they are copied when
    the migrated registry is made, and never read again."""
    migration = _migration(team_id)
    fixable = _fixable(migration)
    return not fixable if fixable is not None else migration.registry_id is not None


def model_is_locked(model: LegacyRegisteredModel) -> bool:
    """Whether a registered model and everything in it are fixed: migrated, or being migrated."""
    fixable = _fixable(_migration(model.team_id))
    return not fixable if fixable is not None else model.migrated_at is not None


READ_ONLY = (
    "Read-only: the migration of team {team}'s legacy Model Registry has started, and what it "
    "copied (or is copying) must not drift from what stays here."
)


class LockedMixin(OneByOneDeleteMixin):
    """Change and delete only what is not locked; say why on the page when it is."""

    def is_locked(self, obj: Any) -> bool:
        raise NotImplementedError

    def team_of(self, obj: Any):
        return obj.team

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self.is_locked(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and self.is_locked(obj):
            return False
        return super().has_delete_permission(request, obj)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        if obj is not None and request.method == "GET" and self.is_locked(obj):
            messages.warning(request, READ_ONLY.format(team=self.team_of(obj)))
        return super().change_view(request, object_id, form_url, extra_context)


class TeamSettingForm(forms.ModelForm):
    """Refuses a new protected alias or registry admin for a team whose list is locked."""

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        team = data.get("team")
        if team is not None and self.instance._state.adding and team_is_locked(team.pk):
            raise forms.ValidationError(READ_ONLY.format(team=team))
        return data


class ModelPartInline(admin.TabularInline):
    """A part of a registered model: changed or removed only while the model is not locked."""

    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # new parts come through the services, which record them

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and model_is_locked(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and model_is_locked(obj):
            return False
        return super().has_delete_permission(request, obj)


class LegacyModelVersionInline(ModelPartInline):
    """Shown in number order; removable (a migration may ask for it), never renumbered."""

    model = LegacyModelVersion
    fields = ["number", "version", "aliases_shown", "tags_shown", "linked_by", "linked_at"]
    readonly_fields = fields
    ordering = ["number"]

    def get_queryset(self, request: HttpRequest):
        return (
            super()
            .get_queryset(request)
            .select_related("version__artifact", "linked_by")
            .prefetch_related("aliases", "tags")
        )

    @admin.display(description="aliases")
    def aliases_shown(self, obj: LegacyModelVersion) -> str:
        return ", ".join(sorted(alias.name for alias in obj.aliases.all()))

    @admin.display(description="tags")
    def tags_shown(self, obj: LegacyModelVersion) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())


class AliasForm(forms.ModelForm):
    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name == LATEST and self.instance.name == LATEST:
            return name
        return validate_alias(name)


class LegacyAliasInline(ModelPartInline):
    """Renamed or removed (a migration may ask for it); never moved to another version here."""

    model = LegacyAlias
    form = AliasForm
    fields = ["name", "model_version"]
    readonly_fields = ["model_version"]

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("model_version__registered_model")


class TagForm(forms.ModelForm):
    def clean_name(self) -> str:
        return validate_tag(self.cleaned_data["name"])


class LegacyModelTagInline(ModelPartInline):
    model = LegacyModelTag
    form = TagForm

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is not None and not model_is_locked(obj)


class RegisteredModelForm(forms.ModelForm):
    def clean_name(self) -> str:
        return validate_collection_name(self.cleaned_data["name"])


@admin.register(LegacyRegisteredModel)
class LegacyRegisteredModelAdmin(LockedMixin, admin.ModelAdmin):
    form = RegisteredModelForm
    list_display = [
        "name",
        "team",
        "artifact_type",
        "version_count",
        "created_at",
        "migrated_to",
        "migrated_at",
    ]
    list_filter = ["team__organization", "team", "artifact_type"]
    list_select_related = ["team", "migrated_to__registry"]
    search_fields = ["name", "team__slug", "team__name"]
    fields = [
        "team",
        "name",
        "artifact_type",
        "description",
        "created_by",
        "created_at",
        "migrated_to",
        "migrated_at",
    ]
    # Who made it, when, and where it went are facts, not settings.
    readonly_fields = ["team", "created_by", "created_at", "migrated_to", "migrated_at"]
    inlines = [LegacyModelTagInline, LegacyModelVersionInline, LegacyAliasInline]

    def is_locked(self, obj: LegacyRegisteredModel) -> bool:
        return model_is_locked(obj)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).annotate(version_count=Count("versions"))

    @admin.display(description="versions", ordering="version_count")
    def version_count(self, obj: LegacyRegisteredModel) -> int:
        return obj.version_count

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # registered models come through the services, which record them

    def get_deleted_objects(self, objs, request: HttpRequest):
        # A registered model's history goes with it: deleting the model is allowed even though
        # nobody may delete a history entry on its own.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(LegacyEvent._meta.verbose_name)
        return deleted, counts, perms_needed, protected


class ProtectedAliasForm(TeamSettingForm):
    def clean_name(self) -> str:
        return validate_alias(self.cleaned_data["name"])


@admin.register(LegacyProtectedAlias)
class LegacyProtectedAliasAdmin(LockedMixin, admin.ModelAdmin):
    form = ProtectedAliasForm
    list_display = ["name", "team"]
    list_filter = ["team__organization", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "team__slug"]
    autocomplete_fields = ["team"]

    def is_locked(self, obj: LegacyProtectedAlias) -> bool:
        return team_is_locked(obj.team_id)


class RegistryAdminForm(TeamSettingForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        team, user = data.get("team"), data.get("user")
        if team and user and not team.memberships.filter(user=user).exists():
            self.add_error("user", f"This user is not a member of team {team}.")
        return data


@admin.register(LegacyRegistryAdmin)
class LegacyRegistryAdminAdmin(LockedMixin, admin.ModelAdmin):
    form = RegistryAdminForm
    list_display = ["user", "team"]
    list_filter = ["team__organization", "team"]
    list_select_related = ["user", "team"]
    search_fields = ["user__username", "team__slug"]
    autocomplete_fields = ["team", "user"]

    def is_locked(self, obj: LegacyRegistryAdmin) -> bool:
        return team_is_locked(obj.team_id)


@admin.register(LegacyEvent)
class LegacyEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The legacy history is a record: nobody adds, changes or deletes an entry."""

    list_display = ["created_at", "registered_model", "action", "actor", "data"]
    list_filter = ["action", "registered_model__team"]
    list_select_related = ["registered_model__team", "actor"]
    search_fields = ["registered_model__name", "actor__username"]
    date_hierarchy = "created_at"


@admin.register(LegacyMigration)
class LegacyMigrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Where each team's migration stands. It is started and resumed from the migration view or
    `manage.py migrate_legacy_registry`, never edited: a status set back by hand would reopen a
    migrated registry to changes."""

    list_display = [
        "team",
        "status",
        "registry",
        "models_done",
        "models_total",
        "started_by",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "team__organization"]
    list_select_related = ["team", "registry", "started_by"]
    search_fields = ["team__slug", "team__name"]
