"""The API's lists of registries, a registry's collections and a collection's linked versions:
filtered with W&B's filter JSON, ordered as asked, in keyset pages.

A filter is parsed to the tree the search box's language parses to (query.py) and compiled to
SQL by the same code (compile.py), on top of what the caller may see, so access stays in the
query: a hidden row is never matched, counted or paged. The lists live here, not beside the
other endpoints in apps.registries, because that app sits below search and may not import it;
it keeps the rows' JSON, and linking, which the versions list's route also answers (POST).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import DataError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse

from apps.lib.api import ApiError, api_view, json_param
from apps.lib.openapi import Operation
from apps.lib.pagination import Page, keyset_page
from apps.registries import api as registries_api
from apps.registries.api import (
    COLLECTION,
    LINKED_VERSION,
    NEXT,
    PAGE_PARAMETERS,
    REGISTRY,
    page_size,
)
from apps.registries.lookups import collection_for, organization_for, registry_for
from apps.search.compile import condition
from apps.search.engine import visible
from apps.search.query import EVERYTHING, QueryError, parse_filter

# What each list may filter on (reference §12) and order by: the order's name, and the field the
# keyset pages follow (then the primary key).
FIELDS = {
    "registry": ("name", "description", "created_at", "updated_at"),
    "collection": ("name", "tag", "description", "created_at", "updated_at"),
    "version": ("tag", "alias", "created_at", "updated_at", "metadata", "metrics"),
}
ORDERS = {
    "registry": {"name": "name", "created_at": "created_at", "updated_at": "updated_at"},
    "collection": {"name": "name", "created_at": "created_at", "updated_at": "updated_at"},
    "version": {"version": "number", "created_at": "linked_at"},
}
DEFAULT_ORDER = {"registry": "+name", "collection": "+name", "version": "-version"}
EXAMPLES = {
    "registry": {"name": {"$regex": "^Mod"}},
    "collection": {"$or": [{"tag": "vision"}, {"name": {"$contains": "resnet"}}]},
    "version": {"alias": "production", "metrics.accuracy": {"$gte": 0.9}},
}


def _parameters(kind: str) -> tuple[dict[str, Any], ...]:
    fields = ", ".join(
        {"metadata": "`metadata.<key>`", "metrics": "`metrics.<name>`"}.get(f, f"`{f}`")
        for f in FIELDS[kind]
    )
    orders = [f"{sign}{name}" for name in ORDERS[kind] for sign in "+-"]
    return (
        {
            "name": "filter",
            "in": "query",
            "description": f"W&B's filter JSON, URL-encoded, on {fields}: a value, or "
            "operators `$eq $ne $gt $gte $lt $lte $regex $exists $contains`, combined with "
            "`$and $or $nor $not`. Times are ISO 8601 (`2026-01-31`, `2026-01-31 12:00:00`). "
            "A filter that cannot be read is a 400 naming the part.",
            "content": {
                "application/json": {"schema": {"type": "object"}, "example": EXAMPLES[kind]}
            },
        },
        {
            "name": "order",
            "in": "query",
            "description": f"`+` ascending, `-` descending; `{DEFAULT_ORDER[kind]}` by default. "
            "`next` cursors hold for the same filter and order.",
            "schema": {"enum": orders},
        },
        *PAGE_PARAMETERS,
    )


def _page(
    request: HttpRequest, rows: QuerySet, kind: str, described: Callable[[QuerySet], QuerySet]
) -> Page:
    """The page of `rows` (those of a kind the caller may see) that the request's filter
    matches, in its order; `described` makes the rows the JSON is written from."""
    data = json_param(request, "filter")
    try:
        node = EVERYTHING if data is None else parse_filter(data, fields=FIELDS[kind])
    except QueryError as error:
        raise ApiError(400, "invalid_filter", error.message) from None
    order = request.GET.get("order", DEFAULT_ORDER[kind]).strip()  # a bare + arrives as a space
    name = order[1:] if order[:1] in ("+", "-") else order
    if name not in ORDERS[kind]:
        choices = ", ".join(f"{sign}{n}" for n in ORDERS[kind] for sign in "+-")
        raise ApiError(400, "invalid_order", f"order: {order!r} is not one of {choices}.")
    size = page_size(request)
    try:
        return keyset_page(
            described(rows.filter(condition(node, kind))),
            field=ORDERS[kind][name],
            descending=order.startswith("-"),
            cursor=request.GET.get("cursor"),
            size=size,
        )
    except DataError as error:  # a regex Python reads but PostgreSQL's dialect does not
        reason = str(error).splitlines()[0]
        raise ApiError(
            400, "invalid_filter", f"filter: the database refused it: {reason}"
        ) from None


def _listing(kind: str, what: str, description: str, item: Any) -> Operation:
    return Operation(
        f"List {what}",
        f"{description} Filter with `filter`, order with `order`; follow `next` for more.",
        parameters=_parameters(kind),
        response={
            "type": "object",
            "properties": {what.split()[-1]: {"type": "array", "items": item}, "next": NEXT},
        },
        errors=(400, 401, 404),
    )


@api_view(
    get=_listing(
        "registry", "registries", "The organization's registries the caller may see.", REGISTRY
    )
)
def registries(request: HttpRequest, org: str) -> JsonResponse:
    organization = organization_for(request.user, org)
    rows = visible(request.user, organization, "registry").select_related("organization")
    page = _page(request, rows, "registry", lambda rows: rows.prefetch_related("accepted_types"))
    return JsonResponse(
        {
            "registries": [registries_api.registry_json(r) for r in page.items],
            "next": page.next_cursor,
        }
    )


@api_view(get=_listing("collection", "collections", "A registry's collections.", COLLECTION))
def collections(request: HttpRequest, org: str, registry: str) -> JsonResponse:
    found = registry_for(request.user, org, registry)
    page = _page(request, found.collections.all(), "collection", lambda rows: rows.described())
    return JsonResponse(
        {
            "collections": registries_api.collections_json(found, page.items),
            "next": page.next_cursor,
        }
    )


@api_view(
    get=_listing("version", "linked versions", "A collection's linked versions.", LINKED_VERSION),
    post=registries_api.LINK,
)
def versions(request: HttpRequest, org: str, registry: str, collection: str) -> JsonResponse:
    if request.method == "POST":
        return registries_api.link(request, org, registry, collection)
    found = collection_for(request.user, org, registry, collection)
    page = _page(request, found.links.live(), "version", lambda rows: rows.described())
    return JsonResponse(
        {"versions": registries_api.links_json(page.items), "next": page.next_cursor}
    )
