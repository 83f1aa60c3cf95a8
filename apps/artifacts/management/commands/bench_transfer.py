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
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.accounts.models import ApiToken, Organization, TeamRole, User
from apps.accounts.services import create_organization
from apps.artifacts.models import Project

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


DROP_CACHES = Path("/proc/sys/vm/drop_caches")


def settle() -> bool:
    """Flush dirty pages and, where allowed (root), empty the page cache; say if it was emptied.

    Every timed command then starts alike: its input is read from the disk, and what it writes
    lands in memory just freed. Otherwise whichever command ran first sets the figures: on a
    virtual machine that hands free memory back to its host, writing into memory freed long
    ago costs several times more than into memory freed a moment before.
    """
    os.sync()
    try:
        DROP_CACHES.write_text("1")
    except OSError:
        return False
    return True


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command until its writes are on disk; return the wall time and peak memory in MB.

    Dirty pages are flushed after, inside the timing, so that no command leaves its write-back
    to the next and `cp` is not timed against the page cache.
    """
    settle()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
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
        parser.add_argument(
            "--rounds",
            type=int,
            default=3,
            help="each round times cp, an upload and a download of fresh bytes; medians are shown",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        size = options["size_mb"] * 1024 * 1024
        token = self._token()
        kinds = ["local", "s3"] if options["storage"] == "both" else [options["storage"]]
        if not settle():
            self.stdout.write(
                "The page cache cannot be emptied between commands (that needs root), so which "
                "command runs first sways the figures."
            )
        with tempfile.TemporaryDirectory(dir=settings.MEDIA_ROOT.parent) as work:
            for kind in kinds:
                with self._servers(kind) as url:
                    self._measure(kind, url, Path(work), token, size, options["rounds"])

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
        # Fresh bytes each time: blobs are shared by content, so a file sent before would be
        # found already stored and nothing would be sent.
        block = os.urandom(8 * 1024 * 1024)
        with path.open("wb") as out:
            for _ in range(size // len(block)):
                out.write(block)
            out.write(block[: size % len(block)])

    @contextmanager
    def _servers(self, kind: str) -> Iterator[str]:
        """The app under `runserver` and, for S3, moto's server; yields the app's URL."""
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
            server_env.update(
                ARTIFACT_S3_BUCKET="bench-transfer",
                AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{moto_port}",
                AWS_S3_REGION_NAME="us-east-1",
                AWS_ACCESS_KEY_ID="bench",
                AWS_SECRET_ACCESS_KEY="bench",
            )
        server = None
        try:
            if moto:
                subprocess.run(
                    [sys.executable, "manage.py", "ensure_bucket", "--wait", "30"],
                    cwd=settings.BASE_DIR,
                    env=server_env,
                    stdout=subprocess.DEVNULL,
                    check=True,
                )
            server = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                cwd=settings.BASE_DIR,
                env=server_env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            self.server_pid = server.pid
            url = f"http://127.0.0.1:{port}"
            wait_for(f"{url}/api/v1/openapi.json")
            yield url
        finally:
            for process in (server, moto):
                if process:
                    process.terminate()
                    process.wait()

    def _measure(self, kind: str, url: str, work: Path, token: str, size: int, rounds: int):
        mb = size / 1e6
        client_env = {
            **os.environ,
            "REGISTRY_URL": url,
            "REGISTRY_TOKEN": token,
            "REGISTRY_CONFIG": str(work / "none.json"),
        }
        registry = str(Path(sys.executable).with_name("registry"))
        source, copy, out = work / "source.bin", work / "copy.bin", work / "out"
        cp, up, down, client_rss = [], [], [], 0.0
        for _ in range(rounds):
            self._write(source, size)
            seconds, _ = timed(["cp", str(source), str(copy)])
            cp.append(seconds)
            copy.unlink()
            name = f"big-{kind}-{time.time_ns()}"
            seconds, rss = timed(
                [registry, "log", str(source), "--project", f"{ORG}/bench/bench", "--name", name,
                 "--type", "model", "--link", f"{ORG}/model/{name}"],
                client_env,
            )  # fmt: skip
            up.append(seconds)
            client_rss = max(client_rss, rss)
            seconds, rss = timed(
                [registry, "download", f"{ORG}/model/{name}:latest", str(out)], client_env
            )
            down.append(seconds)
            client_rss = max(client_rss, rss)
            shutil.rmtree(out)
        server_rss = peak_rss_mb(self.server_pid)
        source.unlink()

        def speeds(seconds: list[float]) -> str:
            rates = sorted(mb / value for value in seconds)
            return f"{statistics.median(rates):5.0f} MB/s ({rates[0]:.0f} to {rates[-1]:.0f})"

        ratio_up = statistics.median(c / u for c, u in zip(cp, up, strict=True))
        ratio_down = statistics.median(c / d for c, d in zip(cp, down, strict=True))
        self.stdout.write(
            f"{kind}, {mb:.0f} MB file, median of {rounds} round(s) (range):\n"
            f"  cp on the same disk  {speeds(cp)}\n"
            f"  upload               {speeds(up)}  {ratio_up:.0%} of cp\n"
            f"  download             {speeds(down)}  {ratio_down:.0%} of cp\n"
            f"  peak memory: server {server_rss:.0f} MB, client {client_rss:.0f} MB"
        )
