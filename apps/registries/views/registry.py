"""A registry's page of collections, where collections are created, and the link form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from apps.accounts.policy import Action, check, effective_role, role_allows
from apps.artifacts.lookups import visible_projects
from apps.lib.http import is_fragment_request
from apps.lib.pagination import keyset_page, pager
from apps.registries import services
from apps.registries.forms import (
    CollectionFilterForm,
    CollectionForm,
    LinkVersionForm,
    add_service_error,
)
from apps.registries.lookups import registry_for
from apps.registries.models import Registry
from apps.registries.views.shared import collection_url

COLLECTIONS_PER_PAGE = 50


@dataclass
class CollectionRow:
    """One row of a registry's table of collections, ready to print."""

    name: str
    url: str
    artifact_type: str
    tag_names: list[str]
    version_count: int
    updated_at: datetime


def _collections_context(request: HttpRequest, registry: Registry) -> dict:
    filters = CollectionFilterForm(request.GET)
    filters.is_valid()
    data = filters.cleaned_data
    collections = registry.collections.for_registry_page()
    if query := data.get("q"):
        collections = collections.filter(name__icontains=query)
    if tag := data.get("tag"):
        collections = collections.tagged(tag)
    if artifact_type := data.get("type"):
        collections = collections.filter(artifact_type=artifact_type)
    field, descending = filters.ordering()
    page = keyset_page(
        collections,
        field=field,
        descending=descending,
        cursor=data.get("cursor"),
        size=COLLECTIONS_PER_PAGE,
        count=True,
    )
    organization = registry.organization
    return {
        "registry": registry,
        "organization": organization,
        "filters": filters,
        "collections": [
            CollectionRow(
                name=row["name"],
                url=reverse(
                    "registries:collection",
                    kwargs={
                        "org": organization.slug,
                        "registry": registry.slug,
                        "collection": row["name"],
                    },
                ),
                artifact_type=row["artifact_type"],
                tag_names=sorted(row["tag_names"] or []),
                version_count=row["version_count"],
                updated_at=row["updated_at"],
            )
            for row in page.items
        ],
        "pager": pager(request, page),
        "types": sorted(registry.collections.artifact_types()),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def registry_detail(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """The collections of a registry, filtered and sorted; POST creates a collection."""
    target = registry_for(request.user, org, registry)
    accepted = None if target.accepts_all_types else target.accepted_type_names()
    form = CollectionForm(accepted_types=accepted)
    if request.method == "POST":
        check(request.user, Action.CREATE_COLLECTION, target)
        form = CollectionForm(request.POST, accepted_types=accepted)
        if form.is_valid():
            try:
                collection = services.create_collection(
                    actor=request.user, registry=target, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_error(form, error, "name" if error.code == "duplicate_name" else None)
            else:
                messages.success(request, f"Created collection {collection.name}.")
                return redirect(collection_url(collection))
    context = _collections_context(request, target)
    context["accepted_types"] = accepted
    context["form"] = form
    role = effective_role(request.user, target)
    context["can_create"] = role_allows(role, Action.CREATE_COLLECTION)
    context["can_automate"] = role_allows(role, Action.MANAGE_AUTOMATIONS)
    template = "registries/registry_detail.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#collection-table"
    return render(request, template, context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def link_version(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Link a version: choosing a project narrows the artifacts, an artifact its versions."""
    target = registry_for(request.user, org, registry)
    check(request.user, Action.LINK, target)
    accepted = None if target.accepts_all_types else target.accepted_type_names()
    projects = visible_projects(request.user, target.organization)
    # A GET only narrows the choices (project, then artifact, then version), so it is unbound.
    form = LinkVersionForm(
        request.POST if request.method == "POST" else None,
        initial=request.GET.dict(),
        projects=projects,
        accepted_types=accepted,
    )
    if request.method == "POST" and form.is_valid():
        try:
            link = services.link_version(
                actor=request.user,
                version=form.cleaned_data["version"],
                registry=target,
                collection_name=form.cleaned_data["collection"],
                aliases=form.cleaned_data["aliases"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"Linked {link.version} as {link.collection.name}:{link.label}."
            )
            return redirect(collection_url(link.collection))
    context = {
        "registry": target,
        "organization": target.organization,
        "form": form,
        "collections": target.collections.values_list("name", flat=True)[:500],
    }
    template = "registries/link_version.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#link-form"
    return render(request, template, context, status=400 if form.errors else 200)
