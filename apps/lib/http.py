"""Helpers for answering requests, shared by every app's views."""

from __future__ import annotations

from django.http import HttpRequest


def is_fragment_request(request: HttpRequest) -> bool:
    """Whether to answer with a fragment: an htmx swap, but not a history restore, which
    htmx 2 also marks as an htmx request and which needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request
