"""The landing page of an organization's Registry: registries, stars, creation. Search is the
header's box, on every page (apps.search)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Organization
from apps.accounts.policy import Action, can, check, visible_registries
from apps.artifacts.lookups import visible_projects
from apps.lib.http import is_fragment_request
from apps.registries import services
from apps.registries.forms import RegistryForm, add_service_error
from apps.registries.lookups import organization_for, registry_for
from apps.registries.models import Collection, Star

PROJECTS_ON_LANDING = 20


def _landing_context(request: HttpRequest, organization: Organization) -> dict:
    visible = visible_registries(request.user, organization)
    registries = list(visible.for_landing_page().annotate(collection_count=Count("collections")))
    starred_ids = set(
        Star.objects.filter(user=request.user, registry__organization=organization).values_list(
            "registry_id", flat=True
        )
    )
    for registry in registries:
        registry.is_starred = registry.pk in starred_ids
    starred = [r for r in registries if r.is_starred]
    return {
        "organization": organization,
        "starred": starred,
        # The core and custom sections name the registries of their kind that moved up to
        # Starred, so that starring both core registries never reads as if they were gone.
        "core": [r for r in registries if r.is_core and not r.is_starred],
        "core_starred": [r for r in starred if r.is_core],
        "custom": [r for r in registries if not r.is_core and not r.is_starred],
        "custom_starred": [r for r in starred if not r.is_core],
        "recent": Collection.objects.filter(registry__in=visible).recently_updated()[:8],
        "can_create_registry": can(request.user, Action.CREATE_REGISTRY, organization),
        "can_view_audit_log": can(request.user, Action.VIEW_AUDIT_LOG, organization),
        "projects": visible_projects(request.user, organization)
        .select_related("team")
        .order_by("team__slug", "name")[:PROJECTS_ON_LANDING],
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def landing(request: HttpRequest, org: str) -> HttpResponse:
    """Starred registries first, then core and custom ones; create a registry (POST)."""
    organization = organization_for(request.user, org)
    form = RegistryForm()
    if request.method == "POST":
        check(request.user, Action.CREATE_REGISTRY, organization)
        form = RegistryForm(request.POST)
        if form.is_valid():
            try:
                registry = services.create_registry(
                    actor=request.user, organization=organization, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_error(form, error, "name")
            else:
                messages.success(request, f"Created registry {registry.name}.")
                return redirect("registries:registry", org=org, registry=registry.slug)
    context = _landing_context(request, organization)
    context["registry_form"] = form
    template = "registries/landing.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#registry-list"
    return render(request, template, context, status=400 if form.errors else 200)


@require_POST
def registry_star(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Star (starred=true) or unstar (starred=false) a registry for the signed-in user."""
    target = registry_for(request.user, org, registry)
    if request.POST.get("starred") == "true":
        services.star(actor=request.user, registry=target)
    else:
        services.unstar(actor=request.user, registry=target)
    if request.htmx:
        context = _landing_context(request, target.organization)
        return render(request, "registries/landing.html#registry-list", context)
    return redirect("registries:landing", org=org)
