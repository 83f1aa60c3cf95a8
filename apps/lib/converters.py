"""URL path converters shared by every app's routes: each URL module that uses one imports this
module, which registers them, so no route depends on another module having been loaded first."""

from __future__ import annotations

from django.urls import register_converter


class VersionNumberConverter:
    """The N of `vN`: at most 18 digits, so every number that matches fits a 64-bit column and
    a longer one is a plain 404 rather than an overflow in the database."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(VersionNumberConverter, "version")


class IdConverter(VersionNumberConverter):
    """A row's id in a path: bounded the same way, so a huge one is a 404, not an overflow."""


register_converter(IdConverter, "id")
