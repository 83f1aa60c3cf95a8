"""The S3 backend for blobs, in a module of its own: boto3 costs each process about 25 MB and a
third of a second to import, so only a server whose blobs live in S3 loads it."""

from __future__ import annotations

from functools import cached_property
from typing import BinaryIO

from botocore.exceptions import ClientError
from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class ArtifactS3Storage(S3Storage):
    """django-storages' S3 backend, with one S3 client shared by every thread for the calls
    the registry makes on each request (existence, size, deletion, presigned URLs, reads).

    The stock backend builds a boto3 session and resource per thread; on a server that runs
    each request on a new thread, that reloads S3's service model (about 15 MB and tens of
    milliseconds) per request. boto3 clients, unlike resources, are safe to share.
    """

    @cached_property
    def client(self):
        return self._create_session().client(
            "s3",
            region_name=self.region_name,
            use_ssl=self.use_ssl,
            endpoint_url=self.endpoint_url,
            config=self.client_config,
            verify=self.verify,
        )

    def _key(self, name: str) -> str:
        return self._normalize_name(clean_name(name))

    def _head(self, name: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket_name, Key=self._key(name))
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return None
            raise

    def exists(self, name: str) -> bool:
        return self._head(name) is not None

    def size(self, name: str) -> int:
        head = self._head(name)
        if head is None:
            raise FileNotFoundError(name)
        return head["ContentLength"]

    def delete(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket_name, Key=self._key(name))

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket_name, "Key": self._key(name), **(parameters or {})},
            ExpiresIn=expire or self.querystring_expire,
        )

    def open_stream(self, name: str) -> BinaryIO:
        """The object's body as a stream (django-storages' files buffer what they read)."""
        return self.client.get_object(Bucket=self.bucket_name, Key=self._key(name))["Body"]

    # Multipart uploads: a large blob goes to the store in parts that survive a cut connection.

    def start_multipart(self, name: str) -> str:
        """Begin a multipart upload to `name`; returns S3's id for it."""
        started = self.client.create_multipart_upload(
            Bucket=self.bucket_name, Key=self._key(name), ContentType="application/octet-stream"
        )
        return started["UploadId"]

    def uploaded_parts(self, name: str, upload_id: str) -> dict[int, str] | None:
        """The parts the store holds, by number, with their ETags; None if the upload is gone
        (completed, aborted, or expired by a lifecycle rule)."""
        parts: dict[int, str] = {}
        pages = self.client.get_paginator("list_parts").paginate(
            Bucket=self.bucket_name, Key=self._key(name), UploadId=upload_id
        )
        try:
            for page in pages:
                parts.update((part["PartNumber"], part["ETag"]) for part in page.get("Parts", ()))
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchUpload":
                return None
            raise
        return parts

    def presigned_part(self, name: str, upload_id: str, number: int, expires: int) -> str:
        return self.client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": self.bucket_name,
                "Key": self._key(name),
                "UploadId": upload_id,
                "PartNumber": number,
            },
            ExpiresIn=expires,
        )

    def complete_multipart(self, name: str, upload_id: str, parts: dict[int, str]) -> None:
        self.client.complete_multipart_upload(
            Bucket=self.bucket_name,
            Key=self._key(name),
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts.items())]
            },
        )

    def abort_multipart(self, name: str, upload_id: str) -> None:
        """Drop a multipart upload and the parts it holds; one already gone is fine."""
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket_name, Key=self._key(name), UploadId=upload_id
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "NoSuchUpload":
                raise

    def multipart_uploads(self, prefix: str):
        """(name, upload id, started) of every unfinished multipart upload under `prefix`."""
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket_name, Prefix=self._key(prefix)
        )
        for page in pages:
            for upload in page.get("Uploads", ()):
                yield upload["Key"], upload["UploadId"], upload["Initiated"]
