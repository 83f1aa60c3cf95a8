"""Real `manage.py db_worker` processes killed mid-task: the task is resumed by another worker,
or failed visibly once out of attempts; many small tasks lose none; and a worker whose parent
is killed outright stops instead of running on as an orphan."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from apps.jobs.models import Worker
from tests.jobs.conftest import WORKER, WORKER_ARGS, needs_postgresql, wait_for
from tests.jobs.tasks import append_line, count_to, lines, sleep_once

pytestmark = [pytest.mark.django_db(transaction=True), needs_postgresql]


def status(result) -> str:
    return DBTaskResult.objects.get(pk=result.id).status


def is_gone(pid: int) -> bool:
    """Exited; a zombie waiting for init to reap it counts."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_a_task_whose_worker_is_killed_is_resumed_by_another(tmp_path, start_worker):
    path = str(tmp_path / "numbers")
    result = count_to.enqueue(path, 15, 0.05)
    first = start_worker()
    wait_for(lambda: len(lines(path)) >= 3, what="the first worker to start counting")
    first.kill()
    first.wait()
    stopped_at = len(lines(path))
    assert stopped_at < 15
    assert status(result) == "RUNNING"  # as the killed worker left it

    second = start_worker()
    wait_for(lambda: status(result) == "SUCCESSFUL", what="the second worker to finish")
    assert lines(path) == [str(number) for number in range(15)]  # resumed, nothing twice
    task = DBTaskResult.objects.get(pk=result.id)
    assert len(task.worker_ids) == 2
    assert task.return_value == 15
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0
    assert not Worker.objects.exists()  # the one killed forgotten, the one stopped gone


def test_a_task_out_of_attempts_is_failed_visibly(tmp_path, start_worker):
    path = str(tmp_path / "trace")
    result = sleep_once.enqueue(path, 60)
    first = start_worker()
    wait_for(lambda: lines(path) == ["started"], what="the task to start")
    first.kill()
    first.wait()
    start_worker()
    wait_for(lambda: status(result) == "FAILED", what="the task to be failed")
    task = DBTaskResult.objects.get(pk=result.id)
    assert task.exception_class_path == "apps.jobs.worker.WorkerLost"
    assert "stopped answering" in Path(path + ".failed").read_text()
    assert lines(path) == ["started"]  # not run again


def test_no_task_is_lost_when_a_worker_is_killed_among_others(tmp_path, start_worker):
    path = str(tmp_path / "lines")
    results = [append_line.enqueue(path, str(n), 0.01) for n in range(120)]
    doomed, _ = start_worker(), start_worker()
    wait_for(lambda: len(lines(path)) >= 20, what="the workers to get going")
    doomed.kill()
    doomed.wait()
    done = DBTaskResult.objects.filter(pk__in=[r.id for r in results], status="SUCCESSFUL")
    wait_for(lambda: done.count() == len(results), timeout=30, what="every task to succeed")
    # At least once: each line is there, and only a task cut short by the kill runs twice.
    written = lines(path)
    assert set(written) == {str(n) for n in range(120)}
    assert len(written) - 120 <= 1


def test_sigterm_finishes_the_task_in_hand_then_stops(tmp_path, start_worker):
    path = str(tmp_path / "numbers")
    result = count_to.enqueue(path, 10, 0.05)
    worker = start_worker()
    wait_for(lambda: len(lines(path)) >= 2, what="the task to start")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=20) == 0
    assert status(result) == "SUCCESSFUL"
    assert len(lines(path)) == 10


def test_a_worker_whose_parent_is_killed_stops_after_its_task(tmp_path, start_worker):
    """As under `make run`, whose shell starts the worker: the shell killed outright (SIGKILL
    passes nothing on) must not leave the worker running on, parentless."""
    path = str(tmp_path / "numbers")
    result = count_to.enqueue(path, 10, 0.05)
    worker = " ".join([*WORKER, *WORKER_ARGS])
    shell = start_worker(command=["sh", "-c", f"{worker} & wait"])
    wait_for(lambda: len(lines(path)) >= 2, what="the task to start")
    [pid] = subprocess.run(
        ["pgrep", "-P", str(shell.pid)], capture_output=True, text=True, check=True
    ).stdout.split()
    shell.kill()
    shell.wait()
    wait_for(lambda: is_gone(int(pid)), timeout=20, what="the orphaned worker to stop")
    assert status(result) == "SUCCESSFUL"  # the task in hand was finished first
    assert len(lines(path)) == 10
    assert not Worker.objects.exists()
