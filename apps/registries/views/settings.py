"""A registry's settings page: everyone who sees the registry reads it; its admins change it."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.models import RegistryRole
from apps.accounts.policy import Action, can, check, effective_role, registry_members, role_allows
from apps.registries import services
from apps.registries.forms import (
    AcceptedTypesForm,
    AccessForm,
    ConfirmNameForm,
    GrantRoleForm,
    MemberForm,
    ProtectedAliasForm,
    RegistryDetailsForm,
    TeamGrantForm,
    add_service_error,
)
from apps.registries.lookups import registry_for
from apps.registries.models import Registry


def _settings_forms(registry: Registry, data=None, which: str = "") -> dict:
    """Every settings form; only the one posted (`which`) is bound to the data."""
    organization = registry.organization

    def bound(name: str):
        return data if which == name else None

    return {
        "details_form": RegistryDetailsForm(
            bound("details"), initial={"name": registry.name, "description": registry.description}
        ),
        "access_form": AccessForm(
            bound("access"),
            initial={"visibility": registry.visibility, "baseline_role": registry.baseline_role},
        ),
        "types_form": AcceptedTypesForm(bound("types")),
        "protected_form": ProtectedAliasForm(bound("protected")),
        "member_form": MemberForm(bound("member"), organization=organization),
        "team_form": TeamGrantForm(bound("team"), organization=organization),
        "delete_form": ConfirmNameForm(bound("delete"), expected=registry.name),
    }


def _settings_context(request: HttpRequest, registry: Registry, forms: dict) -> dict:
    role = effective_role(request.user, registry)
    return {
        "organization": registry.organization,
        "registry": registry,
        "members": registry_members(registry),
        "team_grants": registry.grants.filter(team__isnull=False).select_related("team"),
        "protected": registry.protected_aliases.all(),
        "role_choices": RegistryRole.choices,
        "can_admin": role_allows(role, Action.EDIT_REGISTRY),
        "can_delete": can(request.user, Action.DELETE_REGISTRY, registry),
        **forms,
    }


def _apply_settings_form(request: HttpRequest, registry: Registry, which: str, forms: dict):
    """Carry out one posted settings form; returns the form whose errors to show, or None."""
    actor = request.user
    if which == "role":
        form = GrantRoleForm(request.POST)
        if form.is_valid():
            grant = get_object_or_404(registry.grants, pk=form.cleaned_data["grant"])
            services.set_grant(
                actor=actor,
                registry=registry,
                role=form.cleaned_data["role"],
                user=grant.user,
                team=grant.team,
            )
        return None
    if which == "remove":
        grant = get_object_or_404(registry.grants, pk=request.POST.get("grant"))
        services.remove_grant(actor=actor, grant=grant)
        return None
    if which == "unprotect":
        services.remove_protected_alias(
            actor=actor, registry=registry, name=request.POST.get("alias", "")
        )
        return None
    form = forms.get(f"{which}_form")
    if form is None:
        raise Http404("No such settings form.")
    if not form.is_valid():
        return form
    data = form.cleaned_data
    try:
        if which == "details":
            services.update_registry_details(actor=actor, registry=registry, **data)
        elif which == "access":
            services.set_access(
                actor=actor,
                registry=registry,
                visibility=data["visibility"],
                baseline_role=data["baseline_role"] or None,
            )
        elif which == "types":
            services.add_accepted_types(actor=actor, registry=registry, **data)
        elif which == "protected":
            services.add_protected_alias(actor=actor, registry=registry, name=data["alias"])
        elif which == "member":
            services.set_grant(actor=actor, registry=registry, role=data["role"], user=data["who"])
        elif which == "team":
            services.set_grant(actor=actor, registry=registry, role=data["role"], team=data["team"])
        elif which == "delete":
            services.delete_registry(actor=actor, registry=registry)
    except ValidationError as error:
        add_service_error(form, error)
        return form
    return None


@require_http_methods(["GET", "POST"])
def registry_settings(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Everyone who sees the registry sees its settings; its admins change them."""
    target = registry_for(request.user, org, registry)
    if request.method == "GET":
        return render(
            request,
            "registries/registry_settings.html",
            _settings_context(request, target, _settings_forms(target)),
        )
    which = request.POST.get("form", "")
    if which != "delete":
        check(request.user, Action.EDIT_REGISTRY, target)
    forms = _settings_forms(target, request.POST, which)
    failed = _apply_settings_form(request, target, which, forms)
    if failed is None:
        if which == "delete":
            messages.success(request, f"Deleted registry {target.name}.")
            return redirect("registries:landing", org=org)
        messages.success(request, "Settings saved.")
        target.refresh_from_db()
        return redirect("registries:settings", org=org, registry=target.slug)
    context = _settings_context(request, target, forms)
    return render(request, "registries/registry_settings.html", context, status=400)
