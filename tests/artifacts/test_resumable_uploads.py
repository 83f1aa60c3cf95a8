"""A large file cut off midway resumes where it stopped, on the local folder and on S3.

The cut is real: a TCP proxy between the client and the server (or the S3 server) closes the
connection once a number of bytes has gone through it, and counts what is sent after.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO

import boto3
import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts.models import ApiToken
from apps.artifacts import storage
from apps.artifacts.models import ArtifactVersion, Blob, BlobUpload, blob_storage_name
from registry.client import Client, RegistryError, Retries

pytestmark = pytest.mark.django_db(transaction=True)
MiB = 1024 * 1024


class CuttingProxy:
    """Forwards TCP connections to `target`; once armed, cuts the connection that carries the
    byte past `cut_after` (counted from arming, client to server), then lets all through."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.sent = 0  # bytes from clients to the server since the last count()
        self.cut_after: int | None = None
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, cut_after: int) -> None:
        with self.lock:
            self.sent, self.cut_after = 0, cut_after

    def count(self) -> None:
        with self.lock:
            self.sent = 0

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, upstream: bool) -> None:
        try:
            while data := source.recv(256 * 1024):
                if upstream:
                    with self.lock:
                        if self.cut_after is not None and self.sent + len(data) > self.cut_after:
                            data = data[: self.cut_after - self.sent]
                            self.sent, self.cut_after = self.sent + len(data), None
                            sink.sendall(data)
                            raise ConnectionAbortedError("cut")
                        self.sent += len(data)
                sink.sendall(data)
        except OSError:
            pass  # cut, or closed at the other end: close both
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def big_file(tmp_path):
    def write(size: int):
        folder = tmp_path / "model"
        folder.mkdir(exist_ok=True)
        data = os.urandom(size)
        (folder / "weights.bin").write_bytes(data)
        return folder, data

    return write


def settled(path, timeout: float = 10) -> int:
    """The size of a local upload once the server has kept what reached it before the cut (it
    holds a lock on the file while it writes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            with path.open("rb") as file:
                try:
                    fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return path.stat().st_size
                except BlockingIOError:
                    pass
        time.sleep(0.02)
    raise AssertionError(f"{path} holds nothing yet")


def log(folder, **client) -> dict:
    return Client(**client).log_artifact(folder, project="acme/ml/mnist", name="big", type="model")


def connect(monkeypatch, member, url: str) -> None:
    _, token = ApiToken.issue(member, "resume")
    monkeypatch.setenv("REGISTRY_URL", url)
    monkeypatch.setenv("REGISTRY_TOKEN", token)
    monkeypatch.setenv("REGISTRY_CONFIG", "/nonexistent/registry.json")


# The local folder


@pytest.fixture
def to_server(live_server, member, project, monkeypatch) -> Iterator[CuttingProxy]:
    """The client talks to the live server through a proxy that can cut it off."""
    monkeypatch.setattr(storage, "RESUMABLE_BYTES", 1 * MiB)
    host, port = live_server.thread.host, live_server.thread.port
    proxy = CuttingProxy((host, port))
    connect(monkeypatch, member, proxy.url)
    yield proxy
    proxy.close()


def test_small_files_keep_the_one_request_upload(to_server, big_file, monkeypatch):
    folder, _ = big_file(MiB - 1)
    assert log(folder)["state"] == "committed"
    assert not BlobUpload.objects.exists()


def test_a_cut_off_upload_resumes_from_the_byte_the_server_holds(
    to_server, big_file, artifact_storage
):
    folder, data = big_file(6 * MiB)
    to_server.arm(cut_after=3 * MiB)
    with pytest.raises(RegistryError) as caught:
        log(folder, retries=Retries(attempts=1))
    assert caught.value.code == "connection_failed"
    assert caught.value.message.startswith(f"Uploading via {to_server.url}/api/v1/blobs/")
    upload = BlobUpload.objects.get()
    assert not Blob.objects.exists() and not ArtifactVersion.objects.committed().exists()

    to_server.count()
    version = log(folder)  # as a later run of the same script would

    assert version["state"] == "committed"
    # Only the rest was sent (and a few small requests), not the 6 MiB again.
    assert to_server.sent < 6 * MiB - 2 * MiB
    assert (artifact_storage / blob_storage_name(upload.sha256)).read_bytes() == data
    assert not BlobUpload.objects.exists()
    assert list((artifact_storage / "uploads").iterdir()) == []


def test_the_client_resumes_by_itself_within_one_call(to_server, big_file, tmp_path):
    folder, data = big_file(6 * MiB)
    to_server.arm(cut_after=3 * MiB)
    version = log(folder)
    assert version["state"] == "committed"
    assert to_server.sent < 6 * MiB + MiB  # about 3 MiB before the cut, 3 after
    Client().link(version, "acme/model/big")
    target = Client().download("acme/model/big:latest", tmp_path / "out")
    assert (target / "weights.bin").read_bytes() == data


def test_a_corrupted_resume_is_refused_and_leaves_nothing(to_server, big_file, artifact_storage):
    folder, data = big_file(4 * MiB)
    to_server.arm(cut_after=2 * MiB)
    with pytest.raises(RegistryError):
        log(folder, retries=Retries(attempts=1))
    upload = BlobUpload.objects.get()
    held = artifact_storage / upload.upload_name
    held.write_bytes(b"x" * settled(held))  # the bytes kept so far go bad

    with pytest.raises(RegistryError) as caught:
        log(folder)
    assert caught.value.code == "checksum_mismatch"
    assert not Blob.objects.exists() and not ArtifactVersion.objects.committed().exists()
    assert not (artifact_storage / blob_storage_name(upload.sha256)).exists()
    assert not BlobUpload.objects.exists() and not held.exists()

    assert log(folder)["state"] == "committed"  # sent again, whole
    assert Blob.objects.get().sha256 == hashlib.sha256(data).hexdigest()


# S3, through moto's server


@pytest.fixture
def to_bucket(settings, s3_storage, s3_endpoint, live_server, member, project, monkeypatch):
    """Server and client both reach the S3 server through a proxy that can cut them off."""
    monkeypatch.setattr(storage, "RESUMABLE_BYTES", 1 * MiB)
    monkeypatch.setattr(storage, "PART_BYTES", 5 * MiB)  # S3's smallest
    host, port = s3_endpoint.removeprefix("http://").split(":")
    proxy = CuttingProxy((host, int(port)))
    options = {**settings.STORAGES["artifacts"]["OPTIONS"], "endpoint_url": proxy.url}
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {**settings.STORAGES["artifacts"], "OPTIONS": options},
    }
    connect(monkeypatch, member, live_server.url)
    bucket = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    yield proxy, bucket, s3_storage
    proxy.close()


def test_on_s3_a_cut_off_upload_sends_only_the_missing_parts(to_bucket, big_file):
    proxy, bucket, name = to_bucket
    folder, data = big_file(11 * MiB)  # parts of 5, 5 and 1 MiB
    proxy.arm(cut_after=7 * MiB)  # in the second part
    with pytest.raises(RegistryError):
        log(folder, retries=Retries(attempts=1))
    upload = BlobUpload.objects.get()
    key = blob_storage_name(upload.sha256)
    listed = bucket.list_parts(Bucket=name, Key=key, UploadId=upload.s3_upload_id)
    assert [part["PartNumber"] for part in listed["Parts"]] == [1]

    proxy.count()
    assert log(folder)["state"] == "committed"

    assert proxy.sent < 11 * MiB - 5 * MiB + MiB  # parts 2 and 3, not part 1 again
    stored = bucket.get_object(Bucket=name, Key=key)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == upload.sha256 and stored == data
    assert not bucket.list_multipart_uploads(Bucket=name).get("Uploads")
    assert not BlobUpload.objects.exists()


def test_on_s3_a_corrupted_part_is_refused_at_commit(to_bucket, big_file):
    proxy, bucket, name = to_bucket
    folder, _ = big_file(11 * MiB)
    proxy.arm(cut_after=7 * MiB)
    with pytest.raises(RegistryError):
        log(folder, retries=Retries(attempts=1))
    upload = BlobUpload.objects.get()
    key = blob_storage_name(upload.sha256)
    bucket.upload_part(  # part 1 goes bad in the store
        Bucket=name, Key=key, UploadId=upload.s3_upload_id, PartNumber=1, Body=b"x" * 5 * MiB
    )

    with pytest.raises(RegistryError) as caught:
        log(folder)
    assert caught.value.code == "checksum_mismatch"
    assert "Contents" not in bucket.list_objects_v2(Bucket=name, Prefix="blobs/")
    assert not Blob.objects.exists() and not ArtifactVersion.objects.committed().exists()
    assert log(folder)["state"] == "committed"


# Cleaning up


def test_clean_uploads_drops_abandoned_uploads(to_server, big_file, artifact_storage, member):
    folder, _ = big_file(4 * MiB)
    to_server.arm(cut_after=2 * MiB)
    with pytest.raises(RegistryError):
        log(folder, retries=Retries(attempts=1))
    upload = BlobUpload.objects.get()
    held = artifact_storage / upload.upload_name
    settled(held)
    crash_leftover = artifact_storage / "uploads" / "left-by-a-crash"
    crash_leftover.write_bytes(b"partial")
    os.utime(crash_leftover, (0, 0))

    out = StringIO()
    call_command("clean_uploads", "--dry-run", stdout=out)
    assert "Would drop 1 unfinished upload(s)." in out.getvalue()
    assert held.exists() and crash_leftover.exists()

    BlobUpload.objects.update(created_at=timezone.now() - timedelta(days=8))
    call_command("clean_uploads", stdout=out)
    assert "Dropped 2 unfinished upload(s)." in out.getvalue()
    assert not BlobUpload.objects.exists() and not held.exists() and not crash_leftover.exists()


def test_clean_uploads_aborts_abandoned_multipart_uploads(to_bucket, big_file):
    proxy, bucket, name = to_bucket
    folder, _ = big_file(11 * MiB)
    proxy.arm(cut_after=7 * MiB)
    with pytest.raises(RegistryError):
        log(folder, retries=Retries(attempts=1))
    BlobUpload.objects.update(created_at=timezone.now() - timedelta(days=8))
    call_command("clean_uploads", stdout=StringIO())
    assert not bucket.list_multipart_uploads(Bucket=name).get("Uploads")
    assert not BlobUpload.objects.exists()
