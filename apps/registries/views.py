"""The Registry pages. Permissions are decided here, through the policy, never in templates."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Organization
from apps.accounts.policy import Action, check, visible_registries
from apps.registries import services
from apps.registries.models import Registry, Star


def organization_for(request: HttpRequest, slug: str) -> Organization:
    """The organization, or 404 for anyone who is not in it."""
    organization = get_object_or_404(Organization, slug=slug)
    check(request.user, Action.VIEW_ORGANIZATION, organization)
    return organization


def registry_for(request: HttpRequest, organization: Organization, slug: str) -> Registry:
    """The registry, or 404 for anyone who may not see it."""
    registry = get_object_or_404(Registry, organization=organization, slug=slug)
    registry.organization = organization
    check(request.user, Action.VIEW, registry)
    return registry


def _landing_context(request: HttpRequest, organization: Organization) -> dict:
    registries = list(
        visible_registries(request.user, organization)
        .for_landing_page()
        .annotate(collection_count=Count("collections"))
    )
    starred_ids = set(
        Star.objects.filter(user=request.user, registry__organization=organization).values_list(
            "registry_id", flat=True
        )
    )
    for registry in registries:
        registry.is_starred = registry.pk in starred_ids
    return {
        "organization": organization,
        "starred": [r for r in registries if r.is_starred],
        "core": [r for r in registries if r.is_core and not r.is_starred],
        "custom": [r for r in registries if not r.is_core and not r.is_starred],
    }


@require_GET
@vary_on_headers("HX-Request")
def landing(request: HttpRequest, org: str) -> HttpResponse:
    """The registries the user may see: starred first, then core, then custom."""
    organization = organization_for(request, org)
    template = "registries/landing.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#registry-list"
    return render(request, template, _landing_context(request, organization))


@require_POST
def registry_star(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Star (starred=true) or unstar (starred=false) a registry for the signed-in user."""
    organization = organization_for(request, org)
    target = registry_for(request, organization, registry)
    if request.POST.get("starred") == "true":
        services.star(actor=request.user, registry=target)
    else:
        services.unstar(actor=request.user, registry=target)
    if request.htmx:
        context = _landing_context(request, organization)
        return render(request, "registries/landing.html#registry-list", context)
    return redirect("registries:landing", org=organization.slug)
