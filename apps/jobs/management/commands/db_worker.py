"""`manage.py db_worker`, leased: django-tasks-db's command running apps.jobs' worker."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from apps.jobs.worker import LeasedWorker


class Command(db_worker.Command):
    help = (
        "Run background tasks from the database. The worker keeps a heartbeat; the tasks of "
        "workers that stopped answering are run again, or failed once their attempts run out; "
        "a task that raises is retried with a growing delay. SIGINT or SIGTERM finishes the "
        "task in hand, a second one stops at once and gives the task back."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        exclude_queues: str,
        reload: bool,
        batch: bool,
        **options: Any,
    ) -> None:
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = LeasedWorker(
            queue_names=queue_names,
            excluded_queue_names=excluded,
            batch=batch,
            interval=options["interval"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # in the reloaded child, which runs the tasks
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
