"""The search box in every page's header: apps.search brings it, so that no lower app imports it."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse

register = template.Library()


@register.inclusion_tag("search/includes/box.html", takes_context=True)
def search_box(context: template.Context) -> dict:
    """The box, for a signed-in user, searching the page's organization or else their first (as
    the home page picks it); nothing without one, or with the Registry's pages switched off."""
    user = context.get("user")  # absent from pages rendered without a request (503)
    if user is None or not user.is_authenticated or not settings.ENABLE_REGISTRY_UI:
        return {}
    organization = context.get("organization") or context.get("home_organization") or None
    if organization is None:
        return {}
    form = context.get("search_form")  # set by the search page, which shows the results itself
    return {
        "search_url": reverse("search:search", kwargs={"org": organization.slug}),
        "on_search_page": form is not None,
        "query": (form["q"].value() or "") if form is not None else "",
    }
