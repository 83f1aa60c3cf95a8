"""Refuse, with a clear 400, text no database can store before any view sees it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

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
