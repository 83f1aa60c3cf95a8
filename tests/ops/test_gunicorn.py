"""The server as `make serve` and the benchmark start it: gunicorn with its config file, two
worker processes whose metrics /metrics adds up, stopped cleanly by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "gunicorn-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def production_env(tmp_path_factory) -> dict[str, str]:
    """DEBUG off, static files collected (pages, 404 included, need their manifest)."""
    folder = tmp_path_factory.mktemp("production")
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "false",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        # /healthz and /metrics need no tables: a database file that is never migrated will do.
        "DATABASE_URL": f"sqlite:///{folder / 'unused.sqlite3'}",
        "STATIC_ROOT": str(folder / "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
    )
    return env


@pytest.fixture
def server(production_env, tmp_path) -> tuple[str, subprocess.Popen, Path]:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"left by an earlier run")
    env = {
        **production_env,
        "METRICS_TOKEN": TOKEN,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    gunicorn = Path(sys.executable).parent / "gunicorn"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [gunicorn, "-c", "registry_site/gunicorn_conf.py", "registry_site.wsgi"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=output,
            stderr=output,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{base}/healthz")
            break
        except OSError:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not answer in 30 s"
            time.sleep(0.1)
    yield base, process, metrics_dir
    if process.poll() is None:
        process.kill()
        process.wait()


def test_two_workers_answer_and_metrics_add_up_across_them(server):
    base, process, metrics_dir = server
    assert not (metrics_dir / "counter_1.db").exists()  # cleared at start
    for _ in range(20):
        assert get(f"{base}/healthz")[0] == 200
    assert get(f"{base}/metrics")[0] == 404
    status, body = get(f"{base}/metrics", Authorization=f"Bearer {TOKEN}")
    assert status == 200
    counts = [
        sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name == "registry_request_duration_seconds_count"
        and sample.labels["route"] == "healthz"
    ]
    # Besides the waits for start-up, in whichever worker they landed.
    assert sum(counts) >= 20
    worker_pids = subprocess.run(
        ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
    ).stdout.split()
    assert len(worker_pids) == 2


def test_sigterm_stops_master_and_workers_leaving_no_samples(server):
    base, process, metrics_dir = server
    assert get(f"{base}/healthz")[0] == 200
    assert list(metrics_dir.glob("*.db"))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert list(metrics_dir.glob("*.db")) == []
