"""The registry's JSON API: registries, collections and linked versions, and path resolution.

The lists of registries, collections and versions are apps.search's (apps/search/api.py), which
filters them; they write their rows with the JSON functions here."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.policy import Action, check, not_found
from apps.artifacts.api import MANIFEST, log_details, manifest, version_json
from apps.artifacts.downloads import blob_response, zip_response
from apps.artifacts.lookups import project_for, version_for
from apps.artifacts.models import source_version_path
from apps.artifacts.services import PendingUpload
from apps.lib.api import ApiError, api_view, int_param, json_body
from apps.lib.openapi import BINARY, Operation, Schema, json_content
from apps.registries import services
from apps.registries.lookups import collection_for, link_for, registry_for
from apps.registries.models import Collection, Link, Registry, tag_names
from apps.registries.paths import registry_path, resolve_path, version_path

PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
PAGE_PARAMETERS = (
    {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "From `next`."},
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
    },
)
NEXT = {"type": ["string", "null"], "description": "Cursor of the next page, or null."}


def page_size(request: HttpRequest) -> int:
    return int_param(request, "limit", default=PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)


REGISTRY = Schema(
    "Registry",
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "slug": {"type": "string"},
            "path": {"type": "string"},
            "description": {"type": "string"},
            "core": {"type": "boolean"},
            "visibility": {"enum": ["organization", "restricted"]},
            "accepted_types": {"type": ["array", "null"], "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
)


def registry_json(registry: Registry) -> dict[str, Any]:
    return {
        "name": registry.name,
        "slug": registry.slug,
        "path": registry_path(registry),
        "description": registry.description,
        "core": registry.is_core,
        "visibility": registry.visibility,
        "accepted_types": None if registry.accepts_all_types else registry.accepted_type_names(),
        "created_at": registry.created_at.isoformat(),
    }


COLLECTION = Schema(
    "Collection",
    {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "path": {"type": "string"},
            "type": {"type": "string"},
            "description": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    },
)


def collections_json(registry: Registry, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's view of a registry's collections, from `Collection.objects.described()`."""
    return [
        {
            "name": row["name"],
            "path": f"{registry_path(registry)}/{row['name']}",
            "type": row["artifact_type"],
            "description": row["description"],
            "tags": sorted(row["tag_names"] or []),
            "created_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
        }
        for row in rows
    ]


def collection_json(collection: Collection) -> dict[str, Any]:
    """One collection, read afresh (after a change, say)."""
    rows = list(Collection.objects.filter(pk=collection.pk).described())
    return collections_json(collection.registry, rows)[0]


LINKED_VERSION = Schema(
    "LinkedVersion",
    {
        "type": "object",
        "properties": {
            "path": {"type": "string", "example": "acme/model/classifier:v3"},
            "version": {"type": "string", "example": "v3"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "source": {"type": "string", "description": "team/project/artifact:vN"},
            "type": {"type": "string"},
            "digest": {"type": "string"},
            "size": {"type": "integer"},
            "file_count": {"type": "integer"},
            "description": {"type": "string"},
            "metadata": {"type": "object"},
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "linked_at": {"type": "string", "format": "date-time"},
            "linked_by": {"type": ["string", "null"]},
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "path": {"type": "string"},
                        "size": {"type": "integer"},
                        "sha256": {"type": "string"},
                    },
                },
            },
        },
    },
)


def links_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The API's view of linked versions, from `Link.objects.described()` rows."""
    found = []
    for row in rows:
        data = {
            "path": version_path(
                row["organization_slug"],
                row["registry_slug"],
                row["collection_name"],
                row["number"],
            ),
            "version": f"v{row['number']}",
            "aliases": sorted(row["alias_names"] or []),
            "source": source_version_path(
                row["team_slug"],
                row["project_name"],
                row["artifact_name"],
                f"v{row['version_number']}",
            ),
            "type": row["artifact_type"],
            "digest": row["digest"],
            "size": row["size"],
            "file_count": row["file_count"],
            "description": row["description"],
            "metadata": row["metadata"],
            "metrics": row["metrics"],
            "tags": tag_names(row),
            "linked_at": row["linked_at"].isoformat(),
            "linked_by": row["linked_by_name"],
        }
        if "files" in row:
            data["files"] = [
                {"path": path, "size": size, "sha256": sha256}
                for path, size, sha256 in sorted(row["files"] or [])
            ]
        found.append(data)
    return found


def link_json(link: Link, *, with_files: bool = False) -> dict[str, Any]:
    """One linked version, read afresh (after a change, say)."""
    return links_json(list(Link.objects.filter(pk=link.pk).described(with_files=with_files)))[0]


@api_view(
    get=Operation(
        "Get a registry",
        "One registry, with its number of collections.",
        response=REGISTRY,
        errors=(401, 404),
    )
)
def registry(request: HttpRequest, org: str, registry: str) -> JsonResponse:
    found = registry_for(request.user, org, registry)
    data = registry_json(found)
    data["collection_count"] = found.collections.count()
    return JsonResponse(data)


@api_view(
    get=Operation("Get a collection", "One collection.", response=COLLECTION, errors=(401, 404)),
    patch=Operation(
        "Change a collection's description",
        "The Markdown card of the collection.",
        body=json_content(
            {
                "type": "object",
                "required": ["description"],
                "properties": {"description": {"type": "string"}},
            }
        ),
        response=COLLECTION,
        errors=(400, 401, 403, 404),
    ),
)
def collection(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    found = collection_for(request.user, org, registry, collection)
    if request.method == "PATCH":
        description = json_body(request).get("description")
        if not isinstance(description, str):
            raise ApiError(400, "invalid_description", "'description' must be a string.")
        services.update_collection_description(
            actor=request.user, collection=found, description=description
        )
    return JsonResponse(collection_json(found))


# Linking answers POST on the collection's versions, whose GET is apps.search's filtered list
# (apps/search/api.py), which describes both.
LINK = Operation(
    "Link a version, or log one and link it",
    "Point the collection at a logged version (its `id`), creating the collection if it is "
    "missing; linking the same version again adds the new aliases (200 instead of 201). "
    "Or send `log`, a manifest with its project and name, to log and link in one request "
    "when every file comes inline or is stored already: all or nothing, answered with the "
    "version and its `link` (201, or 200 if this content was linked already). If files are "
    "still missing, the version stays pending and unlinked (202): upload them, commit, then "
    "link by id.",
    body=json_content(
        {
            "type": "object",
            "properties": {
                "version": {"type": "string", "format": "uuid"},
                "log": {
                    **MANIFEST,
                    "required": ["project", "name", *MANIFEST["required"]],
                    "properties": {
                        "project": {"type": "string", "example": "acme/ml/mnist"},
                        "name": {"type": "string"},
                        **MANIFEST["properties"],
                    },
                },
                "aliases": {"type": "array", "items": {"type": "string"}},
            },
        }
    ),
    response=LINKED_VERSION,
    status=201,
    errors=(400, 401, 403, 404),
)


# Other forms of path that lead to a linked version, each added by the app that owns the form
# (apps.legacy: the legacy Model Registry's paths), so that this app need not import it. One
# takes the user and the path and returns None for a path not of its form, else the link and the
# path it was reached from.
PathResolver = Callable[[Any, str], tuple[Link, str] | None]
path_resolvers: list[PathResolver] = []


def resolve_linked(request: HttpRequest, path: str) -> tuple[Link, str | None]:
    """The live link at a Registry path, or at a path of another form (then that path too)."""
    for resolver in path_resolvers:
        if (found := resolver(request.user, path)) is not None:
            return found
    return resolve_path(request.user, path), None


@api_view(
    get=Operation(
        "Resolve a path",
        "The linked version at `<org>/<registry>/<collection>:<vN or alias>`, with its files. "
        "A legacy Model Registry path, `[<org>/]<team>/model-registry/<model>:<vN or alias>`, "
        "leads to the collection its registered model was migrated to (same numbers and "
        "aliases) and the answer adds `redirected_from`; 409 `not_migrated` while the model "
        "is still only in its team's legacy registry.",
        parameters=(
            {
                "name": "path",
                "in": "query",
                "required": True,
                "schema": {"type": "string"},
                "example": "acme/model/classifier:production",
            },
        ),
        response=LINKED_VERSION,
        errors=(400, 401, 404, 409),
    )
)
def resolve(request: HttpRequest) -> JsonResponse:
    path = request.GET.get("path", "")
    if not path:
        raise ApiError(
            400, "missing_path", "Pass ?path=<org>/<registry>/<collection>:<vN or alias>."
        )
    link, redirected_from = resolve_linked(request, path)
    found = link_json(link, with_files=True)
    if redirected_from is not None:
        # Say where the old path led, so clients can warn and callers can update their code.
        found["redirected_from"] = redirected_from
    return JsonResponse(found)


def link(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    """Link a version into the collection, or log one and link it (LINK says how)."""
    target = registry_for(request.user, org, registry)
    data = json_body(request)
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ApiError(400, "invalid_aliases", "'aliases' must be a list of strings.")
    if "log" in data:
        return _log_and_link(request, target, collection, data["log"], aliases)
    try:
        uid = uuid.UUID(str(data.get("version", "")))
    except ValueError as error:
        raise ApiError(
            400,
            "invalid_version",
            "'version' must be the id a logged version was given (or send 'log' instead).",
        ) from error
    # A role too low is said first; only then does the version's existence matter.
    check(request.user, Action.LINK, target)
    version = version_for(request.user, uid)
    existing = Link.objects.live().filter(collection__registry=target, collection__name=collection)
    existed = existing.filter(version=version).exists()
    link = services.link_version(
        actor=request.user,
        version=version,
        registry=target,
        collection_name=collection,
        aliases=aliases,
    )
    return JsonResponse(link_json(link), status=200 if existed else 201)


def _log_and_link(
    request: HttpRequest,
    registry: Registry,
    collection: str,
    log: Any,
    aliases: list[str],
) -> JsonResponse:
    """Log a version and link it in one request, when its files are small enough to come inline
    or are stored already. Answers the logged version with its `link`: 201 when linked now,
    200 when this content was linked already, 202 when files are still to be uploaded (the
    version is then pending and unlinked: upload, commit, then link it by id)."""
    if not isinstance(log, dict):
        raise ApiError(400, "invalid_log", "'log' must be an object: a version's manifest.")
    org, team, project = _project_path(log.get("project"))
    found = project_for(request.user, org, team, project)
    files, contents = manifest(log)
    name = str(log.get("name", ""))
    started = timezone.now()
    result = services.log_and_link(
        actor=request.user,
        manifest={"project": found, "name": name, "files": files, **log_details(found, log)},
        sources=contents,
        registry=registry,
        collection_name=collection,
        aliases=aliases,
    )
    if isinstance(result, PendingUpload):
        found_json = version_json(request, result.version, result.missing)
        return JsonResponse({**found_json, "link": None}, status=202)
    logged = version_json(request, result.version)
    # A link made before this request began was there already: the same content, linked again.
    status = 201 if result.linked_at >= started else 200
    return JsonResponse({**logged, "link": link_json(result)}, status=status)


def _project_path(path: Any) -> tuple[str, str, str]:
    parts = path.split("/") if isinstance(path, str) else []
    if len(parts) != 3 or not all(parts):
        raise ApiError(400, "invalid_project", "'project' must be written <org>/<team>/<project>.")
    return parts[0], parts[1], parts[2]


@api_view(
    get=Operation(
        "Get a linked version",
        "One linked version with its files.",
        response=LINKED_VERSION,
        errors=(401, 404),
    ),
    patch=Operation(
        "Change a version's description or metadata",
        "They belong to the source version, so every link shows the change.",
        body=json_content(
            {
                "type": "object",
                "properties": {"description": {"type": "string"}, "metadata": {"type": "object"}},
                "additionalProperties": False,
            }
        ),
        response=LINKED_VERSION,
        errors=(400, 401, 403, 404),
    ),
    delete=Operation(
        "Unlink",
        "Take the version out of the collection; the source version stays.",
        response={"type": "object"},
        errors=(400, 401, 403, 404),
    ),
)
def linked_version(
    request: HttpRequest, org: str, registry: str, collection: str, number: int
) -> JsonResponse:
    if request.method == "GET":
        return JsonResponse(_read_linked(request, org, registry, collection, number))
    link = link_for(request.user, org, registry, collection, number)
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
    return JsonResponse(link_json(link, with_files=True))


def _read_linked(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """A linked version with its files, read once: the collection (for the policy), then the
    link as a plain row."""
    found = collection_for(request.user, org, registry, collection)
    rows = list(found.links.live().filter(number=number).described(with_files=True))
    if not rows:
        raise not_found(version_path(org, registry, collection, number))
    return links_json(rows)[0]


@api_view(
    post=Operation(
        "Set an alias",
        "Put an alias on this version, moving it from the version that held it.",
        body=json_content(
            {"type": "object", "required": ["alias"], "properties": {"alias": {"type": "string"}}}
        ),
        response=LINKED_VERSION,
        errors=(400, 401, 403, 404),
    )
)
def aliases(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    link = link_for(request.user, org, registry, collection, number)
    alias = json_body(request).get("alias")
    if not isinstance(alias, str):
        raise ApiError(400, "invalid_alias", "'alias' must be a string.")
    services.set_alias(actor=request.user, link=link, name=alias)
    return JsonResponse(link_json(link))


@api_view(
    delete=Operation(
        "Remove an alias",
        "`latest` cannot be removed; protected aliases need a registry admin.",
        response=LINKED_VERSION,
        errors=(400, 401, 403, 404),
    )
)
def alias(request: HttpRequest, org: str, registry: str, collection: str, number: int, alias: str):
    link = link_for(request.user, org, registry, collection, number)
    services.remove_alias(actor=request.user, link=link, name=alias)
    return JsonResponse(link_json(link))


@api_view(
    post=Operation(
        "Add tags",
        "Tags live on the source version and show through every link.",
        body=json_content(
            {
                "type": "object",
                "required": ["tags"],
                "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
            }
        ),
        response=LINKED_VERSION,
        errors=(400, 401, 403, 404),
    )
)
def tags(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    link = link_for(request.user, org, registry, collection, number)
    names = json_body(request).get("tags")
    if not isinstance(names, list) or not all(isinstance(t, str) for t in names):
        raise ApiError(400, "invalid_tags", "'tags' must be a list of strings.")
    services.add_version_tags(actor=request.user, link=link, tags=names)
    return JsonResponse(link_json(link))


@api_view(
    delete=Operation(
        "Remove a tag",
        "Remove one tag from the version.",
        response=LINKED_VERSION,
        errors=(400, 401, 403, 404),
    )
)
def tag(request: HttpRequest, org: str, registry: str, collection: str, number: int, tag: str):
    link = link_for(request.user, org, registry, collection, number)
    services.remove_version_tag(actor=request.user, link=link, tag=tag)
    return JsonResponse(link_json(link))


@api_view(
    get=Operation(
        "Download a file",
        "A stream with Content-Length, ETag and Range from the local folder, or a redirect "
        "to a presigned URL on S3. Needs the viewer role or above.",
        response=BINARY,
        errors=(401, 403, 404),
    )
)
def file(request: HttpRequest, org: str, registry: str, collection: str, number: int, path: str):
    link = link_for(request.user, org, registry, collection, number)
    check(request.user, Action.DOWNLOAD, link)
    entry = get_object_or_404(link.version.files.select_related("blob"), path=path)
    services.record_download(actor=request.user, link=link, path=path)
    return blob_response(request, entry.blob, path.rsplit("/", 1)[-1])


@api_view(
    get=Operation(
        "Download a version as a zip",
        "Every file, streamed as the zip is built. Needs the viewer role or above.",
        response=BINARY,
        errors=(401, 403, 404),
    )
)
def archive(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    link = link_for(request.user, org, registry, collection, number)
    services.record_download(actor=request.user, link=link)
    entries = link.version.files.select_related("blob").order_by("path")
    return zip_response(entries.iterator(), f"{collection}-v{number}.zip")
