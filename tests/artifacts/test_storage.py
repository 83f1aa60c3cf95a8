"""Blob storage, run against a local folder and against moto's S3 server over HTTP."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import threading

import boto3
import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from apps.artifacts.models import Blob, blob_storage_name
from apps.artifacts.storage import blob_storage, open_blob, store_blob
from tests.factories import make_version


@pytest.fixture(params=["folder", "s3"])
def backend(request, db) -> str:
    """Each test runs once per backend; the folder one is the suite's autouse default."""
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return request.param


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_it_stores_verified_bytes_under_their_digest(backend):
    data = b"model weights"
    blob = store_blob(io.BytesIO(data), sha256=digest(data), size=len(data))
    name = blob_storage_name(digest(data))
    assert name == f"blobs/sha256/{digest(data)[:2]}/{digest(data)[2:4]}/{digest(data)}"
    assert blob.storage_name == name and blob.size == len(data)
    with blob_storage().open(name, "rb") as stored:
        assert stored.read() == data


def test_storing_the_same_content_twice_keeps_one_copy(backend):
    data = b"same"
    first = store_blob(io.BytesIO(data), sha256=digest(data), size=4)
    second = store_blob(io.BytesIO(data), sha256=digest(data), size=4)
    assert first.pk == second.pk and Blob.objects.count() == 1
    _, files = blob_storage().listdir(f"blobs/sha256/{digest(data)[:2]}/{digest(data)[2:4]}")
    assert files == [digest(data)]


@pytest.mark.parametrize(
    ("sent", "declared_size", "code"),
    [
        (b"short", 10, "size_mismatch"),
        (b"far too long", 3, "size_mismatch"),
        (b"tampered", 8, "checksum_mismatch"),
    ],
)
def test_bad_uploads_leave_no_trace(backend, sent, declared_size, code):
    claimed = digest(b"original")
    with pytest.raises(ValidationError) as caught:
        store_blob(io.BytesIO(sent), sha256=claimed, size=declared_size)
    assert caught.value.code == code
    assert not blob_storage().exists(blob_storage_name(claimed))
    assert not Blob.objects.exists()
    if backend == "folder":
        folder = blob_storage().path(blob_storage_name(claimed)).rsplit("/", 1)[0]
        assert not os.path.exists(folder) or os.listdir(folder) == []


def test_a_blob_larger_than_a_chunk_round_trips(backend):
    data = os.urandom(5 * 1024 * 1024 + 17)
    blob = store_blob(io.BytesIO(data), sha256=digest(data), size=len(data))
    with open_blob(blob) as stream:
        assert stream.read() == data


def test_logging_a_version_stores_each_file_once(backend, project, member):
    files = {"a.txt": b"alpha", "copy-of-a.txt": b"alpha", "b.bin": os.urandom(3000)}
    version = make_version(project, member, files=files)
    assert version.is_committed and version.file_count == 3 and version.size == 3010
    assert Blob.objects.count() == 2
    for entry in version.files.all():
        with open_blob(entry.blob) as stream:
            assert stream.read() == files[entry.path]

    again = make_version(project, member, files=files)
    assert again.pk == version.pk and Blob.objects.count() == 2


def test_the_settings_choose_s3_when_a_bucket_is_named():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['artifacts']['BACKEND'], "
        "settings.STORAGES['artifacts']['OPTIONS']['endpoint_url'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "registry_site.settings",
        "DEBUG": "true",
        "ARTIFACT_S3_BUCKET": "registry-blobs",
        "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    env.pop("DATABASE_URL", None)
    output = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert output == ["apps.artifacts.s3.ArtifactS3Storage", "http://127.0.0.1:9000"]


def test_on_s3_the_object_is_in_the_bucket(db, s3_storage, s3_endpoint):
    data = b"in the bucket"
    store_blob(io.BytesIO(data), sha256=digest(data), size=len(data))
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    stored = client.get_object(Bucket=s3_storage, Key=blob_storage_name(digest(data)))
    assert stored["Body"].read() == data


def test_on_s3_every_thread_shares_one_client(s3_storage):
    storage = blob_storage()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(storage.client))
    worker.start()
    worker.join()
    assert seen == [storage.client]


def test_ensure_bucket_creates_the_bucket_once(s3_storage, settings):
    settings.STORAGES["artifacts"]["OPTIONS"]["bucket_name"] = "made-by-command"
    settings.STORAGES = {**settings.STORAGES}  # a fresh storage with the new bucket name
    out = io.StringIO()
    call_command("ensure_bucket", stdout=out)
    call_command("ensure_bucket", stdout=out)
    assert out.getvalue().splitlines() == [
        "Created bucket made-by-command.",
        "Bucket made-by-command exists.",
    ]
    blob_storage().client.head_bucket(Bucket="made-by-command")


def test_ensure_bucket_says_when_storage_is_a_local_folder(db):
    with pytest.raises(CommandError, match="set ARTIFACT_S3_BUCKET"):
        call_command("ensure_bucket")
