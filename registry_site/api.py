"""The JSON API under /api/v1/: its routes, its OpenAPI document and a page that reads it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from apps.artifacts import api as artifacts_api
from apps.lib import converters  # noqa: F401 (registers <version:…>)
from apps.lineage import api as lineage_api
from apps.registries import api as registries_api

ERROR = {"$ref": "#/components/schemas/Error"}
ERROR_DESCRIPTIONS = {
    400: "Bad input",
    401: "No valid token",
    403: "Role too low",
    404: "Not found, or not visible",
    409: "Not possible in the current state",
    411: "Content-Length missing",
    429: "Too many failed tokens from this address: wait as Retry-After says",
    503: "The database does not answer for the moment: try again after Retry-After",
}
# Any endpoint may answer these: a token guesser is throttled, and the database may go away.
EVERY_ENDPOINT_ERRORS = (429, 503)
NEXT = {"type": ["string", "null"], "description": "Cursor of the next page, or null."}


def _responses(ok: str, schema: dict, errors) -> dict[str, Any]:
    responses: dict[str, Any] = {
        ok: {"description": "OK", "content": {"application/json": {"schema": schema}}}
    }
    for status in (*errors, *EVERY_ENDPOINT_ERRORS):
        responses[str(status)] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": ERROR}},
        }
    return responses


def _get(summary: str, description: str, parameters: list, schema: dict, errors=(401, 404)):
    return _operation("get", summary, description, parameters, None, schema, errors=errors)


def _operation(method: str, summary: str, description: str, parameters: list, body, schema,
               ok: str = "200", errors=(400, 401, 403, 404)) -> dict:  # fmt: skip
    operation: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "parameters": parameters,
        "responses": _responses(ok, schema, errors),
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": body}
    return {method: operation}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _path_param(name: str, description: str) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


ORG = _path_param("org", "Organization slug, e.g. acme.")
REGISTRY = _path_param("registry", "Registry slug, e.g. model.")
COLLECTION = _path_param("collection", "Collection name.")
CURSOR = {
    "name": "cursor",
    "in": "query",
    "schema": {"type": "string"},
    "description": "From `next`.",
}
TEAM = _path_param("team", "Team slug.")
PROJECT_NAME = _path_param("project", "Project name.")
RUN_ID = _path_param("run_id", "The run's id, as returned when it started.")
UID = {
    "name": "uid",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
SHA = _path_param("sha256", "The blob's sha256, 64 lower-case hex characters.")
NUMBER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "The version's number in the collection (the N of vN).",
    "schema": {"type": "integer", "minimum": 0},
}
LINKED_PARAMS = [ORG, REGISTRY, COLLECTION, NUMBER]
MANIFEST = {
    "type": "object",
    "required": ["type", "files"],
    "properties": {
        "type": {"type": "string"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "sha256", "size"],
                "properties": {
                    "path": {"type": "string"},
                    "sha256": {"type": "string"},
                    "size": {"type": "integer", "minimum": 0},
                    "content": {
                        "type": "string",
                        "contentEncoding": "base64",
                        "description": "The file's bytes, for small files (the body is at most "
                        "1 MiB).",
                    },
                },
            },
        },
        "description": {"type": "string"},
        "metadata": {"type": "object"},
        "metrics": {"type": "object"},
        "run": {"type": "string"},
    },
}
LINKED_VERSION = {"$ref": "#/components/schemas/LinkedVersion"}
RUN = {"$ref": "#/components/schemas/Run"}
VERSION = {"$ref": "#/components/schemas/Version"}
LIMIT = {
    "name": "limit",
    "in": "query",
    "schema": {"type": "integer", "minimum": 1, "maximum": registries_api.MAX_PAGE_SIZE},
}

OPENAPI: dict[str, Any] = {
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
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            },
            "Run": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "job_type": {"type": "string"},
                    "state": {"enum": ["running", "finished", "failed", "crashed"]},
                    "config": {"type": "object"},
                    "summary": {"type": "object"},
                    "started_at": {"type": "string", "format": "date-time"},
                    "finished_at": {"type": ["string", "null"], "format": "date-time"},
                },
            },
            "Version": {
                "type": "object",
                "description": "A logged version, pending until committed.",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "artifact": {"type": "string"},
                    "type": {"type": "string"},
                    "state": {"enum": ["pending", "committed"]},
                    "version": {"type": ["string", "null"]},
                    "digest": {"type": ["string", "null"]},
                    "size": {"type": "integer"},
                    "file_count": {"type": "integer"},
                    "missing": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "sha256": {"type": "string"},
                                "size": {"type": "integer"},
                                "upload_url": {"type": "string"},
                                "upload_headers": {"type": "object"},
                                "resumable_url": {
                                    "type": "string",
                                    "description": "Large files only: where to begin or resume "
                                    "a resumable upload.",
                                },
                            },
                        },
                    },
                },
            },
            "Registry": {
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
            "Collection": {
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
            "LinkedVersion": {
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
        },
    },
    "paths": {
        "/orgs/{org}/registries/": _get(
            "List registries",
            "The organization's registries the caller may see.",
            [ORG],
            {
                "type": "object",
                "properties": {
                    "registries": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Registry"},
                    }
                },
            },
        ),
        "/orgs/{org}/registries/{registry}/": _get(
            "Get a registry",
            "One registry, with its number of collections.",
            [ORG, REGISTRY],
            {"$ref": "#/components/schemas/Registry"},
        ),
        "/orgs/{org}/registries/{registry}/collections/": _get(
            "List collections",
            "A registry's collections by name; follow `next` for more.",
            [ORG, REGISTRY, CURSOR, LIMIT],
            {
                "type": "object",
                "properties": {
                    "collections": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/Collection"},
                    },
                    "next": NEXT,
                },
            },
            errors=(400, 401, 404),
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/": _get(
            "Get a collection",
            "One collection.",
            [ORG, REGISTRY, COLLECTION],
            {"$ref": "#/components/schemas/Collection"},
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/": _get(
            "List linked versions",
            "A collection's linked versions, newest first; follow `next` for more.",
            [ORG, REGISTRY, COLLECTION, CURSOR, LIMIT],
            {
                "type": "object",
                "properties": {
                    "versions": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/LinkedVersion"},
                    },
                    "next": NEXT,
                },
            },
            errors=(400, 401, 404),
        ),
        "/orgs/{org}/teams/{team}/projects/{project}/runs/": _operation(
            "post",
            "Start a run",
            "A run in a project; its id names it in later calls.",
            [ORG, TEAM, PROJECT_NAME],
            _json(
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "job_type": {"type": "string"},
                        "config": {"type": "object"},
                    },
                }
            ),
            RUN,
            ok="201",
        ),
        "/orgs/{org}/teams/{team}/projects/{project}/runs/{run_id}/finish/": _operation(
            "post",
            "Finish a run",
            "Mark the run finished, failed or crashed, with summary metrics.",
            [ORG, TEAM, PROJECT_NAME, RUN_ID],
            _json(
                {
                    "type": "object",
                    "properties": {
                        "state": {"enum": ["finished", "failed", "crashed"]},
                        "summary": {"type": "object"},
                    },
                }
            ),
            RUN,
        ),
        "/orgs/{org}/teams/{team}/projects/{project}/runs/{run_id}/inputs/": _operation(
            "post",
            "Record a run's input",
            "The run used the linked version at `path` (needs the viewer role or above). A "
            "migrated legacy Model Registry path is followed as `/resolve/` follows it.",
            [ORG, TEAM, PROJECT_NAME, RUN_ID],
            _json(
                {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}
            ),
            {"type": "object"},
            ok="201",
            errors=(400, 401, 403, 404, 409),
        ),
        "/orgs/{org}/teams/{team}/projects/{project}/artifacts/{artifact}/versions/": _operation(
            "post",
            "Log a version: send the manifest",
            "Phase one. Answers 201 with the blobs to upload, or 200 with the latest version when "
            "the content is identical to it. The same manifest again resumes the upload. Files "
            "sent inline (`content`, base64) are stored at once: when nothing is left to upload, "
            "the version is committed in this one request.",
            [ORG, TEAM, PROJECT_NAME, _path_param("artifact", "Artifact name.")],
            _json(MANIFEST),
            VERSION,
            ok="201",
        ),
        "/blobs/{sha256}": _operation(
            "put",
            "Upload a blob",
            "Phase two: the bytes of one missing file, checked against sha256 and size as they "
            "arrive; a mismatch stores nothing.",
            [SHA],
            {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            {"type": "object"},
            ok="201",
            errors=(400, 401, 404, 411),
        ),
        "/blobs/{sha256}/uploads/": _operation(
            "post",
            "Begin or resume a resumable upload",
            "For a large file (its manifest entry has a `resumable_url`): begins the caller's "
            "upload of the blob, or finds the unfinished one, and answers what the store holds "
            "and where to send the rest. On the local folder: `offset`, the bytes held, and "
            "`url`, where to PATCH the bytes from there. On S3: `part_size` and the `parts` "
            "still missing, each with a presigned `url` to PUT its bytes to (part n starts at "
            "byte (n - 1) * part_size). `stored` is true when the blob is stored already. The "
            "upload becomes the blob at commit, once its size and sha256 check out; one that "
            "does not match is dropped, to be sent again.",
            [SHA],
            None,
            {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "sha256": {"type": "string"},
                    "size": {"type": "integer"},
                    "stored": {"type": "boolean"},
                    "offset": {"type": "integer"},
                    "url": {"type": "string"},
                    "part_size": {"type": "integer"},
                    "parts": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "number": {"type": "integer", "minimum": 1},
                                "url": {"type": "string"},
                                "headers": {"type": "object"},
                            },
                        },
                    },
                },
            },
            ok="201",
            errors=(400, 401, 404),
        ),
        "/uploads/{uid}": _operation(
            "patch",
            "Send the rest of a resumable upload",
            "Local folder only: the bytes from `Upload-Offset` (the offset the upload holds) on. "
            "Whatever arrives is kept, even when the connection is cut, so a later attempt asks "
            "where the upload stands and resumes there. 409 `offset_mismatch` when the offset "
            "is not the one held, 409 `upload_busy` while another request sends to it.",
            [
                UID,
                {
                    "name": "Upload-Offset",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
            {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "offset": {"type": "integer"},
                    "size": {"type": "integer"},
                },
            },
            errors=(400, 401, 404, 409, 411),
        ),
        "/versions/{uid}/commit/": _operation(
            "post",
            "Commit a version",
            "Phase three: every blob checked, the version numbered and made visible.",
            [UID],
            None,
            VERSION,
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/": {
            **_get(
                "Get a linked version",
                "One linked version with its files.",
                LINKED_PARAMS,
                LINKED_VERSION,
            ),
            **_operation(
                "patch",
                "Change a version's description or metadata",
                "They belong to the source version, so every link shows the change.",
                LINKED_PARAMS,
                _json(
                    {
                        "type": "object",
                        "properties": {
                            "description": {"type": "string"},
                            "metadata": {"type": "object"},
                        },
                        "additionalProperties": False,
                    }
                ),
                LINKED_VERSION,
            ),
            **_operation(
                "delete",
                "Unlink",
                "Take the version out of the collection; the source version stays.",
                LINKED_PARAMS,
                None,
                {"type": "object"},
            ),
        },
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/aliases/": (
            _operation(
                "post",
                "Set an alias",
                "Put an alias on this version, moving it from the version that held it.",
                LINKED_PARAMS,
                _json(
                    {
                        "type": "object",
                        "required": ["alias"],
                        "properties": {"alias": {"type": "string"}},
                    }
                ),
                LINKED_VERSION,
            )
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/aliases/"
        "{alias}/": _operation(
            "delete",
            "Remove an alias",
            "`latest` cannot be removed; protected aliases need a registry admin.",
            [*LINKED_PARAMS, _path_param("alias", "The alias.")],
            None,
            LINKED_VERSION,
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/tags/": (
            _operation(
                "post",
                "Add tags",
                "Tags live on the source version and show through every link.",
                LINKED_PARAMS,
                _json(
                    {
                        "type": "object",
                        "required": ["tags"],
                        "properties": {"tags": {"type": "array", "items": {"type": "string"}}},
                    }
                ),
                LINKED_VERSION,
            )
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/tags/"
        "{tag}/": _operation(
            "delete",
            "Remove a tag",
            "Remove one tag from the version.",
            [*LINKED_PARAMS, _path_param("tag", "The tag.")],
            None,
            LINKED_VERSION,
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/files/"
        "{path}": _get(
            "Download a file",
            "A stream with Content-Length, ETag and Range from the local folder, or a redirect "
            "to a presigned URL on S3. Needs the viewer role or above.",
            [*LINKED_PARAMS, _path_param("path", "The file's path in the version.")],
            {"type": "string", "format": "binary"},
            errors=(401, 403, 404),
        ),
        "/orgs/{org}/registries/{registry}/collections/{collection}/versions/v{number}/zip/": _get(
            "Download a version as a zip",
            "Every file, streamed as the zip is built. Needs the viewer role or above.",
            LINKED_PARAMS,
            {"type": "string", "format": "binary"},
            errors=(401, 403, 404),
        ),
        "/resolve/": _get(
            "Resolve a path",
            "The linked version at `<org>/<registry>/<collection>:<vN or alias>`, with its files. "
            "A legacy Model Registry path, `[<org>/]<team>/model-registry/<model>:<vN or alias>`, "
            "leads to the collection its registered model was migrated to (same numbers and "
            "aliases) and the answer adds `redirected_from`; 409 `not_migrated` while the model "
            "is still only in its team's legacy registry.",
            [
                {
                    "name": "path",
                    "in": "query",
                    "required": True,
                    "schema": {"type": "string"},
                    "example": "acme/model/classifier:production",
                }
            ],
            {"$ref": "#/components/schemas/LinkedVersion"},
            errors=(400, 401, 404, 409),
        ),
    },
}


OPENAPI["paths"]["/orgs/{org}/registries/{registry}/collections/{collection}/"].update(
    _operation(
        "patch",
        "Change a collection's description",
        "The Markdown card of the collection.",
        [ORG, REGISTRY, COLLECTION],
        _json(
            {
                "type": "object",
                "required": ["description"],
                "properties": {"description": {"type": "string"}},
            }
        ),
        {"$ref": "#/components/schemas/Collection"},
    )
)
OPENAPI["paths"]["/orgs/{org}/registries/{registry}/collections/{collection}/versions/"].update(
    _operation(
        "post",
        "Link a version, or log one and link it",
        "Point the collection at a logged version (its `id`), creating the collection if it is "
        "missing; linking the same version again adds the new aliases (200 instead of 201). "
        "Or send `log`, a manifest with its project and name, to log and link in one request "
        "when every file comes inline or is stored already: all or nothing, answered with the "
        "version and its `link` (201, or 200 if this content was linked already). If files are "
        "still missing, the version stays pending and unlinked (202): upload them, commit, then "
        "link by id.",
        [ORG, REGISTRY, COLLECTION],
        _json(
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
        LINKED_VERSION,
        ok="201",
    )
)


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


PROJECT = "orgs/<slug:org>/teams/<slug:team>/projects/<str:project>"
LINKED = (
    "orgs/<slug:org>/registries/<str:registry>/collections/<str:collection>"
    "/versions/v<version:number>"
)

urlpatterns = [
    path("openapi.json", openapi, name="api-openapi"),
    path("blobs/<str:sha256>", artifacts_api.upload_blob, name="api-blob"),
    path("blobs/<str:sha256>/uploads/", artifacts_api.start_upload, name="api-blob-uploads"),
    path("uploads/<uuid:uid>", artifacts_api.append_to_upload, name="api-upload"),
    path("versions/<uuid:uid>/commit/", artifacts_api.commit, name="api-commit"),
    path(
        f"{PROJECT}/artifacts/<str:artifact>/versions/",
        artifacts_api.log_version,
        name="api-log-version",
    ),
    path(f"{PROJECT}/runs/", lineage_api.runs, name="api-runs"),
    path(f"{PROJECT}/runs/<str:run_id>/finish/", lineage_api.finish, name="api-run-finish"),
    path(f"{PROJECT}/runs/<str:run_id>/inputs/", lineage_api.inputs, name="api-run-inputs"),
    path("docs/", docs, name="api-docs"),
    path("resolve/", registries_api.resolve, name="api-resolve"),
    path("orgs/<slug:org>/registries/", registries_api.registries, name="api-registries"),
    path(
        "orgs/<slug:org>/registries/<str:registry>/", registries_api.registry, name="api-registry"
    ),
    path(
        "orgs/<slug:org>/registries/<str:registry>/collections/",
        registries_api.collections,
        name="api-collections",
    ),
    path(
        "orgs/<slug:org>/registries/<str:registry>/collections/<str:collection>/",
        registries_api.collection,
        name="api-collection",
    ),
    path(
        "orgs/<slug:org>/registries/<str:registry>/collections/<str:collection>/versions/",
        registries_api.versions,
        name="api-versions",
    ),
    path(f"{LINKED}/", registries_api.linked_version, name="api-linked-version"),
    path(f"{LINKED}/aliases/", registries_api.aliases, name="api-aliases"),
    path(f"{LINKED}/aliases/<str:alias>/", registries_api.alias, name="api-alias"),
    path(f"{LINKED}/tags/", registries_api.tags, name="api-tags"),
    path(f"{LINKED}/tags/<str:tag>/", registries_api.tag, name="api-tag"),
    path(f"{LINKED}/files/<path:path>", registries_api.file, name="api-file"),
    path(f"{LINKED}/zip/", registries_api.archive, name="api-zip"),
]
