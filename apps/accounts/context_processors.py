"""What every page's header reads, looked up once however many parts of the header need it."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from apps.accounts.models import Organization


def home_organization(request: HttpRequest) -> dict:
    """`home_organization`: the signed-in user's first organization, as the home page picks it,
    for headers on pages outside one (the header's search box and navigation). Read only when a
    page asks, and then once."""
    user = getattr(request, "user", None)  # none on a request refused before the middleware
    if user is None or not user.is_authenticated:
        return {"home_organization": None}
    return {"home_organization": SimpleLazyObject(Organization.objects.for_user(user).first)}
