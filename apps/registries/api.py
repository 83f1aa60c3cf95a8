"""The registry's JSON API: registries, collections and linked versions, and path resolution."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from apps.accounts.models import Organization
from apps.accounts.policy import Action, check, visible_registries
from apps.lib.api import ApiError, api_view
from apps.lib.pagination import keyset_page
from apps.registries.models import Collection, Link, Registry
from apps.registries.paths import resolve_path

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


def _page_size(request: HttpRequest) -> int:
    raw = request.GET.get("limit", str(PAGE_SIZE))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ApiError(400, "invalid_limit", f"limit must be a number from 1 to {MAX_PAGE_SIZE}.")
    return int(raw)


def registry_json(registry: Registry) -> dict[str, Any]:
    return {
        "name": registry.name,
        "slug": registry.slug,
        "path": f"{registry.organization.slug}/{registry.slug}",
        "description": registry.description,
        "core": registry.is_core,
        "visibility": registry.visibility,
        "accepted_types": None if registry.accepts_all_types else registry.accepted_type_names(),
        "created_at": registry.created_at.isoformat(),
    }


def collection_json(collection: Collection) -> dict[str, Any]:
    registry = collection.registry
    return {
        "name": collection.name,
        "path": f"{registry.organization.slug}/{registry.slug}/{collection.name}",
        "type": collection.artifact_type,
        "description": collection.description,
        "tags": [tag.name for tag in collection.tags.all()],
        "created_at": collection.created_at.isoformat(),
        "updated_at": collection.updated_at.isoformat(),
    }


def link_json(link: Link, *, with_files: bool = False) -> dict[str, Any]:
    collection, version = link.collection, link.version
    registry = collection.registry
    artifact = version.artifact
    data = {
        "path": f"{registry.organization.slug}/{registry.slug}/{collection.name}:v{link.number}",
        "version": f"v{link.number}",
        "aliases": sorted(alias.name for alias in link.aliases.all()),
        "source": f"{artifact.project.team.slug}/{artifact.project.name}/{artifact.name}"
        f":v{version.number}",
        "type": artifact.artifact_type,
        "digest": version.digest,
        "size": version.size,
        "file_count": version.file_count,
        "description": version.description,
        "metadata": version.metadata,
        "metrics": version.metrics,
        "tags": [tag.name for tag in version.tags.all()],
        "linked_at": link.linked_at.isoformat(),
        "linked_by": link.linked_by.get_username() if link.linked_by else None,
    }
    if with_files:
        data["files"] = [
            {"path": entry.path, "size": entry.size, "sha256": entry.blob_id}
            for entry in version.files.all()
        ]
    return data


def _organization(request: HttpRequest, org: str) -> Organization:
    organization = get_object_or_404(Organization, slug=org)
    check(request.user, Action.VIEW_ORGANIZATION, organization)
    return organization


def _registry(request: HttpRequest, org: str, slug: str) -> Registry:
    registry = get_object_or_404(
        Registry.objects.select_related("organization"), organization__slug=org, slug=slug
    )
    check(request.user, Action.VIEW, registry)
    return registry


@api_view("GET")
def registries(request: HttpRequest, org: str) -> JsonResponse:
    """The registries of an organization the caller may see."""
    organization = _organization(request, org)
    found = visible_registries(request.user, organization).for_landing_page()
    found = found.select_related("organization")
    return JsonResponse({"registries": [registry_json(r) for r in found]})


@api_view("GET")
def registry(request: HttpRequest, org: str, registry: str) -> JsonResponse:
    found = _registry(request, org, registry)
    data = registry_json(found)
    data["collection_count"] = found.collections.count()
    return JsonResponse(data)


@api_view("GET")
def collections(request: HttpRequest, org: str, registry: str) -> JsonResponse:
    """A registry's collections by name, a page at a time (follow `next`)."""
    found = _registry(request, org, registry)
    page = keyset_page(
        found.collections.select_related("registry__organization").prefetch_related("tags"),
        field="name",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=_page_size(request),
    )
    return JsonResponse(
        {"collections": [collection_json(c) for c in page.items], "next": page.next_cursor}
    )


def _collection(request: HttpRequest, org: str, registry: str, name: str) -> Collection:
    found = _registry(request, org, registry)
    return get_object_or_404(found.collections.select_related("registry__organization"), name=name)


@api_view("GET")
def collection(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    return JsonResponse(collection_json(_collection(request, org, registry, collection)))


@api_view("GET")
def versions(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    """A collection's linked versions, newest first, a page at a time (follow `next`)."""
    found = _collection(request, org, registry, collection)
    links = (
        found.links.live()
        .select_related(
            "collection__registry__organization", "version__artifact__project__team", "linked_by"
        )
        .prefetch_related("aliases", "version__tags")
    )
    page = keyset_page(
        links,
        field="number",
        descending=True,
        cursor=request.GET.get("cursor"),
        size=_page_size(request),
    )
    return JsonResponse(
        {"versions": [link_json(link) for link in page.items], "next": page.next_cursor}
    )


@api_view("GET")
def resolve(request: HttpRequest) -> JsonResponse:
    """The linked version a path names, with its file manifest."""
    path = request.GET.get("path", "")
    if not path:
        raise ApiError(
            400, "missing_path", "Pass ?path=<org>/<registry>/<collection>:<vN or alias>."
        )
    link = resolve_path(request.user, path)
    return JsonResponse(link_json(link, with_files=True))
