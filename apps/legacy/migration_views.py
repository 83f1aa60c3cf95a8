"""The migration view: each team's move to the Registry, started in the background."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def migration_overview(request: HttpRequest, org: str) -> HttpResponse:
    raise NotImplementedError


def migration_team(request: HttpRequest, org: str, team: str) -> HttpResponse:
    raise NotImplementedError
