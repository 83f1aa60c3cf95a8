"""Drop resumable uploads nobody finished, and what the store holds for them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.artifacts.storage import clean_uploads


class Command(BaseCommand):
    help = (
        "Drop resumable uploads begun more than --hours ago, or whose blob is stored by now, "
        "with the bytes or S3 parts they hold; run it daily (from cron, say) so that abandoned "
        "uploads do not fill the store."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--hours",
            type=float,
            default=7 * 24,
            help="how long an unfinished upload may wait to be resumed (default a week)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, drop nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        begun_before = timezone.now() - timedelta(hours=options["hours"])
        count = clean_uploads(begun_before=begun_before, dry_run=options["dry_run"])
        verb = "Would drop" if options["dry_run"] else "Dropped"
        self.stdout.write(self.style.SUCCESS(f"{verb} {count} unfinished upload(s)."))
