"""Sign-in forms that say when a throttled client may try again."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.timesince import timeuntil

from apps.accounts.backends import sign_in_key
from apps.accounts.throttle import SIGN_IN


class ThrottleMessageMixin:
    """The backend refuses a throttled client, but authenticate() passes on only "no"; on that
    failure path alone, this asks the throttle again so that the message says when to retry."""

    retry_after: int | None = None

    def get_invalid_login_error(self) -> ValidationError:
        key = sign_in_key(self.request, self.cleaned_data["username"])
        self.retry_after = SIGN_IN.retry_after(SIGN_IN.failures(key))
        if self.retry_after is None:
            return super().get_invalid_login_error()
        wait = timeuntil(timezone.now() + timedelta(seconds=self.retry_after))
        return ValidationError(
            "Too many failed sign-ins for this username from your address. Try again in %(wait)s.",
            code="too_many_attempts",
            params={"wait": wait},
        )


class SignInForm(ThrottleMessageMixin, AuthenticationForm):
    pass


class AdminSignInForm(ThrottleMessageMixin, AdminAuthenticationForm):
    pass
