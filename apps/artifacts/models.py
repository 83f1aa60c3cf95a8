"""Projects, the artifacts logged into them, their immutable versions and the blobs behind them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.accounts.models import Team
from apps.lib.validators import TAG_PATTERN


class Project(models.Model):
    """Where a team's runs log artifacts."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="projects")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["team", "name"], name="artifacts_project_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team.slug}/{self.name}"


class Artifact(models.Model):
    """A named sequence of versions in a project. Its type is fixed by its first version."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=128)
    artifact_type = models.CharField(max_length=128)
    # The number the next committed version takes; read and bumped under a row lock.
    next_version_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "name"], name="artifacts_artifact_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project}/{self.name}"


def source_version_path(team: str, project: str, artifact: str, label: str) -> str:
    """A source version's path, `<team>/<project>/<artifact>:vN`: the one form pages and the API
    show it in, as `apps.registries.paths` writes a linked version's."""
    return f"{team}/{project}/{artifact}:{label}"


class Blob(models.Model):
    """File content, stored once under its sha256 whatever the paths that point at it."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="artifacts_blob_sha256_hex"
            ),
        ]

    def __str__(self) -> str:
        return self.sha256

    @property
    def storage_name(self) -> str:
        return blob_storage_name(self.sha256)


def blob_storage_name(sha256: str) -> str:
    """Where a blob lives in storage; two levels of fan-out keep folders small."""
    return f"blobs/sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobUpload(models.Model):
    """A large blob on its way in pieces, so that an upload cut off midway resumes where it
    stopped instead of starting again.

    On the local folder the bytes gather in one file under `uploads/` (see `upload_name`); on
    S3 in a multipart upload. Either becomes the blob only at commit, once its size and sha256
    check out; `clean_uploads` removes the sessions nobody finished.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # S3's id of the multipart upload and the size of its parts (all but the last); blank and 0
    # on the local folder, where the bytes arrive as one stream appended to.
    s3_upload_id = models.CharField(max_length=1024, blank=True)
    part_size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["sha256", "created_by"], name="artifacts_blob_upload_one_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sha256} ({self.size} bytes)"

    @property
    def upload_name(self) -> str:
        """Where the local folder keeps the bytes received so far."""
        return f"uploads/{self.uid}"


class VersionState(models.TextChoices):
    PENDING = "pending", "Pending"
    COMMITTED = "committed", "Committed"


class ArtifactVersionQuerySet(models.QuerySet):
    def committed(self) -> ArtifactVersionQuerySet:
        """Only versions whose files are all uploaded and verified: the only ones anyone sees."""
        return self.filter(state=VersionState.COMMITTED)


class ArtifactVersion(models.Model):
    """Immutable content of an artifact: its manifest never changes once committed.

    A version is pending (no number, invisible) until every blob is verified; commit gives it
    the next number of its artifact.
    """

    artifact = models.ForeignKey(Artifact, on_delete=models.CASCADE, related_name="versions")
    # How clients name a version before it has a number (pending uploads) and in URLs.
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(
        max_length=16, choices=VersionState.choices, default=VersionState.PENDING
    )
    digest = models.CharField(
        max_length=64, blank=True, help_text="sha256 over the sorted manifest"
    )
    size = models.PositiveBigIntegerField(default=0)
    file_count = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArtifactVersionQuerySet.as_manager()

    class Meta:
        ordering = ["artifact", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["artifact", "number"], name="artifacts_version_number_unique"
            ),
            models.CheckConstraint(
                condition=(
                    Q(state=VersionState.PENDING, number__isnull=True)
                    | (
                        Q(
                            state=VersionState.COMMITTED,
                            number__isnull=False,
                            committed_at__isnull=False,
                        )
                        & ~Q(digest="")
                    )
                ),
                name="artifacts_version_committed_has_number_and_digest",
            ),
        ]
        indexes = [models.Index(fields=["artifact", "state", "-number"])]

    def __str__(self) -> str:
        artifact = self.artifact
        project = artifact.project
        return source_version_path(project.team.slug, project.name, artifact.name, self.label)

    @property
    def project(self) -> Project:
        return self.artifact.project

    @property
    def label(self) -> str:
        return f"v{self.number}" if self.number is not None else "pending"

    @property
    def is_committed(self) -> bool:
        return self.state == VersionState.COMMITTED


class ManifestEntry(models.Model):
    """One file of a version: its path and the blob holding its bytes."""

    version = models.ForeignKey(ArtifactVersion, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    # No database constraint: a pending version names blobs that are still being uploaded;
    # commit checks that every one exists before the version becomes visible.
    blob = models.ForeignKey(
        Blob, on_delete=models.DO_NOTHING, db_constraint=False, related_name="entries"
    )
    size = models.PositiveBigIntegerField()

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "path"], name="artifacts_manifest_path_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.path


class VersionTag(models.Model):
    """A tag on a source version; it shows through every link to that version."""

    version = models.ForeignKey(ArtifactVersion, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "name"], name="artifacts_version_tag_unique"
            ),
            models.CheckConstraint(
                condition=Q(name__regex=TAG_PATTERN), name="artifacts_version_tag_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name
