"""Blob bytes through Django's storage API: a local folder, or S3 when ARTIFACT_S3_BUCKET is set.

Any storage but the local folder is the S3 one (apps.artifacts.s3): it is told apart from the
folder without naming its class, so that boto3 is imported only where S3 is configured.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from prometheus_client import Counter

from apps.artifacts.models import Blob, blob_storage_name
from registry.streams import CHUNK_SIZE, copy_while_hashing, writing_behind

# Uploads are spooled to a temporary file and only stored once verified; small ones stay in RAM.
SPOOL_MAX_MEMORY = 8 * 1024 * 1024

# Blob bytes that pass through the app (presigned S3 transfers go between client and bucket).
BLOB_BYTES_RECEIVED = Counter(
    "registry_blob_received_bytes", "Blob bytes uploaded through the app, checked and stored."
)
BLOB_BYTES_SENT = Counter(
    "registry_blob_sent_bytes", "Blob bytes downloaded through the app, single files and zips."
)


def blob_storage() -> Storage:
    return storages["artifacts"]


def store_blob(stream: BinaryIO, *, sha256: str, size: int) -> Blob:
    """Store bytes under their digest after checking them, and return the Blob row.

    The bytes are hashed and counted as they stream in; nothing reaches its content address
    unless size and sha256 both match, so a bad upload leaves no trace. On a local folder the
    checked file is renamed into place (one write); elsewhere it is spooled, then saved.
    """
    storage = blob_storage()
    name = blob_storage_name(sha256)
    if isinstance(storage, FileSystemStorage):
        final = Path(storage.path(name))
        final.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=final.parent, prefix=".upload-", delete=False) as tmp:
            try:
                _copy_checked(stream, writing_behind(tmp), sha256=sha256, size=size)
                # On disk before it takes its address, so that no version committed after this
                # can name a blob that a crash left short.
                tmp.flush()
                os.fsync(tmp.fileno())
            except BaseException:
                os.unlink(tmp.name)
                raise
        os.chmod(tmp.name, 0o644)
        os.replace(tmp.name, final)
    else:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as spool:
            _copy_checked(stream, spool.write, sha256=sha256, size=size)
            spool.seek(0)
            if not storage.exists(name):
                storage.save(name, File(spool, name=name))
    BLOB_BYTES_RECEIVED.inc(size)
    return _record_blob(sha256, size)


def _record_blob(sha256: str, size: int) -> Blob:
    """The blob's row, in one statement that leaves alone a row another upload of the same
    bytes wrote first (no read, no savepoint)."""
    [blob] = Blob.objects.bulk_create([Blob(sha256=sha256, size=size)], ignore_conflicts=True)
    return blob


def _copy_checked(
    stream: BinaryIO, write: Callable[[memoryview], object], *, sha256: str, size: int
) -> None:
    """Copy in chunks while hashing and counting; refuse on any mismatch."""
    if size <= CHUNK_SIZE:
        # Small enough to hold: read at once, sparing the copying pipeline its threads and
        # buffers, which cost more than the copy itself for the many small files of a model.
        data = stream.read(size + 1)
        _check(sha256, size, len(data), hashlib.sha256(data).hexdigest())
        write(memoryview(data))
        return
    hasher = hashlib.sha256()
    received = 0

    def read_into(buffer: memoryview) -> int:
        # WSGI input offers read() only, so each chunk is copied into the reused buffer.
        nonlocal received
        chunk = stream.read(len(buffer))
        received += len(chunk)
        if received > size:
            _check(sha256, size, received, "")  # stop at once: the sender sent too much
        buffer[: len(chunk)] = chunk
        return len(chunk)

    copy_while_hashing(read_into, write, hasher)
    _check(sha256, size, received, hasher.hexdigest())


def _check(sha256: str, size: int, received: int, digest: str) -> None:
    """Refuse bytes whose count or sha256 is not what the manifest declared."""
    if received > size:
        raise ValidationError(
            f"Upload for {sha256} sent more than the declared {size} bytes.",
            code="size_mismatch",
        )
    if received != size:
        raise ValidationError(
            f"Upload for {sha256} sent {received} bytes; the manifest declared {size}.",
            code="size_mismatch",
        )
    if digest != sha256:
        raise ValidationError(
            f"Upload content has sha256 {digest}, not the declared {sha256}.",
            code="checksum_mismatch",
        )


def open_blob(blob: Blob) -> BinaryIO:
    """Open a blob's bytes for streaming reads."""
    return _open_stored(blob_storage(), blob.storage_name)


PRESIGNED_UPLOAD_SECONDS = 3600


def presigned_upload(sha256: str, size: int) -> dict | None:
    """Where a client PUTs a blob straight into S3, and the headers to send; None off S3.

    The sha256 travels as S3's checksum header, so S3 itself refuses bytes that do not match.
    """
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        return None
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
    headers = {"Content-Type": "application/octet-stream", "x-amz-checksum-sha256": checksum}
    url = storage.client.generate_presigned_url(
        "put_object",
        Params={
            "Bucket": storage.bucket_name,
            "Key": blob_storage_name(sha256),
            "ContentType": headers["Content-Type"],
            "ContentLength": size,
            "ChecksumSHA256": checksum,
        },
        ExpiresIn=PRESIGNED_UPLOAD_SECONDS,
    )
    return {"url": url, "headers": headers}


def adopt_uploaded_blob(sha256: str, size: int) -> Blob | None:
    """Accept a blob a client put straight into the store, once its size and sha256 check out.

    Returns None if nothing is there yet. Where the store did not keep a checksum, the bytes are
    read back in chunks and hashed; a mismatch deletes the object and refuses.
    """
    storage = blob_storage()
    name = blob_storage_name(sha256)
    if not storage.exists(name):
        return None
    if storage.size(name) != size:
        storage.delete(name)
        raise ValidationError(
            f"The upload for {sha256} has the wrong size; send it again.", code="size_mismatch"
        )
    hasher = hashlib.sha256()
    for chunk in _stream_stored(storage, name):
        hasher.update(chunk)
    if hasher.hexdigest() != sha256:
        storage.delete(name)
        raise ValidationError(
            f"The upload for {sha256} does not match its sha256; send it again.",
            code="checksum_mismatch",
        )
    return _record_blob(sha256, size)


def _stream_stored(storage: Storage, name: str):
    """A stored file's bytes in chunks, never the whole file in memory."""
    with _open_stored(storage, name) as stream:
        while chunk := stream.read(CHUNK_SIZE):
            yield chunk


def _open_stored(storage: Storage, name: str) -> BinaryIO:
    if isinstance(storage, FileSystemStorage):
        return storage.open(name, "rb")
    return storage.open_stream(name)
