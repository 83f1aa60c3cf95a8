"""Staff manage registries and their grants here; nothing here can break an invariant.

Core registries keep their name, slug, description and visibility and cannot be deleted; accepted
types only grow; aliases and links are shown, never edited (so there is never a second `latest`).
Changes to grants and protected aliases are written to the audit log like any other.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from apps.audit.models import AuditAction, AuditEvent
from apps.lib.admin import OneByOneDeleteMixin, ReadOnlyInline
from apps.lib.validators import validate_alias, validate_artifact_type, validate_registry_name
from apps.registries.models import (
    Alias,
    Collection,
    Link,
    ProtectedAlias,
    Registry,
    RegistryArtifactType,
    RegistryGrant,
)
from apps.registries.paths import collection_path, registry_path

CORE_FIXED_FIELDS = ["name", "description", "visibility"]


def audit_registry(action: AuditAction, request: HttpRequest, registry: Registry, **data: Any):
    AuditEvent.record(
        action,
        organization=registry.organization,
        actor=request.user,
        target=registry_path(registry),
        registry=registry,
        via="admin",
        **data,
    )


class GrantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        organization = self.instance.organization
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            user, team = data.get("user"), data.get("team")
            if bool(user) == bool(team):
                form.add_error(None, "Choose a user or a team, not both.")
            elif team and team.organization_id != organization.pk:
                form.add_error("team", f"This team is not in {organization}.")
            elif user and not organization.memberships.filter(user=user).exists():
                form.add_error("user", f"This user is not a member of {organization}.")


class RegistryGrantInline(admin.TabularInline):
    model = RegistryGrant
    formset = GrantFormSet
    extra = 1
    autocomplete_fields = ["user", "team"]


class AcceptedTypeForm(forms.ModelForm):
    def clean_name(self) -> str:
        return validate_artifact_type(self.cleaned_data["name"])


class AcceptedTypeInline(admin.TabularInline):
    """Add-only: saved types show read-only and cannot be deleted."""

    model = RegistryArtifactType
    form = AcceptedTypeForm
    verbose_name = "accepted artifact type"
    extra = 1
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProtectedAliasForm(forms.ModelForm):
    def clean_name(self) -> str:
        return validate_alias(self.cleaned_data["name"])


class ProtectedAliasInline(admin.TabularInline):
    """Added or removed, never renamed, so each change is one audit event."""

    model = ProtectedAlias
    form = ProtectedAliasForm
    extra = 1

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RegistryForm(forms.ModelForm):
    def clean_name(self) -> str:
        return validate_registry_name(self.cleaned_data["name"])


@admin.register(Registry)
class RegistryAdmin(OneByOneDeleteMixin, admin.ModelAdmin):
    form = RegistryForm
    list_display = ["name", "organization", "is_core", "visibility", "baseline_role"]
    list_filter = ["organization", "is_core", "visibility"]
    list_select_related = ["organization"]
    search_fields = ["name", "slug", "organization__name"]
    readonly_fields = ["is_core", "created_by", "created_at", "updated_at"]
    inlines = [RegistryGrantInline, AcceptedTypeInline, ProtectedAliasInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return list(self.readonly_fields)
        # A registry never changes organization or address; core ones keep their identity;
        # and "all types" cannot turn back into a list, which would take types away.
        fixed = ["organization", "slug"]
        if obj.is_core:
            fixed += CORE_FIXED_FIELDS
        if obj.accepts_all_types:
            fixed.append("accepts_all_types")
        return [*fixed, *self.readonly_fields]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict:
        return {} if obj else {"slug": ["name"]}

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_core:
            return False
        return super().has_delete_permission(request, obj)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Registry, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if not change:
            audit_registry(AuditAction.REGISTRY_CREATE, request, obj)
        elif form.changed_data:
            audit_registry(AuditAction.REGISTRY_UPDATE, request, obj, fields=form.changed_data)

    @transaction.atomic
    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        registry = form.instance
        super().save_formset(request, form, formset, change)
        removed = formset.deleted_objects
        if formset.model is RegistryGrant:
            for grant in removed:
                audit_registry(
                    AuditAction.GRANT_REMOVE,
                    request,
                    registry,
                    grantee=str(grant.user or grant.team),
                )
            for grant in [*formset.new_objects, *(obj for obj, _ in formset.changed_objects)]:
                audit_registry(
                    AuditAction.GRANT_SET,
                    request,
                    registry,
                    grantee=str(grant.user or grant.team),
                    role=grant.role,
                )
        elif formset.model is ProtectedAlias:
            for alias in formset.new_objects:
                audit_registry(AuditAction.PROTECTED_ALIAS_ADD, request, registry, alias=alias.name)
            for alias in removed:
                audit_registry(
                    AuditAction.PROTECTED_ALIAS_REMOVE, request, registry, alias=alias.name
                )
        elif formset.model is RegistryArtifactType:
            for accepted in formset.new_objects:
                audit_registry(
                    AuditAction.REGISTRY_UPDATE, request, registry, added_type=accepted.name
                )

    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Registry) -> None:
        if obj.is_core:
            raise ValidationError("Core registries cannot be deleted.")
        audit_registry(AuditAction.REGISTRY_DELETE, request, obj, name=obj.name)
        super().delete_model(request, obj)


class LinkInline(ReadOnlyInline):
    model = Link
    fields = ["number", "version", "linked_by", "linked_at", "unlinked_at"]
    readonly_fields = fields
    ordering = ["-number"]


class AliasInline(ReadOnlyInline):
    model = Alias
    fields = ["name", "link"]
    readonly_fields = fields


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    """Collections are changed through the app; here staff can look, and fix a description."""

    list_display = ["name", "registry", "artifact_type", "updated_at"]
    list_filter = ["registry__organization", "artifact_type"]
    list_select_related = ["registry__organization"]
    search_fields = ["name", "registry__name"]
    fields = ["registry", "name", "artifact_type", "description", "created_by", "created_at"]
    readonly_fields = ["registry", "name", "artifact_type", "created_by", "created_at"]
    inlines = [AliasInline, LinkInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting goes through the app, where the protected-alias rule applies.
        return False

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Collection, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if form.changed_data:
            AuditEvent.record(
                AuditAction.COLLECTION_UPDATE,
                organization=obj.registry.organization,
                actor=request.user,
                target=collection_path(obj),
                registry=obj.registry,
                collection=obj,
                fields=form.changed_data,
                via="admin",
            )
