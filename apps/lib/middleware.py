"""Request-wide rules: text no database can store is refused with a clear 400 before any view
sees it; a database that does not answer is a 503 to retry, not a server error; an in-place
action of someone signed out leads the whole page to the sign-in form."""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils.deprecation import MiddlewareMixin
from django.utils.log import log_response
from django_htmx.http import HttpResponseClientRedirect

from apps.lib.api import error_response

log = logging.getLogger(__name__)

MESSAGE = "The address or form holds a NUL character (%00), which nothing here can store."
# Long enough for a restarted server or a failover; short enough that nobody gives up waiting.
RETRY_AFTER_SECONDS = 10
DATABASE_UNAVAILABLE = (
    f"The database is not answering for the moment; try again in {RETRY_AFTER_SECONDS} seconds."
)


def is_api_request(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


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
            if is_api_request(request):
                return error_response(400, "invalid_text", MESSAGE)
            # Plain text, as it is: htmx's error handling (static/js/htmx-errors.js) shows it
            # beside the action instead of swapping it in like a form's errors.
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class DatabaseOutage(MiddlewareMixin):
    """While the database does not answer, the API answers its JSON error and pages a page of
    the product, both 503 with Retry-After, logged once as a warning: the outage is the
    operator's to see, not a bug of the code that met it.

    Django turns an exception into a 500 inside the middleware layer that raised it, so no
    outer layer can catch it; the database is met in two places that this covers. The view and
    its template raise into `process_exception`. Before the view, LoginRequiredMiddleware
    reads the signed-in user (the session row, then the user's), so this middleware's
    `process_view`, listed before it, reads the user first.
    """

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: tuple, view_kwargs: dict
    ) -> HttpResponse | None:
        try:
            request.user.is_authenticated  # noqa: B018 (read now, where a failure is caught)
        except (OperationalError, InterfaceError) as error:
            return self.process_exception(request, error)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        if is_api_request(request):
            response = error_response(503, "database_unavailable", DATABASE_UNAVAILABLE)
        else:
            # Rendered without the request: its context processors would read the user again.
            page = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
            response = HttpResponse(page, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # Marks the response logged, so Django does not log it again as an error.
        log_response(
            "Database unavailable, answered 503: %s (%s)",
            request.path,
            str(exception).strip(),
            response=response,
            request=request,
            logger=log,
            level="warning",
        )
        return response


class SignInRequired(LoginRequiredMiddleware):
    """Every page needs a signed-in user unless its view says @login_not_required. An in-place
    (htmx) request of someone whose session ended would follow the redirect and swap the sign-in
    form into a fragment: it is told to load the sign-in page whole instead, which returns to the
    page the action was on."""

    def handle_no_permission(self, request: HttpRequest, view_func: Callable) -> HttpResponse:
        if request.headers.get("HX-Request") != "true":
            return super().handle_no_permission(request, view_func)
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current._replace(scheme="", netloc="").geturl() or request.get_full_path()
        login = redirect_to_login(back, self.get_login_url(view_func))
        return HttpResponseClientRedirect(login["Location"])
