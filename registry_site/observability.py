"""What operators watch: one log line per request carrying its id, and Prometheus metrics.

Under gunicorn each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (set up by
gunicorn_conf), and `/metrics`, answered by whichever worker, adds up every process's files.
Elsewhere (tests, runserver) the samples live in the process and are read from it.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.encoding import escape_uri_path
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)
request_log = logging.getLogger("registry.requests")

REQUEST_SECONDS = Histogram(
    "registry_request_duration_seconds",
    "Time from a request's arrival to its response being handed to the server (a streamed "
    "body is still being sent then), by URL pattern, method and status class.",
    ["route", "method", "status"],
)
# Labels come from a closed set, so that made-up methods and paths cannot grow the series.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# An incoming id is kept only if it cannot break a log line or a header.
WELL_FORMED_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Probes and scrapes come every few seconds; a line for each would bury the requests of people.
UNLOGGED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class ObserveRequests:
    """Gives each request an id (a well-formed incoming X-Request-ID, else a new one) and
    returns it in X-Request-ID; times the request into REQUEST_SECONDS and logs one line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = (
            incoming if WELL_FORMED_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        )
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        match = request.resolver_match
        route = match.route if match is not None else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        status = response.status_code
        REQUEST_SECONDS.labels(route, method, f"{status // 100}xx").observe(seconds)
        response["X-Request-ID"] = request.request_id
        if request.path not in UNLOGGED_PATHS:
            request_log.info(
                "%s %s route=%s status=%d duration_ms=%.1f request_id=%s",
                method,
                escape_uri_path(request.path),
                route,
                status,
                seconds * 1000,
                request.request_id,
            )
        return response


class TaskQueueCollector:
    """Background tasks waiting for a worker, read from django-tasks-db's table at each scrape:
    how many are ready to run, and how long the oldest of them has waited, per queue."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            rows = (
                DBTaskResult.objects.ready()
                .order_by()
                .values("queue_name")
                .annotate(ready=Count("id"), oldest=Min("enqueued_at"))
            )
            by_queue = {row["queue_name"]: row for row in rows}
        except DatabaseError:
            log.warning("Task queue metrics skipped: the database did not answer.")
            return
        depth = GaugeMetricFamily(
            "registry_task_queue_ready", "Background tasks ready to run.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "registry_task_queue_oldest_ready_age_seconds",
            "Seconds since the oldest task ready to run was enqueued (0 when none is).",
            labels=["queue"],
        )
        now = timezone.now()
        configured = settings.TASKS["default"]["QUEUES"]
        for queue in sorted({*configured, *by_queue}):
            row = by_queue.get(queue)
            depth.add_metric([queue], row["ready"] if row else 0)
            age.add_metric([queue], (now - row["oldest"]).total_seconds() if row else 0)
        yield depth
        yield age


def _scrape() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every worker's samples, from the shared folder
    else:
        registry.register(REGISTRY)  # this process's own samples
    registry.register(TaskQueueCollector())
    return generate_latest(registry)


def _is_operator(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    return request.user.is_authenticated and request.user.is_staff


@login_not_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for operators only: the METRICS_TOKEN bearer or a staff user.
    Everyone else is told there is nothing here."""
    if not _is_operator(request):
        raise Http404
    return HttpResponse(_scrape(), content_type=CONTENT_TYPE_LATEST)
