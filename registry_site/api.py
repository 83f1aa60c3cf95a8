"""The JSON API under /api/v1/: its routes, its OpenAPI document and a page that reads it.

Each endpoint describes itself where it is written (`api_view(get=Operation(...))`); the document
is gathered from the routes below, in their order, with each route's path parameters.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET

from apps.artifacts import api as artifacts_api
from apps.automations import api as automations_api
from apps.lib import converters  # noqa: F401 (registers <version:…>)
from apps.lib.openapi import with_references
from apps.lineage import api as lineage_api
from apps.registries import api as registries_api
from apps.search import api as search_api

PROJECT = "orgs/<slug:org>/teams/<slug:team>/projects/<str:project>"
REGISTRY = "orgs/<slug:org>/registries/<str:registry>"
LINKED = f"{REGISTRY}/collections/<str:collection>/versions/v<version:number>"
AUTOMATION = "orgs/<slug:org>/automations/<id:automation>"

# In the order the API reference reads.
ENDPOINTS = [
    path("orgs/<slug:org>/registries/", search_api.registries, name="api-registries"),
    path(f"{REGISTRY}/", registries_api.registry, name="api-registry"),
    path(f"{REGISTRY}/collections/", search_api.collections, name="api-collections"),
    path(
        f"{REGISTRY}/collections/<str:collection>/",
        registries_api.collection,
        name="api-collection",
    ),
    path(
        f"{REGISTRY}/collections/<str:collection>/versions/",
        search_api.versions,
        name="api-versions",
    ),
    path(f"{PROJECT}/runs/", lineage_api.runs, name="api-runs"),
    path(f"{PROJECT}/runs/<str:run_id>/finish/", lineage_api.finish, name="api-run-finish"),
    path(f"{PROJECT}/runs/<str:run_id>/inputs/", lineage_api.inputs, name="api-run-inputs"),
    path(
        f"{PROJECT}/artifacts/<str:artifact>/versions/",
        artifacts_api.log_version,
        name="api-log-version",
    ),
    path("blobs/<str:sha256>", artifacts_api.upload_blob, name="api-blob"),
    path("blobs/<str:sha256>/uploads/", artifacts_api.start_upload, name="api-blob-uploads"),
    path("uploads/<uuid:uid>", artifacts_api.append_to_upload, name="api-upload"),
    path("versions/<uuid:uid>/commit/", artifacts_api.commit, name="api-commit"),
    path(f"{LINKED}/", registries_api.linked_version, name="api-linked-version"),
    path(f"{LINKED}/aliases/", registries_api.aliases, name="api-aliases"),
    path(f"{LINKED}/aliases/<str:alias>/", registries_api.alias, name="api-alias"),
    path(f"{LINKED}/tags/", registries_api.tags, name="api-tags"),
    path(f"{LINKED}/tags/<str:tag>/", registries_api.tag, name="api-tag"),
    path(f"{LINKED}/files/<path:path>", registries_api.file, name="api-file"),
    path(f"{LINKED}/zip/", registries_api.archive, name="api-zip"),
    path("resolve/", registries_api.resolve, name="api-resolve"),
    path("orgs/<slug:org>/automations/", automations_api.automations, name="api-automations"),
    path(f"{AUTOMATION}/", automations_api.automation, name="api-automation"),
    path(f"{AUTOMATION}/executions/", automations_api.executions, name="api-executions"),
    path(
        f"{AUTOMATION}/executions/<uuid:uid>/replay/",
        automations_api.replay,
        name="api-execution-replay",
    ),
]

# What each path parameter of the routes above names (None: nothing more than its name says).
PATH_PARAMETERS = {
    "org": "Organization slug, e.g. acme.",
    "registry": "Registry slug, e.g. model.",
    "collection": "Collection name.",
    "number": "The version's number in the collection (the N of vN).",
    "alias": "The alias.",
    "tag": "The tag.",
    "path": "The file's path in the version.",
    "team": "Team slug.",
    "project": "Project name.",
    "run_id": "The run's id, as returned when it started.",
    "artifact": "Artifact name.",
    "sha256": "The blob's sha256, 64 lower-case hex characters.",
    "uid": None,
    "automation": "The automation's id, as listed (a rename keeps it).",
}
ROUTE_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")  # <converter:name>, or <name> for str
CONVERTER_SCHEMAS = {
    "uuid": {"type": "string", "format": "uuid"},
    "version": {"type": "integer", "minimum": 0},
    "id": {"type": "integer", "minimum": 0},
}


def _path_parameters(route: str) -> list[dict[str, Any]]:
    found = []
    for converter, name in ROUTE_PARAMETER.findall(route):
        schema = CONVERTER_SCHEMAS.get(converter, {"type": "string"})
        parameter = {"name": name, "in": "path", "required": True, "schema": schema}
        if (description := PATH_PARAMETERS[name]) is not None:
            parameter["description"] = description
        found.append(parameter)
    return found


def document(endpoints: list[URLPattern]) -> dict[str, Any]:
    """The OpenAPI document of the endpoints, from what each one's view says of itself."""
    paths: dict[str, Any] = {}
    for endpoint in endpoints:
        route = str(endpoint.pattern)
        operations = getattr(endpoint.callback, "operations", None)
        if operations is None:
            raise ImproperlyConfigured(f"{route}: describe it with api_view(get=Operation(...)).")
        parameters = _path_parameters(route)
        paths["/" + ROUTE_PARAMETER.sub(r"{\2}", route)] = {
            method: operation.describe(parameters) for method, operation in operations.items()
        }
    components: dict[str, Any] = {}
    paths = with_references(paths, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Registry API",
            "version": "1",
            "description": "Read and change an organization's registries. Authenticate with "
            "`Authorization: Bearer <token>`; create tokens on your account page.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": components,
        },
        "paths": paths,
    }


OPENAPI = document(ENDPOINTS)


@login_not_required
@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(OPENAPI)


@login_not_required
@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document as a page people can read."""
    operations = [
        {"path": route, "method": method.upper(), **operation}
        for route, item in OPENAPI["paths"].items()
        for method, operation in item.items()
    ]
    return render(request, "api/docs.html", {"api": OPENAPI, "operations": operations})


urlpatterns = [
    path("openapi.json", openapi, name="api-openapi"),
    path("docs/", docs, name="api-docs"),
    *ENDPOINTS,
]
