"""A task running under a worker silent for longer than the lease is taken up by any live
worker: ready again, its attempt counted, or failed visibly once its attempts run out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.jobs.models import Worker
from apps.jobs.worker import reclaim_abandoned
from tests.jobs.tasks import append_line, sleep_once


def claimed(result, worker_id: str, seconds_ago: float) -> DBTaskResult:
    """The task as a worker leaves it when it claims it, that long ago."""
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING",
        started_at=timezone.now() - timedelta(seconds=seconds_ago),
        worker_ids=[worker_id],
    )
    return DBTaskResult.objects.get(pk=result.id)


def worker(worker_id: str, seconds_ago: float) -> Worker:
    heard = timezone.now() - timedelta(seconds=seconds_ago)
    return Worker.objects.create(worker_id=worker_id, hostname="h", pid=1, heartbeat_at=heard)


def test_only_the_tasks_of_silent_workers_are_taken_up(db, tmp_path, fast_leases):
    worker("dead", seconds_ago=5)
    worker("alive", seconds_ago=0)
    path = str(tmp_path / "trace")
    of_dead = claimed(append_line.enqueue(path, "1"), "dead", seconds_ago=5)
    of_alive = claimed(append_line.enqueue(path, "2"), "alive", seconds_ago=5)
    of_unknown = claimed(append_line.enqueue(path, "3"), "never-registered", seconds_ago=5)
    just_claimed = claimed(append_line.enqueue(path, "4"), "dead", seconds_ago=0)

    assert reclaim_abandoned() == 2
    states = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert states == {
        of_dead.pk: "READY",
        of_alive.pk: "RUNNING",
        of_unknown.pk: "READY",
        just_claimed.pk: "RUNNING",  # claimed within the lease: its worker has not beaten yet
    }
    of_dead.refresh_from_db()
    assert of_dead.worker_ids == ["dead"]  # the attempt stays counted
    assert of_dead.exception_class_path == "apps.jobs.worker.WorkerLost"
    assert "Its worker dead stopped answering (last heard from at " in of_dead.traceback
    assert of_dead.run_after <= timezone.now()
    assert list(Worker.objects.values_list("worker_id", flat=True)) == ["alive"]


def test_a_task_out_of_attempts_is_failed_and_its_owner_told(db, tmp_path, fast_leases):
    path = str(tmp_path / "trace")
    task = claimed(sleep_once.enqueue(path, 60), "gone", seconds_ago=5)
    assert reclaim_abandoned() == 1
    task.refresh_from_db()
    assert task.status == "FAILED"
    assert task.finished_at is not None
    assert task.task_result.errors[0].exception_class_path == "apps.jobs.worker.WorkerLost"
    assert Path(path + ".failed").read_text() == (
        "Its worker gone stopped answering (last heard from at an unknown time) (attempt 1 of 1)"
    )
