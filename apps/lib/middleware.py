"""Request-wide rules: text no database can store is refused with a clear 400 before any view
sees it; with ENABLE_REGISTRY_UI off, the Registry's pages lead to the legacy Model Registry."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect

from apps.accounts.models import Organization

MESSAGE = "The address or form holds a NUL character (%00), which nothing here can store."


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    fields = [request.GET]
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        fields.append(request.POST)
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for field in fields
        for key, values in field.lists()
    )


class RejectNulCharacters:
    """PostgreSQL text cannot hold NUL; a request carrying one is refused, not a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"error": {"code": "invalid_text", "message": MESSAGE}}, status=400
                )
            return HttpResponseBadRequest(MESSAGE)
        return self.get_response(request)


class RegistryUISwitch:
    """With ENABLE_REGISTRY_UI off, `/` and every Registry page lead to the legacy Model Registry.

    Read per request, not at start-up, so tests can flip the setting. It acts once the URL is
    resolved and after LoginRequiredMiddleware, so anonymous visitors still go to sign in and
    the switch covers every view of the `registries` namespace, however its URLs change.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        if settings.ENABLE_REGISTRY_UI:
            return None
        match = request.resolver_match
        if match is None:
            return None
        if match.namespace == "registries":
            return redirect("legacy:home", org=view_kwargs["org"])
        if match.view_name == "home" and request.user.is_authenticated:
            organization = Organization.objects.for_user(request.user).first()
            if organization is not None:
                return redirect("legacy:home", org=organization.slug)
        return None
