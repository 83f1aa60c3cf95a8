"""What a task's owner may say about it: how many runs it gets, and who hears of its failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django_tasks.base import Task

# Told of a task's final failure with the task's arguments and why it failed.
FailureHook = Callable[[list[Any], dict[str, Any], str], None]
# Told, with the task's arguments, why an attempt did not finish and when the next one runs.
RetryHook = Callable[[list[Any], dict[str, Any], str, datetime], None]


@dataclass(frozen=True)
class Policy:
    max_attempts: int | None = None  # None: the backend's MAX_ATTEMPTS
    on_failure: FailureHook | None = None
    on_retry: RetryHook | None = None


_policies: dict[str, Policy] = {}


def job_policy(
    *,
    max_attempts: int | None = None,
    on_failure: FailureHook | None = None,
    on_retry: RetryHook | None = None,
) -> Callable[[Task], Task]:
    """Give the task below (a `@task()`) its own number of runs, and hooks told of its final
    failure and of each retry, for example to say where people look how the work stands."""
    if max_attempts is not None and max_attempts < 1:
        raise ValueError(f"max_attempts is {max_attempts}: a task runs at least once.")

    def register(task: Task) -> Task:
        _policies[task.module_path] = Policy(max_attempts, on_failure, on_retry)
        return task

    return register


def policy_for(task_path: str) -> Policy:
    """The policy of the task at this path; its module must be imported already."""
    return _policies.get(task_path, Policy())
