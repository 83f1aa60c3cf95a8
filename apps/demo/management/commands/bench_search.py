"""Measure search: queries of the search box's language through the engine (a page of each kind
of result, as the search page asks), and filter-JSON lists through the API, as a user who may
not see everything.

Run it after `seed_scale`. Like bench_pages it runs in-process, so the figures are the
application's own time (parsing, the ORM, the database, JSON), without a network.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import urlencode

from apps.accounts.models import ApiToken, Organization, User
from apps.registries.models import Collection
from apps.search.engine import search
from apps.search.query import parse

TARGET_P50_MS = 50
TARGET_P95_MS = 150
API = "/api/v1/orgs/scale/registries/"


class Command(BaseCommand):
    help = "Time search queries and filtered API lists on the 'scale' organization."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repeat", type=int, default=30)
        parser.add_argument(
            "--user", default="bench-member", help="who searches (seed_scale's member by default)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        organization = Organization.objects.filter(slug="scale").first()
        if user is None or organization is None:
            raise CommandError(f"No user {options['user']!r}: run `manage.py seed_scale` first.")
        self.stdout.write(f"Load average at the start: {_load()}")
        logging.getLogger("registry.requests").setLevel(logging.WARNING)  # a line per request
        _, token = ApiToken.issue(user, "bench_search")
        client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
        collections = Collection.objects.filter(registry__organization=organization)
        models = collections.filter(registry__slug="model").order_by("name")
        middle = models[models.count() // 2].name  # collection-01000 at the default size
        runs = [
            (name, lambda text=text: search(user, organization, parse(text)))
            for name, text in self.queries(middle)
        ]
        runs += [(name, lambda url=url: _ok(client.get(url))) for name, url in self.lists(middle)]
        self.stdout.write(f"Load average before measuring: {_load()}")
        rows = [(name, *_timed(run, options["repeat"])) for name, run in runs]
        self.report(rows, connection.vendor)
        self.stdout.write(f"Load average at the end: {_load()}")

    def queries(self, middle: str) -> list[tuple[str, str]]:
        """(name, query) in the search box's language; `middle` names a collection."""
        year_ago = (timezone.now() - timedelta(days=365)).date().isoformat()
        return [
            ("words", "benchmark audio"),
            ("exact name", middle),
            ("prefix", middle[:-2]),  # a hundred collections at the default size
            ("tag:", "tag:vision"),
            ("alias:", "alias:production"),
            ("metric.>=", "metric.metric_010>=0.9"),
            ("metadata.", "metadata.framework:jax"),
            ("OR", "tag:nlp OR tag:audio"),
            ("NOT", "tag:vision -tag:prod"),
            ("created:", f"created:>={year_ago}"),
            ("combined", "tag:reviewed alias:production metric.metric_001>=0.5"),
        ]

    def lists(self, middle: str) -> list[tuple[str, str]]:
        """(name, URL) of filtered lists of the API; `middle` names a collection."""
        month_ago = (timezone.now() - timedelta(days=30)).date().isoformat()

        def listed(path: str, data: dict, order: str = "") -> str:
            query = {"filter": json.dumps(data), **({"order": order} if order else {})}
            return f"{API}{path}?{urlencode(query)}"

        versions = f"model/collections/{middle}/versions/"
        return [
            ("API registries, $regex", listed("", {"name": {"$regex": "^Mod"}})),
            (
                "API collections, tag + updated",
                listed(
                    "model/collections/",
                    {"tag": "vision", "updated_at": {"$gte": month_ago}},
                    "-updated_at",
                ),
            ),
            (
                "API collections, $or $contains",
                listed(
                    "model/collections/",
                    {
                        "$or": [
                            {"name": {"$contains": "0042"}},
                            {"description": {"$contains": "audio"}},
                        ]
                    },
                ),
            ),
            (
                "API versions, alias + metric",
                listed(
                    versions,
                    {"alias": {"$exists": True}, "metrics.metric_010": {"$gte": 0.5}},
                    "+created_at",
                ),
            ),
            (
                "API versions, $nor + metadata",
                listed(versions, {"$nor": [{"tag": "fp16"}], "metadata.framework": "pytorch"}),
            ),
        ]

    def report(self, rows, vendor: str) -> None:
        self.stdout.write(f"Database: {vendor}")
        self.stdout.write(f"{'query':<34}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
        for name, p50, p95, queries in rows:
            self.stdout.write(f"{name:<34}{p50:>9.1f}{p95:>9.1f}{queries:>9}")
        worst_p50 = max(row[1] for row in rows)
        worst_p95 = max(row[2] for row in rows)
        met = worst_p50 <= TARGET_P50_MS and worst_p95 <= TARGET_P95_MS
        verdict = self.style.SUCCESS("met") if met else self.style.WARNING("missed")
        self.stdout.write(
            f"Target p50 ≤ {TARGET_P50_MS} ms and p95 ≤ {TARGET_P95_MS} ms on every query: "
            f"{verdict} (worst p50 {worst_p50:.1f} ms, worst p95 {worst_p95:.1f} ms)"
        )


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, float, int]:
    """p50 and p95 in ms of `repeat` runs after two warm-ups, and the queries of one."""
    timings, queries = [], 0
    for attempt in range(repeat + 2):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run()
            elapsed = (time.perf_counter() - started) * 1000
        if attempt >= 2:
            timings.append(elapsed)
            queries = len(captured)
    timings.sort()
    return statistics.median(timings), timings[max(0, round(len(timings) * 0.95) - 1)], queries


def _ok(response) -> None:
    if response.status_code != 200:
        raise CommandError(f"{response.request['PATH_INFO']} answered {response.status_code}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
