from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.http import HttpRequest

from apps.accounts.forms import AdminSignInForm
from apps.accounts.models import Organization, OrganizationMembership, Team, TeamMembership, User
from apps.accounts.services import set_up_organization

# The admin's sign-in is throttled by the backend like any other; this form says so.
admin.site.login_form = AdminSignInForm
admin.site.register(User, UserAdmin)


class OrganizationMembershipInline(admin.TabularInline):
    model = OrganizationMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrganizationMembershipInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Paths and URLs are built from the slug: changing it would break every client's paths.
        return ["slug"] if obj else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: Any = None) -> dict:
        return {} if obj else self.prepopulated_fields

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            set_up_organization(obj, actor=request.user)


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "slug"]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    search_fields = ["name", "slug", "organization__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMembershipInline]
