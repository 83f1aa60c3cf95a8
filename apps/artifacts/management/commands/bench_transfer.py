"""Measure uploads and downloads of one large file through the client, against a real server.

It starts the app (`runserver`) and, for S3, moto's S3 server, each in its own process on
127.0.0.1, then times `registry log` and `registry download` of a generated file, compares with
`cp` of the same file on the same disk (each timed until its writes reach the disk), and prints
MB/s and each process's peak memory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.models import ApiToken, Organization, TeamRole, User
from apps.accounts.services import create_organization
from apps.artifacts.models import Project
from registry.client import sha256_of

ORG = "bench-transfer"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (Linux /proc), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # it has just exited
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0  # a zombie keeps its status file but no memory lines


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command until its writes are on disk; return the wall time and peak memory in MB.

    Dirty pages are flushed before and after, inside the timing: otherwise whichever command
    runs first leaves write-back for the next, and `cp` would be timed against the page cache.
    """
    os.sync()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    # Read the child's own high-water mark while it runs: getrusage's figure would include the
    # memory of this (Django) process, which the child inherits until it execs.
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, peak_rss_mb(process.pid))
        time.sleep(0.02)
    os.sync()
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with status {process.returncode}")
    return elapsed, peak


class Command(BaseCommand):
    help = "Time a large upload and download through the client; print MB/s and peak memory."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--size-mb", type=int, default=1024)
        parser.add_argument("--storage", choices=["local", "s3", "both"], default="both")

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["size_mb"] * 1024 * 1024
        token = self._token()
        kinds = ["local", "s3"] if options["storage"] == "both" else [options["storage"]]
        with tempfile.TemporaryDirectory(dir=settings.MEDIA_ROOT.parent) as work:
            work_dir = Path(work)
            for kind in kinds:
                # Fresh bytes for each storage: blobs are shared by content, so the same file
                # would be found already stored and nothing would be sent.
                source = work_dir / f"big-{kind}.bin"
                self._write(source, size)
                cp_seconds, _ = timed(["cp", str(source), str(work_dir / "copy.bin")])
                (work_dir / "copy.bin").unlink()
                mb = size / 1e6
                # Each direction hashes the bytes on both ends, so sha256 bounds the speed.
                started = time.perf_counter()
                sha256_of(source)
                hash_seconds = time.perf_counter() - started
                self.stdout.write(
                    f"File: {mb:.0f} MB; cp on the same disk: {mb / cp_seconds:.0f} MB/s; "
                    f"sha256 of it: {mb / hash_seconds:.0f} MB/s"
                )
                self._measure(kind, source, work_dir, token, mb, cp_seconds)
                source.unlink()

    def _token(self) -> str:
        user = User.objects.filter(username="bench-transfer").first()
        if user is None:
            user = User.objects.create_user("bench-transfer")
        organization = Organization.objects.filter(slug=ORG).first()
        if organization is None:
            organization = create_organization(name="Bench transfer", slug=ORG, admin=user)
            team = organization.create_team("Bench")
            team.add_member(user, TeamRole.ADMIN)
            Project.objects.create(team=team, name="bench")
        return ApiToken.issue(user, "bench_transfer")[1]

    def _write(self, path: Path, size: int) -> None:
        block = os.urandom(8 * 1024 * 1024)
        with path.open("wb") as out:
            for _ in range(size // len(block)):
                out.write(block)
            out.write(block[: size % len(block)])

    def _measure(self, kind: str, source: Path, work: Path, token: str, mb: float, cp: float):
        port = free_port()
        server_env = {**os.environ, "DEBUG": "true", "PYTHONUNBUFFERED": "1"}
        moto = None
        if kind == "s3":
            moto_port = free_port()
            moto = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            endpoint = f"http://127.0.0.1:{moto_port}"
            wait_for(endpoint)
            server_env.update(
                ARTIFACT_S3_BUCKET="bench-transfer",
                AWS_S3_ENDPOINT_URL=endpoint,
                AWS_S3_REGION_NAME="us-east-1",
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
            )
            import boto3

            boto3.client(
                "s3",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
            ).create_bucket(Bucket="bench-transfer")
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_for(f"{url}/api/v1/openapi.json")
            client_env = {
                **os.environ,
                "REGISTRY_URL": url,
                "REGISTRY_TOKEN": token,
                "REGISTRY_CONFIG": str(work / "none.json"),
            }
            registry = str(Path(sys.executable).with_name("registry"))
            name = f"big-{kind}-{time.time_ns()}"
            up, up_rss = timed(
                [registry, "log", str(source), "--project", f"{ORG}/bench/bench", "--name", name,
                 "--type", "model", "--link", f"{ORG}/model/{name}"],
                client_env,
            )  # fmt: skip
            down, down_rss = timed(
                [registry, "download", f"{ORG}/model/{name}:latest", str(work / f"out-{kind}")],
                client_env,
            )
            server_rss = peak_rss_mb(server.pid)
            shutil.rmtree(work / f"out-{kind}")
        finally:
            server.terminate()
            server.wait()
            if moto:
                moto.terminate()
                moto.wait()
        self.stdout.write(
            f"{kind:>5}: upload {mb / up:6.0f} MB/s ({cp / up:4.0%} of cp), "
            f"download {mb / down:6.0f} MB/s ({cp / down:4.0%} of cp); peak memory: "
            f"server {server_rss:.0f} MB, client {max(up_rss, down_rss):.0f} MB"
        )
