"""Logging versions over HTTP, in the two phases of DESIGN.md.

1. POST the manifest to .../artifacts/<name>/versions/: the answer names the version (`id`) and
   the blobs the server lacks, each with where to send it.
2. PUT each missing blob to its `upload_url`; the bytes are checked as they stream in.
3. POST .../versions/<id>/commit/: the version gets its number and becomes visible.

A client that stopped halfway repeats step 1 with the same manifest and sends only what is still
missing; identical content to the latest version comes back committed, with nothing to send.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse

from apps.accounts.policy import Action, check
from apps.artifacts.lookups import project_for
from apps.artifacts.models import ArtifactVersion, Blob, ManifestEntry, VersionState
from apps.artifacts.services import FileSpec, begin_version, commit_version
from apps.artifacts.storage import presigned_upload, store_blob
from apps.lib.api import ApiError, api_view, json_body
from apps.lib.validators import validate_sha256
from apps.lineage.models import Run


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
    return {
        "sha256": spec.sha256,
        "size": spec.size,
        "upload_url": target["url"],
        "upload_headers": target["headers"],
    }


def _files(data: dict[str, Any]) -> list[FileSpec]:
    files = data.get("files")
    if not isinstance(files, list):
        raise ApiError(400, "invalid_manifest", "'files' must be a list of {path, sha256, size}.")
    specs = []
    for item in files:
        if not isinstance(item, dict) or set(item) != {"path", "sha256", "size"}:
            raise ApiError(
                400,
                "invalid_manifest",
                "Each file is an object with exactly path, sha256 and size.",
            )
        specs.append(FileSpec(item["path"], item["sha256"], item["size"]))
    return specs


@api_view("POST")
def log_version(request: HttpRequest, org: str, team: str, project: str, artifact: str):
    """Phase one: the manifest. Answers 201 with what to upload, or 200 when nothing is new."""
    found = project_for(request.user, org, team, project)
    data = json_body(request)
    run = None
    if run_id := data.get("run"):
        run = get_object_or_404(Run, project=found, run_id=str(run_id))
    for key in ("metadata", "metrics"):
        if key in data and not isinstance(data[key], dict):
            raise ApiError(400, f"invalid_{key}", f"'{key}' must be a JSON object.")
    pending = begin_version(
        actor=request.user,
        project=found,
        name=str(data.get("name") or artifact),
        artifact_type=data.get("type", ""),
        files=_files(data),
        description=str(data.get("description", "")),
        metadata=data.get("metadata"),
        metrics=data.get("metrics"),
        run=run,
    )
    status = 200 if pending.version.is_committed else 201
    return JsonResponse(version_json(request, pending.version, pending.missing), status=status)


@api_view("PUT")
def upload_blob(request: HttpRequest, sha256: str):
    """Phase two: one blob's bytes, streamed and checked against its sha256 and size."""
    try:
        validate_sha256(sha256)
    except ValidationError as error:
        raise ApiError(400, "invalid_digest", error.messages[0]) from error
    if Blob.objects.filter(sha256=sha256).exists():
        return JsonResponse({"sha256": sha256, "stored": True})
    # Only a blob that a pending version of the caller names may be sent: no stray storage.
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
    store_blob(request, sha256=sha256, size=expected_size)
    return JsonResponse({"sha256": sha256, "stored": True}, status=201)


@api_view("POST")
def commit(request: HttpRequest, uid: str):
    """Phase three: check every blob, number the version, make it visible."""
    version = get_object_or_404(
        ArtifactVersion.objects.select_related("artifact__project__team"), uid=uid
    )
    check(request.user, Action.WRITE_PROJECT, version)
    version = commit_version(actor=request.user, version=version)
    return JsonResponse(version_json(request, version))
