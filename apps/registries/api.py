"""The registry's JSON API: registries, collections and linked versions, and path resolution."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404

from apps.accounts.policy import Action, check, visible_registries
from apps.artifacts.downloads import blob_response, zip_response
from apps.artifacts.models import ArtifactVersion
from apps.legacy.paths import LegacyPath, NotMigrated, parse_legacy_path, resolve_legacy_path
from apps.lib.api import ApiError, api_view, json_body
from apps.lib.pagination import keyset_page
from apps.registries import services
from apps.registries.lookups import organization_for, registry_for
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


@api_view("GET")
def registries(request: HttpRequest, org: str) -> JsonResponse:
    """The registries of an organization the caller may see."""
    organization = organization_for(request.user, org)
    found = visible_registries(request.user, organization).for_landing_page()
    found = found.select_related("organization")
    return JsonResponse({"registries": [registry_json(r) for r in found]})


@api_view("GET")
def registry(request: HttpRequest, org: str, registry: str) -> JsonResponse:
    found = registry_for(request.user, org, registry)
    data = registry_json(found)
    data["collection_count"] = found.collections.count()
    return JsonResponse(data)


@api_view("GET")
def collections(request: HttpRequest, org: str, registry: str) -> JsonResponse:
    """A registry's collections by name, a page at a time (follow `next`)."""
    found = registry_for(request.user, org, registry)
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
    found = registry_for(request.user, org, registry)
    return get_object_or_404(found.collections.select_related("registry__organization"), name=name)


@api_view("GET", "PATCH")
def collection(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    """A collection; PATCH {"description": …} changes its Markdown card."""
    found = _collection(request, org, registry, collection)
    if request.method == "PATCH":
        description = json_body(request).get("description")
        if not isinstance(description, str):
            raise ApiError(400, "invalid_description", "'description' must be a string.")
        services.update_collection_description(
            actor=request.user, collection=found, description=description
        )
        found.refresh_from_db()
    return JsonResponse(collection_json(found))


@api_view("GET", "POST")
def versions(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    """GET: linked versions, newest first, a page at a time (follow `next`).

    POST {"version": <id of a logged version>, "aliases": [...]}: link it, creating the
    collection if needed; linking it again returns the same link with the aliases added.
    """
    if request.method == "POST":
        return _link(request, org, registry, collection)
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


def resolve_linked(request: HttpRequest, path: str) -> tuple[Link, LegacyPath | None]:
    """The live link at a Registry path, or at a legacy Model Registry path whose registered
    model was migrated (then the legacy path too): 409 while it is not migrated yet."""
    if (legacy := parse_legacy_path(path)) is None:
        return resolve_path(request.user, path), None
    try:
        return resolve_legacy_path(request.user, legacy), legacy
    except NotMigrated as error:
        raise ApiError(409, "not_migrated", str(error)) from None


@api_view("GET")
def resolve(request: HttpRequest) -> JsonResponse:
    """The linked version a path names, with its file manifest; legacy Model Registry paths
    lead to the collection their registered model was migrated to."""
    path = request.GET.get("path", "")
    if not path:
        raise ApiError(
            400, "missing_path", "Pass ?path=<org>/<registry>/<collection>:<vN or alias>."
        )
    link, legacy = resolve_linked(request, path)
    found = link_json(link, with_files=True)
    if legacy is not None:
        # Say where the old path led, so clients can warn and callers can update their code.
        found["redirected_from"] = str(legacy)
    return JsonResponse(found)


def _link(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    target = registry_for(request.user, org, registry)
    data = json_body(request)
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ApiError(400, "invalid_aliases", "'aliases' must be a list of strings.")
    try:
        uid = uuid.UUID(str(data.get("version", "")))
    except ValueError as error:
        raise ApiError(
            400, "invalid_version", "'version' must be the id a logged version was given."
        ) from error
    version = get_object_or_404(
        ArtifactVersion.objects.select_related("artifact__project__team"), uid=uid
    )
    existing = Link.objects.live().filter(collection__registry=target, collection__name=collection)
    existed = existing.filter(version=version).exists()
    link = services.link_version(
        actor=request.user,
        version=version,
        registry=target,
        collection_name=collection,
        aliases=aliases,
    )
    return JsonResponse(link_json(_fresh(link), with_files=False), status=200 if existed else 201)


def _fresh(link: Link) -> Link:
    return (
        Link.objects.select_related(
            "collection__registry__organization", "version__artifact__project__team", "linked_by"
        )
        .prefetch_related("aliases", "version__tags", "version__files")
        .get(pk=link.pk)
    )


def _linked(request: HttpRequest, org: str, registry: str, collection: str, number: int) -> Link:
    found = _collection(request, org, registry, collection)
    link = get_object_or_404(found.links.live(), number=number)
    return _fresh(link)


@api_view("GET", "PATCH", "DELETE")
def linked_version(
    request: HttpRequest, org: str, registry: str, collection: str, number: int
) -> JsonResponse:
    """GET one linked version with its files; PATCH its description or metadata; DELETE unlinks."""
    link = _linked(request, org, registry, collection, number)
    if request.method == "DELETE":
        services.unlink(actor=request.user, link=link)
        return JsonResponse({"unlinked": link_json(link)["path"]})
    if request.method == "PATCH":
        data = json_body(request)
        unknown = set(data) - {"description", "metadata"}
        if unknown:
            raise ApiError(
                400,
                "invalid_field",
                f"Only description and metadata change here, not {sorted(unknown)}.",
            )
        if "description" in data and not isinstance(data["description"], str):
            raise ApiError(400, "invalid_description", "'description' must be a string.")
        services.update_version_details(
            actor=request.user,
            link=link,
            description=data.get("description"),
            metadata=data.get("metadata"),
        )
        link = _fresh(link)
    return JsonResponse(link_json(link, with_files=True))


@api_view("POST")
def aliases(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """Put an alias on this version, moving it from whichever version held it."""
    link = _linked(request, org, registry, collection, number)
    alias = json_body(request).get("alias")
    if not isinstance(alias, str):
        raise ApiError(400, "invalid_alias", "'alias' must be a string.")
    services.set_alias(actor=request.user, link=link, name=alias)
    return JsonResponse(link_json(_fresh(link)))


@api_view("DELETE")
def alias(request: HttpRequest, org: str, registry: str, collection: str, number: int, alias: str):
    link = _linked(request, org, registry, collection, number)
    services.remove_alias(actor=request.user, link=link, name=alias)
    return JsonResponse(link_json(_fresh(link)))


@api_view("POST")
def tags(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """Add tags to the version (they live on the source version and show through every link)."""
    link = _linked(request, org, registry, collection, number)
    names = json_body(request).get("tags")
    if not isinstance(names, list) or not all(isinstance(t, str) for t in names):
        raise ApiError(400, "invalid_tags", "'tags' must be a list of strings.")
    services.add_version_tags(actor=request.user, link=link, tags=names)
    return JsonResponse(link_json(_fresh(link)))


@api_view("DELETE")
def tag(request: HttpRequest, org: str, registry: str, collection: str, number: int, tag: str):
    link = _linked(request, org, registry, collection, number)
    services.remove_version_tag(actor=request.user, link=link, tag=tag)
    return JsonResponse(link_json(_fresh(link)))


@api_view("GET")
def file(request: HttpRequest, org: str, registry: str, collection: str, number: int, path: str):
    """One file of a linked version (viewers and above): a stream, or a redirect on S3."""
    link = _linked(request, org, registry, collection, number)
    check(request.user, Action.DOWNLOAD, link)
    entry = get_object_or_404(link.version.files.select_related("blob"), path=path)
    services.record_download(actor=request.user, link=link, path=path)
    return blob_response(request, entry.blob, path.rsplit("/", 1)[-1])


@api_view("GET")
def archive(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """Every file of a linked version as one zip, streamed as it is built."""
    link = _linked(request, org, registry, collection, number)
    services.record_download(actor=request.user, link=link)
    entries = link.version.files.select_related("blob").order_by("path")
    return zip_response(entries.iterator(), f"{collection}-v{number}.zip")
