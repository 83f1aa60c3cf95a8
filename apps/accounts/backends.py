"""Sign-in by username and password, throttled: every way in (the sign-in page, the admin's, any
later one) goes through `django.contrib.auth.authenticate`, and so through here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.accounts.models import User
from apps.accounts.throttle import SIGN_IN, client_address, client_key


def sign_in_key(request: HttpRequest, username: str) -> str:
    """Failures count per username and address: one user's do not lock out another, and a
    guesser elsewhere does not lock a user out of their own address."""
    return client_key(username, client_address(request))


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        username = username or kwargs.get(User.USERNAME_FIELD)
        if request is None or not username:
            return super().authenticate(request, username, password, **kwargs)
        key = sign_in_key(request, username)
        failures = SIGN_IN.failures(key)
        if SIGN_IN.retry_after(failures) is not None:
            # Stops every backend; the form then says when to try again.
            raise PermissionDenied
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            SIGN_IN.record_failure(key)
        elif failures is not None:
            SIGN_IN.clear(key)
        return user
