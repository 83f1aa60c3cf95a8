"""Small tasks for the tests, in a module the worker processes import. Each leaves its trace in
a file, which the test and the workers (separate processes) all see."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django_tasks import task

from apps.jobs.policy import job_policy


def lines(path: str) -> list[str]:
    file = Path(path)
    return file.read_text().splitlines() if file.exists() else []


def append(path: str, line: str) -> None:
    with open(path, "a") as file:
        file.write(line + "\n")


def record_failure(args: list[Any], kwargs: dict[str, Any], reason: str) -> None:
    Path(args[0] + ".failed").write_text(reason)


@task()
def append_line(path: str, line: str, pause: float = 0) -> None:
    time.sleep(pause)
    append(path, line)


@task()
def count_to(path: str, total: int, pause: float) -> int:
    """Append 0, 1, … total - 1, one each `pause` seconds, from where an earlier run stopped."""
    for number in range(len(lines(path)), total):
        append(path, str(number))
        time.sleep(pause)
    return total


@job_policy(max_attempts=1, on_failure=record_failure)
@task()
def sleep_once(path: str, seconds: float) -> None:
    append(path, "started")
    time.sleep(seconds)


@job_policy(max_attempts=3, on_failure=record_failure)
@task()
def fail_until(path: str, succeed_on: int) -> int:
    """Raise on each attempt before attempt `succeed_on`; the attempt's number once it passes."""
    append(path, "attempt")
    attempt = len(lines(path))
    if attempt < succeed_on:
        raise RuntimeError(f"attempt {attempt} failed")
    return attempt
