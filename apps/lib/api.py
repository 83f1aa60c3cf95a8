"""What every JSON endpoint shares: bearer-token sign-in and errors as JSON.

Errors are `{"error": {"code": …, "message": …}}` with the right status: 401 for a missing, bad,
expired or revoked token; 429 with Retry-After to an address that sent too many unknown tokens;
404 for what does not exist or may not be seen; 403 naming the role needed; 400 naming the rule
broken; 405 for a wrong method.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import auth
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.lib.openapi import Operation
from apps.lib.validators import INT64_MAX, INT64_MIN, parse_whole_number

MAX_JSON_BODY = 1024 * 1024


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    body = {"error": {"code": code, "message": message}}
    return JsonResponse(body, status=status, headers=headers)


def authenticate(request: HttpRequest):
    """The user of the request's bearer token; raises ApiError(401), or the token backend's
    ApiError (apps.accounts.backends) for a token that does not sign in."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "unauthenticated",
            "Send 'Authorization: Bearer <token>'; create a token on your account page.",
        )
    user = auth.authenticate(request, token=token.strip())
    if user is None:  # no backend in AUTHENTICATION_BACKENDS takes tokens
        raise ApiError(401, "invalid_token", "This token is not known; create a new one.")
    return user


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object; refuses other bodies with a message saying what is wrong."""
    if len(request.body) > MAX_JSON_BODY:
        raise ApiError(413, "too_large", f"JSON bodies are limited to {MAX_JSON_BODY} bytes.")
    try:
        data = json.loads(request.body or b"{}", parse_int=_parse_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "invalid_json", f"The body is not valid JSON: {error}.") from error
    except RecursionError:  # thousands of nested [ or {: Python's parser gives up
        raise ApiError(400, "invalid_json", "The body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    _check_values(data, "")
    return data


def _parse_int(text: str) -> int:
    # Past 20 characters a JSON integer is outside 64 bits anyway; int() of thousands of digits
    # would raise (or take long), so any number out of range stands in, refused by the walk.
    return int(text) if len(text) <= 20 else INT64_MAX + 1


def _check_values(value: Any, where: str) -> None:
    """Refuse what no column stores: NUL characters and unpaired surrogates (\\ud800…) in
    text, integers outside signed 64 bits, NaN and infinities. `where` names the field."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_values(key, where)
            _check_values(item, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, f"{where}[{index}]")
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ApiError(
                400,
                "invalid_text",
                f"{where or 'The body'} holds an unpaired surrogate (\\ud800 to \\udfff).",
            ) from None
        if "\x00" in value:
            raise ApiError(
                400, "invalid_text", f"{where or 'The body'} holds a NUL character (\\u0000)."
            )
    elif isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise ApiError(
            400,
            "out_of_range",
            f"{where} is outside the integers a 64-bit column holds ({INT64_MIN} to {INT64_MAX}).",
        )
    elif isinstance(value, float) and not math.isfinite(value):
        raise ApiError(
            400,
            "non_finite",
            f"{where} is {value}; NaN and infinities are not allowed.",
        )


def int_param(request: HttpRequest, name: str, *, default: int, minimum: int = 0,
              maximum: int = INT64_MAX) -> int:  # fmt: skip
    """A whole-number query parameter, or 400 naming it and its range."""
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        return parse_whole_number(raw, name, minimum=minimum, maximum=maximum)
    except ValidationError as error:
        raise ApiError(400, f"invalid_{name}", error.messages[0]) from None


def json_param(request: HttpRequest, name: str) -> Any:
    """A query parameter holding JSON (None if absent), held to the rules of JSON bodies; or
    400 naming it."""
    raw = request.GET.get(name)
    if raw is None:
        return None
    try:
        value = json.loads(raw, parse_int=_parse_int)
        _check_values(value, name)
    except json.JSONDecodeError as error:
        raise ApiError(400, f"invalid_{name}", f"'{name}' is not valid JSON: {error}.") from None
    except RecursionError:
        raise ApiError(400, f"invalid_{name}", f"'{name}' nests too deeply.") from None
    return value


def api_view(**operations: Operation) -> Callable:
    """Make a view a JSON endpoint: token sign-in, errors as JSON, and the methods described,
    one Operation each (`get=Operation(...)`), for the OpenAPI document: no other is allowed."""
    if not operations:
        raise TypeError("Describe each method the endpoint answers: api_view(get=Operation(...)).")
    methods = [method.upper() for method in operations]

    def decorate(view: Callable) -> Callable:
        @csrf_exempt  # bearer tokens, not cookies: there is no session to forge requests with
        @login_not_required
        @wraps(view)
        def endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error_response(
                    405, "method_not_allowed", f"Use {' or '.join(methods)} here."
                )
                response["Allow"] = ", ".join(methods)
                return response
            try:
                request.user = authenticate(request)
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error_response(error.status, error.code, error.message, error.headers)
            except Http404 as error:
                return error_response(404, "not_found", str(error) or "Not found.")
            except PermissionDenied as error:
                return error_response(403, "forbidden", str(error) or "Not allowed.")
            except ValidationError as error:
                return error_response(400, error.code or "invalid", " ".join(error.messages))

        endpoint.operations = operations  # read by the OpenAPI document
        return endpoint

    return decorate
