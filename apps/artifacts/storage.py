"""Blob bytes through Django's storage API: a local folder, or S3 when ARTIFACT_S3_BUCKET is set.

Any storage but the local folder is the S3 one (apps.artifacts.s3): it is told apart from the
folder without naming its class, so that boto3 is imported only where S3 is configured.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from prometheus_client import Counter

from apps.artifacts.models import Blob, BlobUpload, blob_storage_name
from registry.streams import CHUNK_SIZE, copy_while_hashing, writing_behind

# Uploads are spooled to a temporary file and only stored once verified; small ones stay in RAM.
SPOOL_MAX_MEMORY = 8 * 1024 * 1024

# Blob bytes that pass through the app (presigned S3 transfers go between client and bucket).
BLOB_BYTES_RECEIVED = Counter(
    "registry_blob_received_bytes",
    "Blob bytes uploaded through the app: whole blobs once checked, resumable uploads as they "
    "arrive.",
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
        _move_into_place(tmp.name, final)
    else:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY) as spool:
            _copy_checked(stream, spool.write, sha256=sha256, size=size)
            spool.seek(0)
            if not storage.exists(name):
                storage.save(name, File(spool, name=name))
    BLOB_BYTES_RECEIVED.inc(size)
    return _record_blob(sha256, size)


def _move_into_place(checked: str, final: Path) -> None:
    """Give a checked file, already on disk, its content address in one rename."""
    os.chmod(checked, 0o644)
    os.replace(checked, final)


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
    if isinstance(storage, FileSystemStorage):
        if (blob := _finish_local_upload(storage, sha256, size)) is not None:
            return blob
    else:
        _finish_multipart_upload(storage, sha256, size)
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


# Files at least this large go up in a resumable upload (see BlobUpload); smaller ones in one
# request, which needs no session and loses little when cut off.
RESUMABLE_BYTES = 64 * 1024 * 1024
# S3 parts: S3 takes none under 5 MiB but the last; at most MAX_PARTS of them, so that the
# list of parts to send stays short.
PART_BYTES = 8 * 1024 * 1024
MAX_PARTS = 1000


def is_resumable(size: int) -> bool:
    return size >= RESUMABLE_BYTES


@dataclass
class UploadState:
    """What the store holds of an upload: bytes on the local folder, parts on S3."""

    upload: BlobUpload
    offset: int = 0
    parts: dict[int, str] = field(default_factory=dict)

    @property
    def missing_parts(self) -> list[int]:
        count = max(1, math.ceil(self.upload.size / self.upload.part_size))
        return [number for number in range(1, count + 1) if number not in self.parts]


def open_upload(*, actor: Any, sha256: str, size: int) -> tuple[UploadState, bool]:
    """The caller's resumable upload of a blob, begun if there is none, and whether it is new.

    One that no longer matches (another size declared, its S3 upload gone) is dropped and begun
    again.
    """
    upload = BlobUpload.objects.filter(sha256=sha256, created_by=actor).first()
    if upload is not None:
        state = _upload_state(upload)
        if upload.size == size and state is not None:
            return state, False
        discard_upload(upload)
    storage = blob_storage()
    upload = BlobUpload(sha256=sha256, size=size, created_by=actor)
    if not isinstance(storage, FileSystemStorage):
        upload.part_size = max(PART_BYTES, math.ceil(size / MAX_PARTS / 2**20) * 2**20)
        upload.s3_upload_id = storage.start_multipart(blob_storage_name(sha256))
    try:
        with transaction.atomic():
            upload.save()
    except IntegrityError:
        # The same caller began one at the same moment, in another request: use that one.
        if upload.s3_upload_id:
            storage.abort_multipart(blob_storage_name(sha256), upload.s3_upload_id)
        return open_upload(actor=actor, sha256=sha256, size=size)
    return UploadState(upload), True


def _upload_state(upload: BlobUpload) -> UploadState | None:
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        path = Path(storage.path(upload.upload_name))
        return UploadState(upload, offset=path.stat().st_size if path.exists() else 0)
    parts = storage.uploaded_parts(blob_storage_name(upload.sha256), upload.s3_upload_id)
    return None if parts is None else UploadState(upload, parts=parts)


def presigned_part(upload: BlobUpload, number: int) -> str:
    """Where a client PUTs one part of an S3 upload."""
    return blob_storage().presigned_part(
        blob_storage_name(upload.sha256), upload.s3_upload_id, number, PRESIGNED_UPLOAD_SECONDS
    )


def append_upload(upload: BlobUpload, stream: BinaryIO, *, offset: int, length: int) -> int:
    """Append `length` bytes of `stream` to a local upload that holds `offset` bytes; returns
    how many it holds after.

    Whatever arrives is kept, even when the sender is cut off midway: that is where the next
    attempt resumes. The bytes are checked against the sha256 when the version commits.
    """
    storage = blob_storage()
    path = Path(storage.path(upload.upload_name))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("ab") as file:
        try:
            # One writer at a time: two appends at once would interleave their bytes.
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValidationError(
                "Another request is still sending this upload; ask where it stands, then "
                "send the rest.",
                code="upload_busy",
            ) from None
        held = file.seek(0, os.SEEK_END)
        if offset != held:
            raise ValidationError(
                f"This upload holds {held} bytes, not {offset}; send from Upload-Offset {held}.",
                code="offset_mismatch",
            )
        if held + length > upload.size:
            raise ValidationError(
                f"This upload holds {held} of {upload.size} bytes; {length} more would be too "
                "many.",
                code="size_mismatch",
            )
        try:
            while length and (chunk := stream.read(min(CHUNK_SIZE, length))):
                file.write(chunk)
                length -= len(chunk)
                BLOB_BYTES_RECEIVED.inc(len(chunk))
        finally:
            file.flush()
            os.fsync(file.fileno())
        return file.tell()


def _finish_local_upload(storage: FileSystemStorage, sha256: str, size: int) -> Blob | None:
    """Check a fully received local upload of the blob and move it to its address."""
    for upload in BlobUpload.objects.filter(sha256=sha256, size=size):
        path = Path(storage.path(upload.upload_name))
        if not path.exists() or path.stat().st_size != size:
            continue
        with path.open("rb") as received:
            matches = hashlib.file_digest(received, "sha256").hexdigest() == sha256
        if not matches:
            discard_upload(upload)
            raise ValidationError(
                f"The upload for {sha256} does not match its sha256; send it again.",
                code="checksum_mismatch",
            )
        final = Path(storage.path(blob_storage_name(sha256)))
        final.parent.mkdir(parents=True, exist_ok=True)
        _move_into_place(str(path), final)
        upload.delete()
        return _record_blob(sha256, size)
    return None


def _finish_multipart_upload(storage: Storage, sha256: str, size: int) -> None:
    """Complete an S3 upload of the blob whose every part the store holds; the object it makes
    is then checked as any other sent straight to the store."""
    # The blob came by another way meanwhile: completing would put unchecked bytes over
    # checked ones.
    stored = Blob.objects.filter(sha256=sha256).exists()
    for upload in BlobUpload.objects.filter(sha256=sha256, size=size):
        state = None if stored else _upload_state(upload)
        if state is None:  # stored already, or gone from the store
            discard_upload(upload)
        elif not state.missing_parts:
            storage.complete_multipart(blob_storage_name(sha256), upload.s3_upload_id, state.parts)
            upload.delete()
            return


def discard_upload(upload: BlobUpload) -> None:
    """Drop an upload and whatever bytes it holds."""
    storage = blob_storage()
    if isinstance(storage, FileSystemStorage):
        Path(storage.path(upload.upload_name)).unlink(missing_ok=True)
    else:
        storage.abort_multipart(blob_storage_name(upload.sha256), upload.s3_upload_id)
    upload.delete()


def clean_uploads(*, begun_before: datetime, dry_run: bool = False) -> int:
    """Drop the uploads begun before `begun_before` and those whose blob is stored by now, with
    what the store holds for them; and what the store has held since before then for no upload
    (a crash's leftovers). Returns how many were dropped, or with `dry_run` would be."""
    storage = blob_storage()
    stored = Blob.objects.filter(sha256=OuterRef("sha256"))
    dropped = list(BlobUpload.objects.filter(Q(created_at__lt=begun_before) | Exists(stored)))
    if isinstance(storage, FileSystemStorage):
        names = {str(uid) for uid in BlobUpload.objects.values_list("uid", flat=True)}
        folder = Path(storage.path("uploads"))
        leftovers = [
            partial(path.unlink, missing_ok=True)
            for path in (folder.iterdir() if folder.exists() else ())
            if path.name not in names
            and datetime.fromtimestamp(path.stat().st_mtime, UTC) < begun_before
        ]
    else:
        ids = set(BlobUpload.objects.values_list("s3_upload_id", flat=True))
        leftovers = [
            partial(storage.abort_multipart, name, upload_id)
            for name, upload_id, started in storage.multipart_uploads("blobs/")
            if upload_id not in ids and started < begun_before
        ]
    if not dry_run:
        for upload in dropped:
            discard_upload(upload)
        for remove in leftovers:
            remove()
    return len(dropped) + len(leftovers)
