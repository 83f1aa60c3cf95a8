from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def landing(request: HttpRequest, org: str) -> HttpResponse:
    return render(request, "registries/landing.html", {})
