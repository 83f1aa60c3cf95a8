"""Throttling of failed sign-ins and token guesses.

A client may fail a rule's `limit` times within FAILURE_WINDOW of its first failure; then it is
refused until that window ends. The counts live in the database, so every server process shares
them and a restart forgets none, and they change by single UPDATE statements, never by reading
and writing back, so failures that arrive together are all counted.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.models import FailedAttempt


def client_address(request: HttpRequest) -> str:
    """The address the request came from. Behind TRUSTED_PROXY_COUNT proxies that each append
    the address they were reached from to X-Forwarded-For, it is the one the outermost proxy
    saw; what the client wrote there itself sits further left and is never read."""
    if proxies := settings.TRUSTED_PROXY_COUNT:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [address.strip() for address in forwarded if address.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


@dataclass(frozen=True)
class Rule:
    scope: FailedAttempt.Scope
    limit_setting: str  # the setting holding how many failures a window allows

    @property
    def limit(self) -> int:
        return getattr(settings, self.limit_setting)

    def _client(self, key: str) -> QuerySet[FailedAttempt]:
        return FailedAttempt.objects.filter(scope=self.scope, key=key)

    def _live(self, key: str) -> QuerySet[FailedAttempt]:
        return self._client(key).filter(started_at__gt=timezone.now() - settings.FAILURE_WINDOW)

    def failures(self, key: str) -> FailedAttempt | None:
        """The client's failures in the current window, if it has any."""
        return self._live(key).first()

    def locked_since(self, key: str) -> Subquery:
        """When the client's window began if it is used up, else NULL: to read in the query that
        a successful request makes anyway, so that success costs no extra query."""
        locked = self._live(key).filter(failures__gte=self.limit)
        return Subquery(locked.values("started_at")[:1])

    def retry_after(self, attempt: FailedAttempt | None) -> int | None:
        """Seconds until a client with these failures may try again; None if it may now."""
        if attempt is None or attempt.failures < self.limit:
            return None
        return seconds_left(attempt.started_at)

    def record_failure(self, key: str) -> None:
        now = timezone.now()
        # Pruned here, where failures add rows: windows that have ended count for nobody.
        FailedAttempt.objects.filter(started_at__lte=now - settings.FAILURE_WINDOW).delete()
        counted = self._client(key)
        if counted.update(failures=F("failures") + 1):
            return
        try:
            with transaction.atomic():
                FailedAttempt.objects.create(scope=self.scope, key=key, started_at=now)
        except IntegrityError:  # another process counted this client's first failure meanwhile
            counted.update(failures=F("failures") + 1)

    def clear(self, key: str) -> None:
        self._client(key).delete()


def client_key(*parts: str) -> str:
    """Who is counted, hashed: what people type as a username is sometimes their password."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def seconds_left(started_at: datetime) -> int:
    """Whole seconds until the window that began at `started_at` ends, at least 1: Retry-After
    takes an integer."""
    ends_at = started_at + settings.FAILURE_WINDOW
    return max(1, math.ceil((ends_at - timezone.now()).total_seconds()))


SIGN_IN = Rule(FailedAttempt.Scope.SIGN_IN, "SIGN_IN_FAILURES_ALLOWED")
TOKEN = Rule(FailedAttempt.Scope.TOKEN, "TOKEN_FAILURES_ALLOWED")
