"""Sending blobs to people and clients: one file (with ETag and Range), or a version as a zip.

On S3 the answer is a redirect to a short-lived presigned URL, so file bytes never pass through
the app. From the local folder the bytes stream in chunks; nothing is read whole into memory.

Files are whatever users uploaded, so no browser may run one as a page of this site: each is
sent as an attachment, with a type that is never active (HTML and SVG go as bytes), no sniffing,
and a sandboxing policy in case it is opened all the same. Presigned S3 URLs carry the same type
and disposition.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from django.core.files.storage import FileSystemStorage
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header

from apps.artifacts.diffs import PREVIEW_SUFFIXES
from apps.artifacts.models import Blob, ManifestEntry
from apps.artifacts.storage import BLOB_BYTES_SENT, CHUNK_SIZE, blob_storage, open_blob
from apps.lib.validators import INT64_MAX

# ASCII digits only: `\d` would take digits of other scripts too.
RANGE_RE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
# Types no browser runs; any other file is sent as bytes.
INERT_TYPES = {
    **dict.fromkeys(PREVIEW_SUFFIXES, "text/plain; charset=utf-8"),
    ".log": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".zip": "application/zip",
    ".gz": "application/gzip",
}
USER_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


def inert_type(filename: str) -> str:
    """The type a user file is sent with: its own if inert, else plain bytes."""
    return INERT_TYPES.get(PurePosixPath(filename).suffix.lower(), "application/octet-stream")


def blob_response(request: HttpRequest, blob: Blob, filename: str) -> HttpResponse:
    """One file: a presigned redirect on S3, else a stream honouring If-None-Match and Range."""
    storage = blob_storage()
    disposition = content_disposition_header(as_attachment=True, filename=filename)
    content_type = inert_type(filename)
    if not isinstance(storage, FileSystemStorage):  # S3
        url = storage.url(
            blob.storage_name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": content_type,
            },
        )
        return HttpResponseRedirect(url)
    etag = f'"{blob.sha256}"'
    if etag in request.headers.get("If-None-Match", ""):
        return HttpResponseNotModified(headers={"ETag": etag})
    headers = {**USER_FILE_HEADERS, "ETag": etag, "Accept-Ranges": "bytes"}
    byte_range = _parse_range(request.headers.get("Range", ""), blob.size)
    if byte_range == "unsatisfiable":
        return HttpResponse(
            status=416, headers={**USER_FILE_HEADERS, "Content-Range": f"bytes */{blob.size}"}
        )
    stream = open_blob(blob)
    # Counted as the answer starts: a whole file then leaves through the server's sendfile,
    # out of Python's sight.
    BLOB_BYTES_SENT.inc(blob.size if byte_range is None else byte_range[1] - byte_range[0] + 1)
    if byte_range is None:
        response = FileResponse(
            stream,
            as_attachment=True,
            filename=filename,
            content_type=content_type,
            headers=headers,
        )
        response["Content-Length"] = str(blob.size)
        response.block_size = CHUNK_SIZE  # Django's default of 4 KiB costs a system call per 4 KiB
        return response
    start, end = byte_range
    stream.seek(start)
    response = StreamingHttpResponse(
        _read_span(stream, end - start + 1), status=206, content_type=content_type, headers=headers
    )
    response["Content-Disposition"] = disposition
    response["Content-Range"] = f"bytes {start}-{end}/{blob.size}"
    response["Content-Length"] = str(end - start + 1)
    return response


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """A single `bytes=first-last` range as (first, last) within the file, or "unsatisfiable";
    None sends the whole file, as RFC 9110 allows for a missing, malformed or multiple range."""
    match = RANGE_RE.fullmatch(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = (_bounded(digits) for digits in match.groups())
    if first is None:  # the last N bytes
        return "unsatisfiable" if last == 0 else (max(0, size - last), size - 1)
    if last is not None and last < first:
        return None
    if first >= size:
        return "unsatisfiable"
    return first, size - 1 if last is None else min(last, size - 1)


def _bounded(digits: str) -> int | None:
    """A range bound; past 18 digits it lies beyond any file, so int() never reads thousands."""
    if not digits:
        return None
    return int(digits) if len(digits) <= 18 else INT64_MAX


def _read_span(stream, length: int) -> Iterator[bytes]:
    with stream:
        while length > 0 and (chunk := stream.read(min(CHUNK_SIZE, length))):
            length -= len(chunk)
            yield chunk


class _Spool:
    """A write-only sink the zip writer fills and the response drains, chunk by chunk."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        parts, self.parts = self.parts, []
        yield from parts


def zip_chunks(entries: Iterable[ManifestEntry]) -> Iterator[bytes]:
    """A zip of the entries, produced as it is sent: files are stored, not compressed."""
    spool = _Spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for entry in entries:
            info = zipfile.ZipInfo(entry.path, date_time=(2020, 1, 1, 0, 0, 0))
            with (
                archive.open(info, "w", force_zip64=True) as target,
                open_blob(entry.blob) as source,
            ):
                while chunk := source.read(CHUNK_SIZE):
                    target.write(chunk)
                    BLOB_BYTES_SENT.inc(len(chunk))
                    yield from spool.drain()
            yield from spool.drain()
    yield from spool.drain()


def zip_response(entries: Iterable[ManifestEntry], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        zip_chunks(entries), content_type="application/zip", headers=USER_FILE_HEADERS
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response
