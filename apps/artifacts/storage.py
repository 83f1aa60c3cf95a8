"""Blob bytes through Django's storage API: a local folder, or S3 when ARTIFACT_S3_BUCKET is set."""

from __future__ import annotations

import hashlib
import tempfile
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages

from apps.artifacts.models import Blob, blob_storage_name

CHUNK_SIZE = 1024 * 1024
# Uploads are spooled to a temporary file and only stored once verified; small ones stay in RAM.
SPOOL_MAX_MEMORY = 8 * 1024 * 1024


def blob_storage() -> Storage:
    return storages["artifacts"]


def store_blob(stream: BinaryIO, *, sha256: str, size: int) -> Blob:
    """Store bytes under their digest after checking them, and return the Blob row.

    The bytes are hashed and counted as they stream in; nothing reaches its content address
    unless size and sha256 both match, so a bad upload leaves no trace.
    """
    storage = blob_storage()
    name = blob_storage_name(sha256)
    hasher = hashlib.sha256()
    received = 0
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as spool:
        while chunk := stream.read(CHUNK_SIZE):
            received += len(chunk)
            if received > size:
                raise ValidationError(
                    f"Upload for {sha256} sent more than the declared {size} bytes.",
                    code="size_mismatch",
                )
            hasher.update(chunk)
            spool.write(chunk)
        if received != size:
            raise ValidationError(
                f"Upload for {sha256} sent {received} bytes; the manifest declared {size}.",
                code="size_mismatch",
            )
        if hasher.hexdigest() != sha256:
            raise ValidationError(
                f"Upload content has sha256 {hasher.hexdigest()}, not the declared {sha256}.",
                code="checksum_mismatch",
            )
        spool.seek(0)
        if not storage.exists(name):
            storage.save(name, File(spool, name=name))
    blob, _ = Blob.objects.get_or_create(sha256=sha256, defaults={"size": size})
    return blob


def open_blob(blob: Blob) -> BinaryIO:
    """Open a blob's bytes for streaming reads."""
    return blob_storage().open(blob.storage_name, "rb")
