"""The registry's settings with leases short enough for tests, for the worker processes that
tests start (DJANGO_SETTINGS_MODULE) and, through `fast_leases`, for the test process."""

from registry_site.settings import *  # noqa: F403

FAST_OPTIONS = {
    "HEARTBEAT_SECONDS": 0.2,
    "LEASE_SECONDS": 1,
    "MAX_ATTEMPTS": 3,
    "RETRY_DELAY_SECONDS": 0.5,
    "RETRY_DELAY_MAX_SECONDS": 5,
}
TASKS = {"default": {**TASKS["default"], "OPTIONS": FAST_OPTIONS}}  # noqa: F405
