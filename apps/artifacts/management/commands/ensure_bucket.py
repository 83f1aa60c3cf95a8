"""Create the artifacts bucket on an S3 endpoint if it is missing (MinIO, moto, a new account)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.management.base import BaseCommand, CommandError

from apps.artifacts.s3 import ArtifactS3Storage
from apps.artifacts.storage import blob_storage


class Command(BaseCommand):
    help = "Create the S3 bucket named by ARTIFACT_S3_BUCKET unless it exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--wait", type=float, default=0, help="seconds to wait for the endpoint to answer"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        storage = blob_storage()
        if not isinstance(storage, ArtifactS3Storage):
            raise CommandError("Artifacts are stored in a local folder: set ARTIFACT_S3_BUCKET.")
        deadline = time.monotonic() + options["wait"]
        while True:
            try:
                storage.client.head_bucket(Bucket=storage.bucket_name)
                self.stdout.write(f"Bucket {storage.bucket_name} exists.")
                return
            except EndpointConnectionError:
                if time.monotonic() > deadline:
                    raise CommandError(
                        f"No S3 endpoint answers at {storage.endpoint_url}."
                    ) from None
                time.sleep(0.2)
            except ClientError as error:
                if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                    raise CommandError(f"Bucket {storage.bucket_name}: {error}") from None
                storage.client.create_bucket(Bucket=storage.bucket_name)
                self.stdout.write(f"Created bucket {storage.bucket_name}.")
                return
