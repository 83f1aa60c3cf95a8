"""A task that raises runs again after a delay that doubles, until its attempts run out; then it
is failed, and its owner's hook is told why."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.jobs.tasks import append_line, fail_until, lines

# The worker runs on its own heartbeat thread, which must see the tasks the test wrote.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def retry_delay(settings):
    def set_delay(seconds: float) -> None:
        options = {"RETRY_DELAY_SECONDS": seconds, "RETRY_DELAY_MAX_SECONDS": 3600}
        settings.TASKS = {"default": {**settings.TASKS["default"], "OPTIONS": options}}

    return set_delay


def seconds_until(moment) -> float:
    return (moment - timezone.now()).total_seconds()


def test_a_failing_task_runs_again_after_a_delay_that_doubles(tmp_path, retry_delay, run_worker):
    retry_delay(30)
    path = str(tmp_path / "trace")
    fail_until.enqueue(path, 3)
    run_worker()
    task = DBTaskResult.objects.get()
    assert task.status == "READY"
    assert len(task.worker_ids) == 1
    assert task.exception_class_path == "builtins.RuntimeError"
    assert "RuntimeError: attempt 1 failed" in task.traceback
    assert 28 < seconds_until(task.run_after) <= 30
    run_worker()  # not due yet
    assert lines(path) == ["attempt"]

    DBTaskResult.objects.update(run_after=timezone.now())
    run_worker()
    task.refresh_from_db()
    assert (task.status, len(task.worker_ids)) == ("READY", 2)
    assert 58 < seconds_until(task.run_after) <= 60

    DBTaskResult.objects.update(run_after=timezone.now())
    run_worker()
    task.refresh_from_db()
    assert (task.status, task.return_value, len(task.worker_ids)) == ("SUCCESSFUL", 3, 3)
    assert not Path(path + ".failed").exists()


def test_a_task_failing_every_attempt_is_failed_and_its_owner_told(
    tmp_path, retry_delay, run_worker
):
    retry_delay(0)
    path = str(tmp_path / "trace")
    fail_until.enqueue(path, 99)
    run_worker()
    task = DBTaskResult.objects.get()
    assert (task.status, len(task.worker_ids)) == ("FAILED", 3)
    assert task.finished_at is not None
    assert task.task_result.errors[0].exception_class is RuntimeError
    assert lines(path) == ["attempt"] * 3
    assert Path(path + ".failed").read_text() == ("RuntimeError: attempt 3 failed (attempt 3 of 3)")


def test_a_task_without_a_policy_gets_the_backends_attempts(
    tmp_path, settings, retry_delay, run_worker
):
    retry_delay(0)
    settings.TASKS["default"]["OPTIONS"]["MAX_ATTEMPTS"] = 2
    append_line.enqueue(str(tmp_path / "missing-folder" / "trace"), "x")
    run_worker()
    task = DBTaskResult.objects.get()
    assert (task.status, len(task.worker_ids)) == ("FAILED", 2)
    assert task.exception_class_path == "builtins.FileNotFoundError"
