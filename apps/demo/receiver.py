"""The demo's webhook receiver: what it takes, and how it checks a Standard Webhooks signature.

`make run` has nowhere outside the machine to send a webhook, so the demo automation sends here
and /demo/webhooks/ shows what arrived. It verifies as a real receiver would (reference:
Standard Webhooks 1.0), with every team secret named SECRET_NAME: seed_demo makes one, and a
person pointing a webhook of their own here makes one too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

from django.conf import settings
from django.urls import reverse

from apps.automations.delivery import standard_webhooks_key
from apps.automations.models import TeamSecret

SECRET_NAME = "DEMO_SIGNING_SECRET"
# The path seed_demo's webhook posts to: /demo/webhooks/<ENDPOINT>/.
ENDPOINT = "deploy"
MAX_BODY_BYTES = 64 * 1024
# Receivers reject timestamps further off than this (replays of an old message).
TOLERANCE_SECONDS = 5 * 60
# The newest kept: the endpoint takes POSTs from anyone, so what they leave is bounded.
KEEP = 500


def new_secret() -> str:
    """A signing secret in Standard Webhooks' form: whsec_ and the base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def demo_url() -> str:
    """Where seed_demo's webhook posts: on SITE_URL, so it follows `make run`'s HOST and PORT."""
    return settings.SITE_URL.rstrip("/") + reverse("demo:receive", args=[ENDPOINT])


def signature_holds(
    key: bytes, message_id: str, timestamp: str, body: bytes, signatures: str
) -> bool:
    """`signatures` (space-separated `v1,<base64>`) holds one HMAC-SHA256 of
    `<id>.<timestamp>.<body>` under `key`, and the timestamp is recent."""
    if not re.fullmatch(r"[0-9]{1,20}", timestamp):
        return False
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    expected = b"v1," + base64.b64encode(digest)
    return any(hmac.compare_digest(expected, given.encode()) for given in signatures.split())


def verified(message_id: str, timestamp: str, body: bytes, signatures: str) -> bool:
    """Signed with any demo secret."""
    values = TeamSecret.objects.filter(name=SECRET_NAME).values_list("value", flat=True)
    return any(
        signature_holds(standard_webhooks_key(value), message_id, timestamp, body, signatures)
        for value in values
    )
