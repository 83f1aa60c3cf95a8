"""The lease, heartbeat and retry settings, read from the backend's OPTIONS in TASKS."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    "HEARTBEAT_SECONDS": 5,
    "LEASE_SECONDS": 30,
    "MAX_ATTEMPTS": 3,
    "RETRY_DELAY_SECONDS": 10,
    "RETRY_DELAY_MAX_SECONDS": 3600,
}


@dataclass(frozen=True)
class JobSettings:
    heartbeat: float  # seconds between two renewals of a heartbeat
    lease: timedelta  # how long a silent heartbeat is trusted
    max_attempts: int  # runs of a task in all, unless its policy says otherwise
    retry_delay: float  # seconds before the second run; doubled for each run after
    retry_delay_max: float

    def retry_delay_after(self, attempt: int) -> float:
        """Seconds to wait before running again a task whose attempt number `attempt` raised."""
        return min(self.retry_delay * 2 ** (attempt - 1), self.retry_delay_max)


def job_settings(backend: str = "default") -> JobSettings:
    options = {**DEFAULTS, **settings.TASKS[backend].get("OPTIONS", {})}
    values = {name: options[name] for name in DEFAULTS}
    for name, value in values.items():
        if not isinstance(value, int | float) or value < 0:
            raise ImproperlyConfigured(
                f"TASKS[{backend!r}]['OPTIONS'][{name!r}] is {value!r}: use a number of 0 or more."
            )
    if values["MAX_ATTEMPTS"] < 1:
        raise ImproperlyConfigured(
            f"TASKS[{backend!r}]['OPTIONS']['MAX_ATTEMPTS'] must be at least 1."
        )
    if not 0 < values["HEARTBEAT_SECONDS"] < values["LEASE_SECONDS"]:
        raise ImproperlyConfigured(
            f"TASKS[{backend!r}]['OPTIONS']: HEARTBEAT_SECONDS ({values['HEARTBEAT_SECONDS']}) "
            f"must be above 0 and below LEASE_SECONDS ({values['LEASE_SECONDS']}), or a live "
            "worker would look gone between two heartbeats."
        )
    return JobSettings(
        heartbeat=values["HEARTBEAT_SECONDS"],
        lease=timedelta(seconds=values["LEASE_SECONDS"]),
        max_attempts=int(values["MAX_ATTEMPTS"]),
        retry_delay=values["RETRY_DELAY_SECONDS"],
        retry_delay_max=values["RETRY_DELAY_MAX_SECONDS"],
    )
