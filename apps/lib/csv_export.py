"""CSV exports: one writer for all of them, so that no cell runs as a spreadsheet formula.

A spreadsheet reads a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula (CSV injection). Text cells that begin so get a single quote in front, as OWASP advises;
so do text cells that begin with a quote, so that removing one leading quote from a text cell
always gives back the original. Finite numbers are written as numbers: -0.5 is a value, not a
formula, and a metric column stays numeric in the spreadsheet.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def safe_cell(value: Any) -> Any:
    """A cell as written: finite numbers as they are, None as empty, anything else as guarded
    text."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return value
    text = "" if value is None else str(value)
    if text.startswith((*FORMULA_TRIGGERS, GUARD)):
        return GUARD + text
    return text


class _Line:
    """A file-like object whose write returns what it is given, so csv.writer yields lines."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The rows as CSV lines, every cell passed through safe_cell."""
    writer = csv.writer(_Line())
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_response(rows: Iterable[Iterable[Any]], filename: str) -> StreamingHttpResponse:
    """A CSV download, streamed as the rows are produced."""
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
