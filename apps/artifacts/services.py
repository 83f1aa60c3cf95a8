"""Logging versions: the manifest first, then the missing blobs, then one committing transaction."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Team
from apps.accounts.policy import Action, check
from apps.artifacts.models import (
    Artifact,
    ArtifactVersion,
    Blob,
    ManifestEntry,
    Project,
    VersionState,
)
from apps.artifacts.storage import CHUNK_SIZE, adopt_uploaded_blob, store_blob
from apps.audit.models import AuditAction, AuditEvent
from apps.lib.validators import (
    validate_artifact_name,
    validate_artifact_type,
    validate_file_path,
    validate_manifest_paths,
    validate_metadata,
    validate_metrics,
    validate_project_name,
    validate_sha256,
)

MANIFEST_MAX_FILES = 100_000


@dataclass(frozen=True)
class FileSpec:
    """One file of a manifest as the client declares it."""

    path: str
    sha256: str
    size: int


def manifest_digest(files: Iterable[FileSpec]) -> str:
    """The version digest: sha256 over the manifest sorted by path."""
    hasher = hashlib.sha256()
    for spec in sorted(files, key=lambda f: f.path):
        hasher.update(f"{spec.path}\0{spec.sha256}\0{spec.size}\n".encode())
    return hasher.hexdigest()


def _clean_manifest(files: Iterable[FileSpec]) -> list[FileSpec]:
    cleaned: list[FileSpec] = []
    seen: set[str] = set()
    for spec in files:
        validate_file_path(spec.path)
        validate_sha256(spec.sha256)
        if isinstance(spec.size, bool) or not isinstance(spec.size, int) or spec.size < 0:
            raise ValidationError(
                f"File {spec.path!r} has size {spec.size!r}; sizes are whole numbers of bytes.",
                code="invalid_size",
            )
        if spec.path in seen:
            raise ValidationError(
                f"File path {spec.path!r} appears twice in the manifest.", code="duplicate_path"
            )
        seen.add(spec.path)
        cleaned.append(spec)
    validate_manifest_paths(spec.path for spec in cleaned)
    if not cleaned:
        raise ValidationError("A version needs at least one file.", code="empty_manifest")
    if len(cleaned) > MANIFEST_MAX_FILES:
        raise ValidationError(
            f"A version may hold at most {MANIFEST_MAX_FILES} files; this one has "
            f"{len(cleaned)}. Split it, or pack small files into archives.",
            code="too_many_files",
        )
    return cleaned


def create_project(*, actor: Any, team: Team, name: str, description: str = "") -> Project:
    """Create a project in a team, or return the existing one of that name."""
    validate_project_name(name)
    project, created = Project.objects.get_or_create(
        team=team, name=name, defaults={"description": description}
    )
    if created:
        check(actor, Action.WRITE_PROJECT, project)
    else:
        check(actor, Action.VIEW_PROJECT, project)
    return project


def _latest_committed(artifact: Artifact) -> ArtifactVersion | None:
    return artifact.versions.committed().order_by("-number").first()


@dataclass
class PendingUpload:
    """The answer to a manifest: the version, and the blobs the server still lacks."""

    version: ArtifactVersion
    missing: list[FileSpec]


@transaction.atomic
def begin_version(
    *,
    actor: Any,
    project: Project,
    name: str,
    artifact_type: str,
    files: Iterable[FileSpec],
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    run: Any = None,
) -> PendingUpload:
    """Phase one of logging: record the manifest and say which blobs to send.

    Content identical to the latest version returns that version with nothing missing. A `run`
    (lineage's Run) records the version as its output, identical content included. Lineage
    stands above artifacts, so its outputs are reached through the reverse relation its model
    puts on versions (`logged_by`), not imported.
    """
    check(actor, Action.WRITE_PROJECT, project)
    validate_artifact_name(name)
    validate_artifact_type(artifact_type)
    metadata = validate_metadata(dict(metadata or {}))
    metrics = validate_metrics(dict(metrics or {}))
    files = _clean_manifest(files)
    if run is not None and run.project_id != project.pk:
        raise ValidationError(
            f"Run {run.name} belongs to another project; log into {run.project.name}.",
            code="wrong_project",
        )

    artifact, _ = Artifact.objects.get_or_create(
        project=project, name=name, defaults={"artifact_type": artifact_type}
    )
    if artifact.artifact_type != artifact_type:
        raise ValidationError(
            f"Artifact {name} in {project.name} has type {artifact.artifact_type!r}; "
            f"it cannot take a version of type {artifact_type!r}. Use another name.",
            code="type_mismatch",
        )

    digest = manifest_digest(files)
    latest = _latest_committed(artifact)
    if latest is not None and latest.digest == digest:
        if run is not None:
            latest.logged_by.get_or_create(run=run)
        return PendingUpload(version=latest, missing=[])

    # The same manifest sent again by the same person resumes their pending upload.
    version = artifact.versions.filter(
        state=VersionState.PENDING, created_by=actor, digest=digest
    ).first()
    if version is None:
        version = ArtifactVersion.objects.create(
            artifact=artifact,
            digest=digest,
            created_by=actor,
            size=sum(spec.size for spec in files),
            file_count=len(files),
            description=description,
            metadata=metadata,
            metrics=metrics,
        )
        ManifestEntry.objects.bulk_create(
            ManifestEntry(version=version, path=spec.path, blob_id=spec.sha256, size=spec.size)
            for spec in files
        )
    else:
        version.description, version.metadata, version.metrics = description, metadata, metrics
        version.save(update_fields=["description", "metadata", "metrics", "updated_at"])
    if run is not None:
        version.logged_by.get_or_create(run=run)
    stored = set(
        Blob.objects.filter(sha256__in={spec.sha256 for spec in files}).values_list(
            "sha256", flat=True
        )
    )
    missing = list({spec.sha256: spec for spec in files if spec.sha256 not in stored}.values())
    return PendingUpload(version=version, missing=missing)


def commit_version(*, actor: Any, version: ArtifactVersion) -> ArtifactVersion:
    """Phase three: check every blob, number the version and make it visible, all at once.

    If the same content was committed meanwhile as the latest version, the pending one is
    dropped and the latest returned.
    """
    if version.is_committed:
        return version
    _adopt_direct_uploads(version)
    with transaction.atomic():
        # The artifact row holds the counter; locking it serializes numbering per artifact.
        artifact = (
            Artifact.objects.select_for_update(of=("self",))
            .select_related("project__team__organization")
            .get(pk=version.artifact_id)
        )
        version = ArtifactVersion.objects.select_for_update().get(pk=version.pk)
        version.artifact = artifact  # with its project, team and organization, read once
        if version.is_committed:
            return version
        check(actor, Action.WRITE_PROJECT, artifact.project)
        entries = list(version.files.all())
        stored = set(
            Blob.objects.filter(sha256__in={e.blob_id for e in entries}).values_list(
                "sha256", flat=True
            )
        )
        if missing := [e.path for e in entries if e.blob_id not in stored]:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise ValidationError(
                f"{len(missing)} file(s) are not uploaded yet: {shown}. Upload them, then commit.",
                code="blobs_missing",
            )
        digest = manifest_digest(FileSpec(e.path, e.blob_id, e.size) for e in entries)
        latest = _latest_committed(artifact)
        if latest is not None and latest.digest == digest:
            # The runs that logged the pending version logged the latest one.
            for output in version.logged_by.all():
                latest.logged_by.get_or_create(run_id=output.run_id)
            version.delete()
            return latest
        version.number = artifact.next_version_number
        version.state = VersionState.COMMITTED
        version.digest = digest
        version.committed_at = timezone.now()
        version.save(update_fields=["number", "state", "digest", "committed_at", "updated_at"])
        artifact.next_version_number += 1
        artifact.save(update_fields=["next_version_number"])
        AuditEvent.record(
            AuditAction.VERSION_LOG,
            organization=artifact.project.team.organization,
            actor=actor,
            target=str(version),
            version=version,
            digest=digest,
        )
    return version


def _adopt_direct_uploads(version: ArtifactVersion) -> None:
    """Check and take in blobs the client sent straight to the store (presigned uploads).

    Each good blob is kept even when another fails, so a retry sends only the bad ones.
    """
    entries = version.files.exclude(blob_id__in=Blob.objects.values("sha256"))
    errors = []
    for sha256, size in entries.values_list("blob_id", "size").distinct():
        try:
            adopt_uploaded_blob(sha256, size)
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise errors[0]


FileSource = bytes | Path


def _open_source(source: FileSource) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")


def _hash_source(source: FileSource) -> tuple[str, int]:
    hasher = hashlib.sha256()
    size = 0
    with _open_source(source) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def complete_version(
    *, actor: Any, pending: PendingUpload, sources: Mapping[str, FileSource]
) -> PendingUpload:
    """Store the missing blobs whose bytes are at hand (`sources` by sha256), then commit the
    version if nothing is left to send: the whole of logging in one step when the files are
    small or already stored. Otherwise the version stays pending with what is still missing."""
    for spec in pending.missing:
        if spec.sha256 in sources:
            with _open_source(sources[spec.sha256]) as stream:
                store_blob(stream, sha256=spec.sha256, size=spec.size)
    still_missing = [spec for spec in pending.missing if spec.sha256 not in sources]
    if still_missing:
        return PendingUpload(version=pending.version, missing=still_missing)
    return PendingUpload(version=commit_version(actor=actor, version=pending.version), missing=[])


def log_version(
    *,
    actor: Any,
    project: Project,
    name: str,
    artifact_type: str,
    files: Mapping[str, FileSource],
    description: str = "",
    metadata: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
    run: Any = None,
) -> ArtifactVersion:
    """Log files (bytes or paths) from this process in one call: all three phases."""
    specs = {path: FileSpec(path, *_hash_source(source)) for path, source in files.items()}
    pending = begin_version(
        actor=actor,
        project=project,
        name=name,
        artifact_type=artifact_type,
        files=specs.values(),
        description=description,
        metadata=metadata,
        metrics=metrics,
        run=run,
    )
    sources = {spec.sha256: files[path] for path, spec in specs.items()}
    return complete_version(actor=actor, pending=pending, sources=sources).version
