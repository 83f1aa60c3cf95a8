"""Sign-in, throttled: every way in (the sign-in page, the admin's, the API's bearer tokens, any
later one) goes through `django.contrib.auth.authenticate`, and so through here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.accounts.models import ApiToken, User, hash_token
from apps.accounts.throttle import SIGN_IN, TOKEN, client_address, client_key, seconds_left
from apps.lib.api import ApiError


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


class ApiTokenBackend(BaseBackend):
    """The user of an API bearer token: `authenticate(request, token=...)`. A token that does not
    sign in raises the ApiError the API answers (401 naming why, or 429 while the client's address
    is throttled for sending unknown tokens), since authenticate() itself passes on only "no"."""

    def authenticate(self, request: HttpRequest, token: str) -> User:
        guesser = client_key(client_address(request))
        # Whether the address is throttled comes in the token's own query: a valid token costs
        # no extra query, and a throttled address gets no answer even for a valid token.
        row = (
            ApiToken.objects.select_related("user")
            .annotate(throttled_since=TOKEN.locked_since(guesser))
            .filter(token_hash=hash_token(token))
            .first()
        )
        if row is None:
            # Only unknown tokens count as guesses: revoked or expired ones were issued.
            if (seconds := TOKEN.retry_after(TOKEN.failures(guesser))) is not None:
                raise _too_many_attempts(seconds)
            TOKEN.record_failure(guesser)
            raise ApiError(401, "invalid_token", "This token is not known; create a new one.")
        if row.throttled_since is not None:
            raise _too_many_attempts(seconds_left(row.throttled_since))
        if not row.user.is_active:
            raise ApiError(401, "invalid_token", "This token is not known; create a new one.")
        if row.state == "revoked":
            raise ApiError(401, "revoked_token", "This token was revoked; create a new one.")
        if row.state == "expired":
            raise ApiError(401, "expired_token", "This token has expired; create a new one.")
        row.record_use()
        return row.user


def _too_many_attempts(seconds: int) -> ApiError:
    return ApiError(
        429,
        "too_many_attempts",
        f"Too many unknown tokens were sent from your address; try again in {seconds} seconds.",
        {"Retry-After": str(seconds)},
    )
