"""Keyset pagination: pages that cost the same on page 1 and page 1,000.

The cursor carries the sort value and primary key of the last row shown; the next page asks for
rows strictly after that pair, so it never counts or skips rows as OFFSET would.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(value: Any, pk: Any) -> str:
    """The cursor of the page that starts after the row with this sort value and pk."""
    if isinstance(value, datetime):
        value = {"dt": value.isoformat()}
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, Any] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        return None
    if isinstance(value, dict) and "dt" in value:
        try:
            value = datetime.fromisoformat(value["dt"])
        except (TypeError, ValueError):
            return None
    return value, pk


def keyset_page(
    queryset: QuerySet, *, field: str, descending: bool, cursor: str | None, size: int
) -> Page:
    """One page of `queryset` ordered by `field` then pk; a bad cursor starts from the top.

    `.values()` querysets page too, if their rows carry `pk` and `field`."""
    direction = "-" if descending else ""
    queryset = queryset.order_by(f"{direction}{field}", f"{direction}pk")
    if cursor and (position := _decode(cursor)) is not None:
        value, pk = position
        after = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{field}__{after}": value}) | Q(**{field: value, f"pk__{after}": pk})
        )
    rows = list(queryset[: size + 1])
    if len(rows) <= size:
        return Page(rows, None)
    last = rows[size - 1]
    return Page(rows[:size], encode_cursor(_value_of(last, field), _value_of(last, "pk")))


def _value_of(row: Any, field: str) -> Any:
    """A field of a model instance (following `__`), or a key of a `.values()` row."""
    if isinstance(row, dict):
        return row[field]
    for part in field.split("__"):
        row = getattr(row, part)
    return row
