"""Where a webhook may send: public addresses only, checked when it is saved and again at each
delivery (a name can come to resolve elsewhere), and the connection goes to the address checked.

AUTOMATIONS_ALLOW_PRIVATE_TARGETS lets private, loopback and link-local addresses through: for
`make run`'s demo receiver, the tests, and endpoints inside a private network on purpose.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError


def validate_url(url: str) -> None:
    """An http(s) URL with a host, and nothing that makes a request ambiguous."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{url!r} is not a web address: write it as https://host/path.", code="invalid_url"
        )
    if parts.username or parts.password:
        raise ValidationError(
            "Put credentials in an access token (a team secret), not in the URL.",
            code="credentials_in_url",
        )
    try:
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError:
        raise ValidationError(f"{url!r} has an invalid port.", code="invalid_url") from None


def public_address(url: str) -> tuple[str, int]:
    """The address to connect to for the URL's host, and its port: the first it resolves to,
    once every address it resolves to is checked. Raises ValidationError naming what is
    refused, and ConnectionError when the name does not resolve."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ConnectionError(f"{parts.hostname} does not resolve: {error.strerror}.") from None
    addresses = [info[4][0] for info in found]
    if not getattr(settings, "AUTOMATIONS_ALLOW_PRIVATE_TARGETS", False):
        for address in addresses:
            if not ipaddress.ip_address(address.split("%")[0]).is_global:
                raise ValidationError(
                    f"{parts.hostname} resolves to {address}, a private, loopback or link-local "
                    "address; webhooks go to public addresses only (an operator may allow others "
                    "with AUTOMATIONS_ALLOW_PRIVATE_TARGETS).",
                    code="private_address",
                )
    return addresses[0], port


def check_url(url: str) -> None:
    """At save time: the URL is well formed, and its host, if it resolves now, is allowed."""
    validate_url(url)
    # A name that does not resolve yet may later; delivery checks again and says so.
    with contextlib.suppress(ConnectionError):
        public_address(url)
