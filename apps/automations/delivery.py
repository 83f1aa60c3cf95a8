"""Sending an execution: the request a webhook or Slack gets, signed, and the background task
that sends it at least once.

A webhook gets the rendered payload, `Authorization: Bearer <access token>` when it has one, and
with a signing secret both W&B's `X-Wandb-Signature` (base64 HMAC-SHA256 of the body) and the
Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Every request
carries `webhook-id`, the execution's uid, the same on each retry. Slack gets a message.

The task retries what may succeed later (no answer, a timeout, 408, 429, 5xx) with the worker's
exponential backoff, up to AUTOMATIONS_MAX_ATTEMPTS; another 4xx fails at once, since sending
the same request again cannot change the answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from apps.accounts.policy import Action, check
from apps.automations.addresses import public_address
from apps.automations.models import (
    Automation,
    Event,
    Execution,
    ExecutionStatus,
    Webhook,
    WebhookKind,
)
from apps.automations.payloads import (
    GITHUB_DISPATCH_EXAMPLE,
    SAMPLE_CONTEXT,
    render,
    validate_payload,
)
from apps.automations.services import scope_of, secret_names
from apps.jobs.policy import job_policy

log = logging.getLogger(__name__)

EXCERPT_CHARS = 2000
RETRYABLE_STATUSES = {408, 425, 429}


def secrets_of(webhook: Webhook) -> dict[str, str]:
    """The secret values a payload may name, by name."""
    values = {}
    if webhook.access_token is not None:
        values["ACCESS_TOKEN"] = values[webhook.access_token.name] = webhook.access_token.value
    if webhook.signing_secret is not None:
        values[webhook.signing_secret.name] = webhook.signing_secret.value
    return values


def slack_message(automation: Automation, context: dict[str, str]) -> str:
    """Title, who, what and a link to the page, as Slack's incoming webhooks take it."""
    event = Event(context["event_type"]).label
    what = context["artifact_version_string"]
    detail = context["alias"] or context["tag"]
    text = (
        f"*{automation.name}*: {event}\n"
        f"{what}{f' ({detail})' if detail else ''} by {context['event_author'] or 'the system'}\n"
        f"<{context['page_url']}|Open in the registry>"
    )
    return json.dumps({"text": text})


def rendered_payload(automation: Automation, context: dict[str, str], metadata: dict) -> str:
    """The body to send, as the history keeps it: secrets still by name (${ACCESS_TOKEN}),
    put in only when sending."""
    webhook = automation.webhook
    if webhook.kind == WebhookKind.SLACK:
        return slack_message(automation, context)
    return render(automation.payload, context, metadata, keep=secret_names(webhook))


def enqueue_delivery(execution: Execution) -> None:
    """In the caller's transaction: the task row commits with the execution, or neither does."""
    deliver_execution.enqueue(execution.pk)


@dataclass
class Answer:
    status: int
    body: str


class RetryableDeliveryError(Exception):
    """The endpoint did not take the delivery, and may later: the worker runs it again."""


def signed_headers(body: bytes, message_id: str, webhook: Webhook) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "registry-automations/1",
        "webhook-id": message_id,
    }
    if webhook.access_token is not None:
        headers["Authorization"] = f"Bearer {webhook.access_token.value}"
    if webhook.signing_secret is not None:
        secret = webhook.signing_secret.value
        headers["X-Wandb-Signature"] = base64.b64encode(
            hmac.new(secret.encode(), body, hashlib.sha256).digest()
        ).decode()
        timestamp = str(int(time.time()))
        signed = f"{message_id}.{timestamp}.".encode() + body
        digest = hmac.new(standard_webhooks_key(secret), signed, hashlib.sha256).digest()
        headers["webhook-timestamp"] = timestamp
        headers["webhook-signature"] = f"v1,{base64.b64encode(digest).decode()}"
    return headers


def standard_webhooks_key(secret: str) -> bytes:
    """A `whsec_<base64>` secret is its decoded bytes (Standard Webhooks); any other is its
    own bytes, so that W&B-style plain secrets sign too."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except ValueError:
            pass
    return secret.encode()


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST to the URL's host at the address checked just now (never a second lookup), with
    AUTOMATIONS_TIMEOUT_SECONDS for connecting and for each read; no redirect is followed."""
    parts = urlsplit(url)
    address, port = public_address(url)
    timeout = settings.AUTOMATIONS_TIMEOUT_SECONDS
    if parts.scheme == "https":
        connection = _PinnedHTTPS(parts.hostname, address, port, timeout=timeout)
    else:
        connection = _PinnedHTTP(parts.hostname, address, port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read(EXCERPT_CHARS * 4).decode("utf-8", "replace")
        return Answer(response.status, text[:EXCERPT_CHARS])
    finally:
        connection.close()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to `address` while the Host header names the URL's host."""

    def __init__(self, host: str, address: str, port: int, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """As _PinnedHTTP, with TLS verified against the URL's host name."""

    def __init__(self, host: str, address: str, port: int, **kwargs: Any) -> None:
        super().__init__(host, port, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def send(webhook: Webhook, payload: str, message_id: str) -> Answer:
    """Put the secrets into the payload and send it; the answer, whatever its status."""
    body = render_secrets(payload, secrets_of(webhook)).encode()
    return post(webhook.url, body, signed_headers(body, message_id, webhook))


def render_secrets(payload: str, secrets: dict[str, str]) -> str:
    return render(payload, secrets) if secrets else payload


def _retryable(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_STATUSES


def _record_retry(args: list[Any], kwargs: dict[str, Any], reason: str, again_at) -> None:
    at = timezone.localtime(again_at).strftime("%H:%M:%S")
    Execution.objects.filter(pk=args[0], status=ExecutionStatus.PENDING).update(
        error=f"{reason}; trying again at {at}."
    )


def _record_failure(args: list[Any], kwargs: dict[str, Any], reason: str) -> None:
    Execution.objects.filter(pk=args[0], status=ExecutionStatus.PENDING).update(
        status=ExecutionStatus.FAILED,
        error=f"{reason}. No more attempts.",
        finished_at=timezone.now(),
    )


@job_policy(
    max_attempts=settings.AUTOMATIONS_MAX_ATTEMPTS,
    on_failure=_record_failure,
    on_retry=_record_retry,
)
@task()
def deliver_execution(execution_id: int) -> str:
    """Send one execution; a no-op once it is delivered or failed, so a repeat is harmless."""
    execution = (
        Execution.objects.select_related(
            "automation__webhook__access_token", "automation__webhook__signing_secret"
        )
        .filter(pk=execution_id)
        .first()
    )
    if execution is None or execution.is_final:
        return "nothing to do"
    Execution.objects.filter(pk=execution.pk).update(attempts=execution.attempts + 1)
    webhook = execution.automation.webhook
    try:
        answer = send(webhook, execution.payload, str(execution.uid))
    except (OSError, http.client.HTTPException) as error:
        _note(execution, error=f"No answer from the endpoint: {error}")
        raise RetryableDeliveryError(f"no answer: {error}") from error
    except Exception as error:  # a refused address, said plainly; no retry changes it
        _finish(execution, ExecutionStatus.FAILED, None, "", _message(error))
        return "failed"
    if 200 <= answer.status < 300 and not _slack_refused(webhook, answer):
        _finish(execution, ExecutionStatus.DELIVERED, answer.status, answer.body, "")
        return "delivered"
    if _retryable(answer.status):
        _note(execution, status=answer.status, body=answer.body)
        raise RetryableDeliveryError(f"the endpoint answered {answer.status}")
    _finish(
        execution,
        ExecutionStatus.FAILED,
        answer.status,
        answer.body,
        f"The endpoint refused the delivery ({answer.status}); sending it again would not help.",
    )
    return "failed"


def _slack_refused(webhook: Webhook, answer: Answer) -> bool:
    # Slack answers 200 "ok" when it posted; anything else names what went wrong.
    return webhook.kind == WebhookKind.SLACK and answer.body.strip() not in ("ok", "")


def _message(error: Exception) -> str:
    messages = getattr(error, "messages", None)
    return " ".join(messages) if messages else str(error)


def _note(execution: Execution, *, status: int | None = None, body: str = "", error: str = ""):
    Execution.objects.filter(pk=execution.pk).update(
        response_status=status, response_excerpt=body, error=error
    )


def _finish(
    execution: Execution, status: ExecutionStatus, code: int | None, body: str, error: str
) -> None:
    Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.PENDING).update(
        status=status,
        response_status=code,
        response_excerpt=body,
        error=error,
        finished_at=timezone.now(),
    )


@transaction.atomic
def replay(*, actor: Any, execution: Execution) -> Execution:
    """Send an execution's payload again, as a new execution (a new `webhook-id`: the receiver
    is asked to act again, not told of a repeat)."""
    automation = execution.automation
    check(actor, Action.MANAGE_AUTOMATIONS, scope_of(automation))
    again = Execution.objects.create(
        automation=automation,
        audit_event_id=execution.audit_event_id,
        event=execution.event,
        actor_name=actor.get_username(),
        target=execution.target,
        replay_of=execution,
        payload=execution.payload,
    )
    enqueue_delivery(again)
    return again


def send_test(*, actor: Any, webhook: Webhook, payload: str = "") -> Answer:
    """Send a sample (the given payload, or the GitHub example rendered with sample values) and
    return the answer; nothing is recorded. ValidationError says why nothing could be sent."""
    check(actor, Action.USE_INTEGRATIONS, webhook.team)
    if webhook.kind == WebhookKind.SLACK:
        body = json.dumps({"text": "A test message from the registry's automations."})
    else:
        template = payload or GITHUB_DISPATCH_EXAMPLE
        validate_payload(template, secret_names(webhook))
        body = render(template, SAMPLE_CONTEXT, keep=secret_names(webhook))
    try:
        return send(webhook, body, f"test_{uuid.uuid4()}")
    except (OSError, http.client.HTTPException) as error:
        raise ValidationError(
            f"No answer from {urlsplit(webhook.url).hostname}: {error}."
        ) from None
