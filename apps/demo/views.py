"""The demo's webhook receiver, and the page that lists what it received.

Both answer 404 unless DEMO_RECEIVER_ENABLED (on with LOCAL, as `make run` sets it): the
receiver takes POSTs from anyone, which only a local demo should.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import Organization
from apps.demo import receiver
from apps.demo.models import ReceivedDelivery
from apps.lib.api import ApiError, error_response, json_body

SHOWN = 50


def receiver_enabled(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not settings.DEMO_RECEIVER_ENABLED:
            raise Http404("The demo receiver is off.")
        return view(request, *args, **kwargs)

    return wrapped


@csrf_exempt  # a webhook carries no session: its signature is what it is checked by
@login_not_required
@receiver_enabled
@require_POST
def receive(request: HttpRequest, endpoint: str) -> HttpResponse:
    """Record a JSON delivery; answer 401 when its Standard Webhooks signature does not hold
    (recorded all the same, as not verified), and take nothing else."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error_response(400, "invalid_length", "Content-Length is not a number.")
    if length > receiver.MAX_BODY_BYTES:
        message = f"A delivery is at most {receiver.MAX_BODY_BYTES} bytes."
        return error_response(413, "too_large", message)
    if request.content_type != "application/json":
        message = "Send the delivery as application/json."
        return error_response(415, "unsupported_media_type", message)
    message_id = request.headers.get("webhook-id", "")
    if not (0 < len(message_id) <= 255 and message_id.isascii() and message_id.isprintable()):
        return error_response(400, "invalid_webhook_id", "Send a webhook-id header.")
    try:
        payload = json_body(request)  # an object that every database stores
    except ApiError as error:
        return error_response(error.status, error.code, error.message)
    event_type = payload.get("event_type")
    delivery = ReceivedDelivery.objects.create(
        endpoint=endpoint,
        webhook_id=message_id,
        event_type=event_type[:64] if isinstance(event_type, str) else "",
        verified=receiver.verified(
            message_id,
            request.headers.get("webhook-timestamp", ""),
            request.body,
            request.headers.get("webhook-signature", ""),
        ),
        body=payload,
    )
    _forget_old()
    if not delivery.verified:
        message = (
            "The webhook-signature does not verify with any team secret named "
            f"{receiver.SECRET_NAME}, or its timestamp is more than 5 minutes off."
        )
        return error_response(401, "invalid_signature", message)
    return JsonResponse({"received": delivery.webhook_id})


def _forget_old() -> None:
    newest = ReceivedDelivery.objects.order_by("-id").values_list("id", flat=True)
    if oldest_kept := next(iter(newest[receiver.KEEP - 1 : receiver.KEEP]), None):
        ReceivedDelivery.objects.filter(id__lt=oldest_kept).delete()


@receiver_enabled
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    """The newest deliveries the receiver took in, for any signed-in user of the demo."""
    shown = list(ReceivedDelivery.objects.all()[:SHOWN])
    for delivery in shown:
        delivery.pretty = json.dumps(delivery.body, indent=2)
    context = {
        "deliveries": shown,
        "shown": SHOWN,
        "organizations": Organization.objects.for_user(request.user),
        "receiver_url": receiver.demo_url(),
        "secret_name": receiver.SECRET_NAME,
    }
    return render(request, "demo/webhooks.html", context)
