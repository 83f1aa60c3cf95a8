"""Measure every page type: server time (p50, p95) and queries per request.

Run it after `seed_scale`. It requests pages in-process through Django's test client, so the
figures are the application's own time (views, ORM, database, templates), without a network.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.http import urlencode

from apps.accounts.models import User
from apps.lib.pagination import encode_cursor
from apps.lineage.models import RunInput
from apps.registries.models import Collection, Link

TARGET_P50_MS = 50
TARGET_P95_MS = 150


class Command(BaseCommand):
    help = "Request every page type many times against the 'scale' organization and print timings."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repeat", type=int, default=30)
        parser.add_argument("--user", default="bench")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError("No user 'bench': run `manage.py seed_scale` first.")
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        rows = []
        for name, url in self.pages():
            timings, queries = [], 0
            for attempt in range(options["repeat"] + 2):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
                if attempt >= 2:  # the first two warm caches
                    timings.append(elapsed)
                    queries = len(captured)
            timings.sort()
            p95 = timings[max(0, round(len(timings) * 0.95) - 1)]
            rows.append((name, statistics.median(timings), p95, queries))
        self.report(rows, connection.vendor)

    def pages(self) -> list[tuple[str, str]]:
        base = "/orgs/scale/registry/"
        registry = f"{base}model/"
        collections = Collection.objects.filter(
            registry__organization__slug="scale", registry__slug="model"
        )
        middle = collections.order_by("name")[collections.count() // 2]
        busiest = middle
        link = Link.objects.filter(collection=busiest).order_by("-number").first()
        version = f"{registry}{busiest.name}/v{link.number}/"
        deep = encode_cursor(middle.name, middle.pk)
        most_used = RunInput.objects.filter(run__project__team__organization__slug="scale")
        most_used = most_used.values("version__uid").annotate(uses=Count("pk")).order_by("-uses")
        lineage = f"/orgs/scale/lineage/{most_used[0]['version__uid']}/"
        newest = Link.objects.filter(collection=busiest).order_by("-number")
        compared = urlencode({"v": list(newest.values_list("number", flat=True)[:50])}, doseq=True)
        compare = f"{registry}{busiest.name}/compare/"
        return [
            ("landing", base),
            ("landing search", f"{base}?q=collection-0100"),
            ("registry", registry),
            ("registry, tag filter", f"{registry}?tag=vision&sort=name"),
            ("registry, deep page", f"{registry}?{urlencode({'sort': 'name', 'cursor': deep})}"),
            ("collection", f"{registry}{busiest.name}/"),
            (
                "collection, metrics sorted",
                f"{registry}{busiest.name}/?metrics=1&sort=-metric:metric_010",
            ),
            (
                "collection, metric range",
                f"{registry}{busiest.name}/?metric=metric_010&min=0.2&max=0.6",
            ),
            ("compare, 3 newest", compare),
            (
                "compare, 50 versions, 2 charts",
                f"{compare}?{compared}&chart=metric_001&chart=metric_002",
            ),
            ("version overview", version),
            ("version metadata", f"{version}metadata/"),
            ("version files", f"{version}files/"),
            ("version usage", f"{version}usage/"),
            ("registry settings", f"{registry}settings/"),
            ("lineage, 500 nodes clustered", lineage),
            ("lineage, 500 nodes expanded", f"{lineage}?depth=2&expand=1&expand=2"),
        ]

    def report(self, rows, vendor: str) -> None:
        self.stdout.write(f"Database: {vendor}")
        self.stdout.write(f"{'page':<30}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
        for name, p50, p95, queries in rows:
            self.stdout.write(f"{name:<30}{p50:>9.1f}{p95:>9.1f}{queries:>9}")
        worst_p50 = max(row[1] for row in rows)
        worst_p95 = max(row[2] for row in rows)
        met = worst_p50 <= TARGET_P50_MS and worst_p95 <= TARGET_P95_MS
        verdict = self.style.SUCCESS("met") if met else self.style.WARNING("missed")
        self.stdout.write(
            f"Target p50 ≤ {TARGET_P50_MS} ms and p95 ≤ {TARGET_P95_MS} ms on every page: "
            f"{verdict} (worst p50 {worst_p50:.1f} ms, worst p95 {worst_p95:.1f} ms)"
        )
