"""Worker processes for the tests: `manage.py db_worker` started as `make run` starts it, on the
test database, with short leases (worker_settings)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connection

from tests.jobs.worker_settings import FAST_OPTIONS

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="worker processes share the database: SQLite's test database is in memory",
)


@pytest.fixture
def fast_leases(settings):
    """The short leases the worker processes use, here too."""
    settings.TASKS = {"default": {**settings.TASKS["default"], "OPTIONS": FAST_OPTIONS}}


def wait_for(condition: Callable[[], object], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting {timeout} s for {what or condition}"
        time.sleep(0.05)


def worker_env() -> dict[str, str]:
    database = connection.settings_dict
    return {
        "PATH": os.environ["PATH"],
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
            f"{database['NAME']}"
        ),
    }


WORKER = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay"]
WORKER_ARGS = ["--interval", "0.1"]


@pytest.fixture
def start_worker(tmp_path, fast_leases) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a worker process; every one still running at the end is killed."""
    started: list[subprocess.Popen] = []

    def start(*extra: str, command: list[str] | None = None) -> subprocess.Popen:
        log = (tmp_path / f"worker-{len(started)}.log").open("w")
        process = subprocess.Popen(
            command or [*WORKER, *WORKER_ARGS, *extra],
            cwd=settings.BASE_DIR,
            env=worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
