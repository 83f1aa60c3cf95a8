"""django-tasks-db's worker with a lease: a heartbeat, the tasks of dead workers taken up again,
retries with backoff, and a stop when the process that started it is gone."""

from __future__ import annotations

import logging
import os
import signal
import socket
from datetime import timedelta
from traceback import format_exception
from typing import Any

from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.utils import timezone
from django_tasks_db.compat import TaskContext, TaskResultStatus, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult

from apps.jobs.conf import job_settings
from apps.jobs.heartbeat import Heartbeat
from apps.jobs.models import Worker
from apps.jobs.policy import policy_for

log = logging.getLogger(__name__)


class WorkerLost(Exception):
    """Recorded as the error of a task whose worker stopped answering while it ran."""


def settle_failed_attempt(
    db_task: DBTaskResult, *, error: type[BaseException], details: str, reason: str, delay: float
) -> bool:
    """After an attempt that did not succeed: ready to run again in `delay` seconds while
    attempts remain (its policy's retry hook told why and when), else failed (its failure hook
    told why). False if this attempt was no longer the task's to settle (another worker had
    taken it up)."""
    policy = policy_for(db_task.task_path)
    limit = policy.max_attempts or job_settings(db_task.backend_name).max_attempts
    attempt = len(db_task.worker_ids)
    again = attempt < limit
    now = timezone.now()
    changes: dict[str, Any] = {
        "exception_class_path": f"{error.__module__}.{error.__qualname__}",
        "traceback": details,
        "return_value": None,
    }
    if again:
        changes |= {"status": TaskResultStatus.READY, "run_after": now + timedelta(seconds=delay)}
    else:
        changes |= {"status": TaskResultStatus.FAILED, "finished_at": now}
    # Each claim sets started_at, so it tells this attempt from a later one.
    settled = DBTaskResult.objects.filter(
        pk=db_task.pk, status=TaskResultStatus.RUNNING, started_at=db_task.started_at
    ).update(**changes)
    if not settled:
        return False
    for name, value in changes.items():
        setattr(db_task, name, value)
    said = f"{reason} (attempt {attempt} of {limit})"
    if again:
        log.warning(
            "Task id=%s path=%s attempt %d of %d did not finish (%s); running it again in %s s",
            db_task.id, db_task.task_path, attempt, limit, reason, delay,
        )  # fmt: skip
        hook, told = policy.on_retry, (said, changes["run_after"])
    else:
        log.error(
            "Task id=%s path=%s failed on attempt %d of %d: %s",
            db_task.id, db_task.task_path, attempt, limit, reason,
        )  # fmt: skip
        hook, told = policy.on_failure, (said,)
    if hook:
        try:
            hook(db_task.args_kwargs["args"], db_task.args_kwargs["kwargs"], *told)
        except Exception:
            log.exception("The hook of task id=%s failed", db_task.id)
    return True


def reclaim_abandoned(backend_name: str = "default") -> int:
    """Take up the running tasks of workers silent for longer than the lease, ready again or
    failed visibly once their attempts run out; then forget those workers. How many."""
    silent_since = timezone.now() - job_settings(backend_name).lease
    heard = dict(Worker.objects.values_list("worker_id", "heartbeat_at"))
    taken = 0
    with transaction.atomic():
        # Claimed before the lease began, so its worker has had time to beat at least once.
        running = (
            DBTaskResult.objects.running()
            .filter(backend_name=backend_name, started_at__lt=silent_since)
            .select_for_update(skip_locked=True)
        )
        for db_task in running:
            worker_id = db_task.worker_ids[-1] if db_task.worker_ids else "?"
            last_heard = heard.get(worker_id)
            if last_heard is not None and last_heard >= silent_since:
                continue
            try:
                db_task.task  # noqa: B018 (imports the task's module, which registers its policy)
            except (ImportError, SuspiciousOperation):
                log.exception("Task id=%s: its code is gone", db_task.id)
            since = f"{last_heard:%Y-%m-%d %H:%M:%S %Z}" if last_heard else "an unknown time"
            reason = f"Its worker {worker_id} stopped answering (last heard from at {since})"
            taken += settle_failed_attempt(
                db_task, error=WorkerLost, details=reason + ".", reason=reason, delay=0
            )
    Worker.objects.filter(heartbeat_at__lt=silent_since).delete()
    return taken


class LeasedWorker(DatabaseWorker):
    """Runs tasks as django-tasks-db's worker does, leased (see the app's docstring).

    A first SIGINT or SIGTERM finishes the task in hand, a second gives it back at once to be
    run again. The process that started the worker going away counts as a SIGTERM, so a worker
    never outlives what supervised it (`make run`'s shell, the autoreloader).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = job_settings(self.backend_name)
        self.parent_pid: int | None = None

    def configure_signals(self) -> None:
        super().configure_signals()
        self.parent_pid = os.getppid()

    def run(self) -> None:
        self.beat()
        try:
            with Heartbeat(self.beat, self.config.heartbeat, name=f"heartbeat-{self.worker_id}"):
                super().run()
        finally:
            try:
                Worker.objects.filter(worker_id=self.worker_id).delete()
            except Exception:  # the lease runs out instead
                log.exception("Could not unregister worker %s", self.worker_id)

    def beat(self) -> None:
        """Renew this worker's lease, take up abandoned tasks, and stop if orphaned."""
        self.stop_if_orphaned()
        now = timezone.now()
        renewed = Worker.objects.filter(worker_id=self.worker_id).update(heartbeat_at=now)
        if not renewed:
            # First beat, or taken for dead while the database was away.
            Worker.objects.create(
                worker_id=self.worker_id, hostname=socket.gethostname(), pid=os.getpid()
            )
        reclaim_abandoned(self.backend_name)

    def stop_if_orphaned(self) -> None:
        if self.parent_pid is None or os.getppid() == self.parent_pid:
            return
        log.warning(
            "The process that started worker %s (pid %s) is gone: stopping as on SIGTERM.",
            self.worker_id, self.parent_pid,
        )  # fmt: skip
        self.parent_pid = None  # one signal: a second would cut the task in hand short
        os.kill(os.getpid(), signal.SIGTERM)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self.running_task = True
        try:
            self._attempt(db_task_result)
        finally:
            self.running_task = False
            self._run_tasks += 1

    def _attempt(self, db_task: DBTaskResult) -> None:
        try:
            task = db_task.task
        except (ImportError, SuspiciousOperation) as error:
            # No later attempt would find the code either.
            log.exception("Task id=%s: its code is gone", db_task.id)
            db_task.set_failed(error)
            return
        task_result = db_task.task_result
        sender = type(task.get_backend())
        task_started.send(sender=sender, task_result=task_result)
        args = task_result.args
        if task.takes_context:
            args = [TaskContext(task_result=task_result), *args]
        try:
            # Recording the return value is part of the attempt: it may fail to encode.
            db_task.set_successful(task.call(*args, **task_result.kwargs))
        except BaseException as error:
            # Not an Exception: the worker was told to stop now, so the task goes back at once.
            stopping = not isinstance(error, Exception)
            reason = "Its worker was stopped" if stopping else f"{type(error).__name__}: {error}"
            settle_failed_attempt(
                db_task,
                error=type(error),
                details="".join(format_exception(error)),
                reason=reason,
                delay=0 if stopping else self.config.retry_delay_after(len(db_task.worker_ids)),
            )
            if stopping:
                raise
        if db_task.status in (TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED):
            task_finished.send(sender=sender, task_result=db_task.task_result)
