"""The legacy Model Registry's pages: read-only, and after migration they say where things went."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def legacy_home(request: HttpRequest, org: str) -> HttpResponse:
    raise NotImplementedError


def legacy_team(request: HttpRequest, org: str, team: str) -> HttpResponse:
    raise NotImplementedError


def legacy_model(request: HttpRequest, org: str, team: str, model: str) -> HttpResponse:
    raise NotImplementedError


def legacy_version(
    request: HttpRequest, org: str, team: str, model: str, number: int
) -> HttpResponse:
    raise NotImplementedError
