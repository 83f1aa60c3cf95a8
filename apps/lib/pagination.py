"""Keyset pagination: pages that cost the same on page 1 and page 1,000.

The cursor carries the sort value and primary key of a row at a page's edge: the next page asks
for rows strictly after the last row shown, the previous one for the rows strictly before the
first, read in reverse order and turned round, so it never skips rows as OFFSET would. A cursor
also carries where its page starts, so that a page can say "41 to 60" without counting the rows
before it; only the total costs a query, one COUNT, and only where a page asks for it.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Field, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    previous_cursor: str | None = None  # None on the first page
    start: int = 0  # how many rows come before this page's first, as its cursor says
    total: int | None = None  # every row of the list, if the page was asked to count them


def encode_cursor(value: Any, pk: Any, *, start: int = 0, before: bool = False) -> str:
    """The cursor of the page that starts after (or, `before`, ends before) the row with this
    sort value and pk, its first row being row `start` of the list."""
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    position = [value, pk, start, "before"] if before else [value, pk, start]
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class _Position:
    value: Any
    pk: Any
    start: int
    before: bool


def _decode(cursor: str, queryset: QuerySet, field: str) -> _Position | None:
    """The cursor's sort value and pk, each checked as the column it is compared with, and its
    place; None for a cursor that was not made here, so that no odd value reaches the database.
    A cursor of two items (value, pk: as made before pages went back) starts at row 0."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk, *place = json.loads(raw)
        start = place[0] if place else 0
        before = place[1:] == ["before"]
        if type(start) is not int or start < 0 or len(place) > 1 + before:
            return None
        if isinstance(value, dict) and "dt" in value:
            value = value["dt"]
        value = _as_column(_column(queryset, field), value)
        return _Position(value, _as_column(_column(queryset, "pk"), pk), start, before)
    except (ValueError, TypeError, OverflowError, ValidationError):  # binascii.Error too
        return None


def _column(queryset: QuerySet, field: str) -> Field:
    if field in queryset.query.annotations:
        return queryset.query.annotations[field].output_field
    model, *path, last = [queryset.model, *field.split("__")]
    for part in path:
        model = model._meta.get_field(part).related_model
    return model._meta.pk if last == "pk" else model._meta.get_field(last)


def _as_column(column: Field, value: Any) -> Any:
    """`value` as the column holds it, within the column's range; ValueError otherwise."""
    if value is None:
        raise ValueError("a cursor never holds null")
    value = column.to_python(value)
    column.run_validators(value)  # the integer range a database column holds
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a cursor never holds NaN or infinities")
    if isinstance(value, datetime) and timezone.is_naive(value):
        raise ValueError("a cursor's times carry their offset")
    return value


def keyset_page(
    queryset: QuerySet,
    *,
    field: str,
    descending: bool,
    cursor: str | None,
    size: int,
    count: bool = False,
) -> Page:
    """One page of `queryset` ordered by `field` then pk; a bad cursor starts from the top.
    `count` adds the total, in one COUNT query.

    `.values()` querysets page too, if their rows carry `pk` and `field`."""
    total = queryset.order_by().count() if count else None
    direction = "-" if descending else ""
    ordered = queryset.order_by(f"{direction}{field}", f"{direction}pk")
    position = _decode(cursor, queryset, field) if cursor else None
    if position is not None and position.before:
        page = _page_before(queryset, position, field=field, descending=descending, size=size)
        if page is not None:
            page.total = total
            return page
        position = None  # fewer rows before than a page: the first page, then
    start = 0
    if position is not None:
        ordered = ordered.filter(_beyond(position, field, "lt" if descending else "gt"))
        start = position.start
    rows = list(ordered[: size + 1])
    previous = _edge_cursor(rows[0], field, start=start, before=True) if position and rows else None
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        next_cursor = _edge_cursor(rows[-1], field, start=start + size)
    return Page(rows, next_cursor, previous, start, total)


def _page_before(
    queryset: QuerySet, position: _Position, *, field: str, descending: bool, size: int
) -> Page | None:
    """The page that ends just before the cursor's row: the rows before it, read in reverse
    order and turned round; None if there are fewer of them than a page (the first page, shown
    from the top instead, so that it is never short)."""
    direction = "" if descending else "-"  # reversed
    before = _beyond(position, field, "gt" if descending else "lt")
    rows = list(
        queryset.order_by(f"{direction}{field}", f"{direction}pk").filter(before)[: size + 1]
    )
    if len(rows) < size:
        return None
    has_previous = len(rows) > size
    rows = rows[:size][::-1]
    # A cursor's start is a hint; a page with rows before it never says it starts at row 0.
    start = max(position.start - size, 1 if has_previous else 0)
    previous = _edge_cursor(rows[0], field, start=start, before=True) if has_previous else None
    return Page(rows, _edge_cursor(rows[-1], field, start=start + size), previous, start)


def _beyond(position: _Position, field: str, lookup: str) -> Q:
    """The rows strictly beyond the cursor's row, in the order `lookup` (lt or gt) runs:
    by `field`, then by pk among equal values."""
    return Q(**{f"{field}__{lookup}": position.value}) | Q(
        **{field: position.value, f"pk__{lookup}": position.pk}
    )


def _edge_cursor(row: Any, field: str, *, start: int, before: bool = False) -> str:
    return encode_cursor(_value_of(row, field), _value_of(row, "pk"), start=start, before=before)


def _value_of(row: Any, field: str) -> Any:
    """A field of a model instance (following `__`), or a key of a `.values()` row."""
    if isinstance(row, dict):
        return row[field]
    for part in field.split("__"):
        row = getattr(row, part)
    return row


def pager(request: HttpRequest, page: Page, *, param: str = "cursor") -> dict:
    """What includes/pager.html shows for `page`: the queries of the first, previous and next
    pages (this page's query with `param` changed; None where there is no such page) and the
    rows shown, "41 to 60", of the total if the page counted it."""
    params = request.GET.copy()

    def query(cursor: str | None) -> str:
        params.pop(param, None)
        if cursor:
            params[param] = cursor
        return params.urlencode()

    return {
        "first_query": query(None) if page.previous_cursor else None,
        "previous_query": query(page.previous_cursor) if page.previous_cursor else None,
        "next_query": query(page.next_cursor) if page.next_cursor else None,
        "first_row": page.start + 1,
        "last_row": page.start + len(page.items),
        "total": page.total,
    }
