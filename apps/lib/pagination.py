"""Keyset pagination: pages that cost the same on page 1 and page 1,000.

The cursor carries the sort value and primary key of the last row shown; the next page asks for
rows strictly after that pair, so it never counts or skips rows as OFFSET would.
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
from django.utils import timezone


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


def _decode(cursor: str, queryset: QuerySet, field: str) -> tuple[Any, Any] | None:
    """The cursor's sort value and pk, each checked as the column it is compared with; None
    for a cursor that was not made here, so that no odd value reaches the database."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        if isinstance(value, dict) and "dt" in value:
            value = value["dt"]
        return _as_column(_column(queryset, field), value), _as_column(_column(queryset, "pk"), pk)
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
    queryset: QuerySet, *, field: str, descending: bool, cursor: str | None, size: int
) -> Page:
    """One page of `queryset` ordered by `field` then pk; a bad cursor starts from the top.

    `.values()` querysets page too, if their rows carry `pk` and `field`."""
    direction = "-" if descending else ""
    queryset = queryset.order_by(f"{direction}{field}", f"{direction}pk")
    if cursor and (position := _decode(cursor, queryset, field)) is not None:
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
