"""The lease, heartbeat and retry settings: defaults, doubling delays, and clear refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.jobs.conf import job_settings
from apps.jobs.policy import job_policy


def with_options(settings, **options) -> None:
    settings.TASKS = {"default": {**settings.TASKS["default"], "OPTIONS": options}}


def test_missing_options_take_the_defaults(settings):
    with_options(settings)
    config = job_settings()
    assert (config.heartbeat, config.lease, config.max_attempts) == (5, timedelta(seconds=30), 3)


def test_the_retry_delay_doubles_up_to_its_maximum(settings):
    with_options(settings, RETRY_DELAY_SECONDS=10, RETRY_DELAY_MAX_SECONDS=35)
    config = job_settings()
    assert [config.retry_delay_after(attempt) for attempt in (1, 2, 3, 4)] == [10, 20, 35, 35]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"LEASE_SECONDS": "30"}, "['LEASE_SECONDS'] is '30': use a number of 0 or more."),
        ({"MAX_ATTEMPTS": -1}, "['MAX_ATTEMPTS'] is -1: use a number of 0 or more."),
        ({"MAX_ATTEMPTS": 0}, "['MAX_ATTEMPTS'] must be at least 1."),
        (
            {"HEARTBEAT_SECONDS": 30, "LEASE_SECONDS": 30},
            "HEARTBEAT_SECONDS (30) must be above 0 and below LEASE_SECONDS (30), or a live "
            "worker would look gone between two heartbeats.",
        ),
    ],
)
def test_it_refuses_settings_that_cannot_work(settings, options, message):
    with_options(settings, **options)
    with pytest.raises(ImproperlyConfigured) as refused:
        job_settings()
    assert message in str(refused.value)


def test_a_policy_gives_a_task_at_least_one_run():
    with pytest.raises(ValueError, match=r"max_attempts is 0: a task runs at least once\."):
        job_policy(max_attempts=0)
