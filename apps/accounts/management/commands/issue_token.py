"""Print a new API token for a user, for scripts and CI jobs set up from a shell."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from apps.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="what the token is for")
        parser.add_argument("--days", type=int, help="expire after this many days (default: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['username']!r}; check the spelling.")
        days = options["days"]
        if days is not None and days < 1:
            raise CommandError("--days must be 1 or more.")
        name_limit = ApiToken._meta.get_field("name").max_length
        if not options["name"] or len(options["name"]) > name_limit:
            raise CommandError(f"--name must be 1 to {name_limit} characters.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        _, token = ApiToken.issue(user, options["name"], expires_at=expires_at)
        self.stdout.write(token)
