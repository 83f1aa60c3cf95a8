"""Helpers that several of the Registry pages share."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from apps.lib.pagination import keyset_page
from apps.registries.models import Collection


def collection_url(collection: Collection) -> str:
    registry = collection.registry
    return reverse(
        "registries:collection",
        kwargs={
            "org": registry.organization.slug,
            "registry": registry.slug,
            "collection": collection.name,
        },
    )


HISTORY_PER_PAGE = 50


def history_page(request: HttpRequest, events):
    """The page of audit events, newest first, that the request's cursor asks for."""
    return keyset_page(
        events, field="created_at", descending=True, cursor=request.GET.get("cursor"),
        size=HISTORY_PER_PAGE, count=True,
    )  # fmt: skip
