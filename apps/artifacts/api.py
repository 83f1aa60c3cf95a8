"""Logging versions over HTTP, in the two phases of DESIGN.md.

1. POST the manifest to .../artifacts/<name>/versions/: the answer names the version (`id`) and
   the blobs the server lacks, each with where to send it.
2. PUT each missing blob to its `upload_url`; the bytes are checked as they stream in.
   A large blob also has a `resumable_url`: POST there to begin (or find) a resumable upload,
   which answers what the store holds, and send only the rest: PATCH the bytes from `offset`
   to its `url` on the local folder, or PUT each missing part to its presigned URL on S3.
3. POST .../versions/<id>/commit/: the version gets its number and becomes visible; a resumable
   upload becomes its blob here, once its size and sha256 check out.

A client that stopped halfway repeats step 1 with the same manifest and sends only what is still
missing; identical content to the latest version comes back committed, with nothing to send.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from apps.accounts.policy import Action, check
from apps.artifacts.lookups import project_for, version_for
from apps.artifacts.models import (
    ArtifactVersion,
    Blob,
    BlobUpload,
    ManifestEntry,
    Project,
    VersionState,
)
from apps.artifacts.services import FileSpec, begin_version, commit_version, complete_version
from apps.artifacts.storage import (
    UploadState,
    append_upload,
    is_resumable,
    open_upload,
    presigned_part,
    presigned_upload,
    store_blob,
)
from apps.lib.api import ApiError, api_view, json_body
from apps.lib.openapi import BINARY, Operation, Schema, json_content
from apps.lib.validators import parse_whole_number, validate_sha256

VERSION = Schema(
    "Version",
    {
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
)


def version_json(request: HttpRequest, version: ArtifactVersion, missing=()) -> dict[str, Any]:
    artifact = version.artifact
    return {
        "id": str(version.uid),
        "artifact": artifact.name,
        "type": artifact.artifact_type,
        "state": version.state,
        "version": version.label if version.is_committed else None,
        "digest": version.digest or None,
        "size": version.size,
        "file_count": version.file_count,
        "missing": [_upload_target(request, spec) for spec in missing],
    }


def _upload_target(request: HttpRequest, spec) -> dict[str, Any]:
    """Where to PUT a missing blob: straight into S3 when presigned, else to this server."""
    target = presigned_upload(spec.sha256, spec.size) or {
        "url": request.build_absolute_uri(reverse("api-blob", kwargs={"sha256": spec.sha256})),
        "headers": {"Content-Type": "application/octet-stream"},
    }
    found = {
        "sha256": spec.sha256,
        "size": spec.size,
        "upload_url": target["url"],
        "upload_headers": target["headers"],
    }
    if is_resumable(spec.size):
        route = reverse("api-blob-uploads", kwargs={"sha256": spec.sha256})
        found["resumable_url"] = request.build_absolute_uri(route)
    return found


REQUIRED_FILE_KEYS = frozenset({"path", "sha256", "size"})
BYTES = {"application/octet-stream": {"schema": BINARY}}  # a body streamed as it is
MANIFEST = {
    "type": "object",
    "required": ["type", "files"],
    "properties": {
        "type": {"type": "string"},
        "files": {
            "type": "array",
            "items": {
                "type": "object",
                "required": sorted(REQUIRED_FILE_KEYS),
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
        "run": {
            "type": "string",
            "description": "The id of the run that produced it (see Start a run): the version's "
            "lineage then shows that run as its producer.",
        },
    },
}


def manifest(data: dict[str, Any]) -> tuple[list[FileSpec], dict[str, bytes]]:
    """The manifest's files, and the bytes of those sent inline (by sha256).

    A file may carry its bytes as base64 `content`, so that small files are logged in the
    same request as their manifest; the bytes are checked against sha256 and size on storing.
    """
    files = data.get("files")
    if not isinstance(files, list):
        raise ApiError(400, "invalid_manifest", "'files' must be a list of {path, sha256, size}.")
    specs, contents = [], {}
    for item in files:
        keys = set(item) if isinstance(item, dict) else set()
        if not REQUIRED_FILE_KEYS <= keys <= REQUIRED_FILE_KEYS | {"content"} or not (
            isinstance(item["path"], str) and isinstance(item["sha256"], str)
        ):
            raise ApiError(
                400,
                "invalid_manifest",
                "Each file is an object with path and sha256 (strings) and size, and optionally "
                "its bytes as base64 content.",
            )
        spec = FileSpec(item["path"], item["sha256"], item["size"])
        if "content" in item:
            contents[spec.sha256] = _inline_bytes(spec, item["content"])
        specs.append(spec)
    return specs, contents


def _inline_bytes(spec: FileSpec, content: Any) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise ApiError(
            400,
            "invalid_content",
            f"The content of {spec.path!r} must be its bytes in standard base64.",
        ) from None


def log_details(project: Project, data: dict[str, Any]) -> dict[str, Any]:
    """What a manifest says of the version besides its name and files, checked."""
    run = None
    if run_id := data.get("run"):
        # Lineage's runs, through the reverse relation its Run puts on projects.
        run = get_object_or_404(project.runs, run_id=str(run_id))
    for key in ("metadata", "metrics"):
        if key in data and not isinstance(data[key], dict):
            raise ApiError(400, f"invalid_{key}", f"'{key}' must be a JSON object.")
    return {
        "artifact_type": data.get("type", ""),
        "description": str(data.get("description", "")),
        "metadata": data.get("metadata"),
        "metrics": data.get("metrics"),
        "run": run,
    }


@api_view(
    post=Operation(
        "Log a version: send the manifest",
        "Phase one. Answers 201 with the blobs to upload, or 200 with the latest version when "
        "the content is identical to it. The same manifest again resumes the upload. Files "
        "sent inline (`content`, base64) are stored at once: when nothing is left to upload, "
        "the version is committed in this one request.",
        body=json_content(MANIFEST),
        response=VERSION,
        status=201,
        errors=(400, 401, 403, 404),
    )
)
def log_version(request: HttpRequest, org: str, team: str, project: str, artifact: str):
    found = project_for(request.user, org, team, project)
    data = json_body(request)
    files, contents = manifest(data)
    pending = begin_version(
        actor=request.user,
        project=found,
        name=str(data.get("name") or artifact),
        files=files,
        **log_details(found, data),
    )
    status = 200 if pending.version.is_committed else 201
    pending = complete_version(actor=request.user, pending=pending, sources=contents)
    return JsonResponse(version_json(request, pending.version, pending.missing), status=status)


@api_view(
    put=Operation(
        "Upload a blob",
        "Phase two: the bytes of one missing file, checked against sha256 and size as they "
        "arrive; a mismatch stores nothing.",
        body=BYTES,
        response={"type": "object"},
        status=201,
        errors=(400, 401, 404, 411),
    )
)
def upload_blob(request: HttpRequest, sha256: str):
    size = _size_to_receive(request, sha256)
    if size is None:
        return JsonResponse({"sha256": sha256, "stored": True})
    store_blob(request, sha256=sha256, size=size)
    return JsonResponse({"sha256": sha256, "stored": True}, status=201)


def _size_to_receive(request: HttpRequest, sha256: str) -> int | None:
    """The blob's size as a pending version of the caller declares it, or None when the store
    holds it already. Only a blob that such a version names may be sent (no stray storage),
    and only its sender hears whether the store holds it: no one can probe the store for a
    file they do not claim to have."""
    try:
        validate_sha256(sha256)
    except ValidationError as error:
        raise ApiError(400, "invalid_digest", error.messages[0]) from error
    expected_size = (
        ManifestEntry.objects.filter(
            blob_id=sha256,
            version__created_by=request.user,
            version__state=VersionState.PENDING,
        )
        .values_list("size", flat=True)
        .first()
    )
    if expected_size is None:
        raise ApiError(
            404,
            "not_expected",
            "No pending version of yours names this blob; send the manifest first.",
        )
    return None if Blob.objects.filter(sha256=sha256).exists() else expected_size


@api_view(
    post=Operation(
        "Begin or resume a resumable upload",
        "For a large file (its manifest entry has a `resumable_url`): begins the caller's "
        "upload of the blob, or finds the unfinished one, and answers what the store holds "
        "and where to send the rest. On the local folder: `offset`, the bytes held, and "
        "`url`, where to PATCH the bytes from there. On S3: `part_size` and the `parts` "
        "still missing, each with a presigned `url` to PUT its bytes to (part n starts at "
        "byte (n - 1) * part_size). `stored` is true when the blob is stored already. The "
        "upload becomes the blob at commit, once its size and sha256 check out; one that "
        "does not match is dropped, to be sent again.",
        response={
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
        status=201,
        errors=(400, 401, 404),
    )
)
def start_upload(request: HttpRequest, sha256: str):
    size = _size_to_receive(request, sha256)
    if size is None:
        return JsonResponse({"sha256": sha256, "stored": True})
    state, created = open_upload(actor=request.user, sha256=sha256, size=size)
    return JsonResponse(upload_json(request, state), status=201 if created else 200)


def upload_json(request: HttpRequest, state: UploadState) -> dict[str, Any]:
    upload = state.upload
    found: dict[str, Any] = {
        "id": str(upload.uid),
        "sha256": upload.sha256,
        "size": upload.size,
        "stored": False,
    }
    if upload.s3_upload_id:
        found["part_size"] = upload.part_size
        found["parts"] = [
            {
                "number": number,
                "url": presigned_part(upload, number),
                "headers": {"Content-Type": "application/octet-stream"},
            }
            for number in state.missing_parts
        ]
    else:
        found["offset"] = state.offset
        route = reverse("api-upload", kwargs={"uid": upload.uid})
        found["url"] = request.build_absolute_uri(route)
    return found


@api_view(
    patch=Operation(
        "Send the rest of a resumable upload",
        "Local folder only: the bytes from `Upload-Offset` (the offset the upload holds) on. "
        "Whatever arrives is kept, even when the connection is cut, so a later attempt asks "
        "where the upload stands and resumes there. 409 `offset_mismatch` when the offset "
        "is not the one held, 409 `upload_busy` while another request sends to it.",
        parameters=(
            {
                "name": "Upload-Offset",
                "in": "header",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
        ),
        body=BYTES,
        response={
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "offset": {"type": "integer"},
                "size": {"type": "integer"},
            },
        },
        errors=(400, 401, 404, 409, 411),
    )
)
def append_to_upload(request: HttpRequest, uid: str):
    upload = get_object_or_404(BlobUpload, uid=uid, created_by=request.user)
    if upload.s3_upload_id:
        raise ApiError(
            409,
            "send_parts",
            "This upload goes straight to the store in parts: POST to the blob's resumable_url "
            "for where to send each.",
        )
    try:
        length = parse_whole_number(request.headers.get("Content-Length", ""), "Content-Length")
    except ValidationError:
        raise ApiError(411, "length_required", "Send Content-Length: the body's size.") from None
    try:
        offset = parse_whole_number(request.headers.get("Upload-Offset", ""), "Upload-Offset")
    except ValidationError:
        raise ApiError(
            400,
            "invalid_offset",
            "Send Upload-Offset: the number of bytes the upload holds, as the POST to its "
            "resumable_url answers.",
        ) from None
    try:
        held = append_upload(upload, request, offset=offset, length=length)
    except ValidationError as error:
        if error.code in ("upload_busy", "offset_mismatch"):
            raise ApiError(409, error.code, error.messages[0]) from error
        raise
    if held < offset + length:
        raise ApiError(
            400,
            "incomplete",
            f"The body ended after {held - offset} of its {length} bytes; the upload holds "
            f"{held}: send the rest from there.",
        )
    return JsonResponse({"id": str(upload.uid), "offset": held, "size": upload.size})


@api_view(
    post=Operation(
        "Commit a version",
        "Phase three: every blob checked, the version numbered and made visible.",
        response=VERSION,
        errors=(400, 401, 403, 404),
    )
)
def commit(request: HttpRequest, uid: str):
    version = version_for(request.user, uid)
    check(request.user, Action.WRITE_PROJECT, version)
    version = commit_version(actor=request.user, version=version)
    return JsonResponse(version_json(request, version))
