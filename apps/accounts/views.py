from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.accounts.models import Organization


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send a signed-in user to their organization's registry."""
    organization = Organization.objects.for_user(request.user).first()
    if organization is None:
        return render(request, "accounts/no_organization.html")
    return redirect("registries:landing", org=organization.slug)
