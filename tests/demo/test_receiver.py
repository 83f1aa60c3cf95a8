"""The demo's webhook receiver: it records what the product's signer sends, refuses what it
did not sign, takes nothing else, and is not there at all unless enabled."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.automations.delivery import signed_headers
from apps.automations.models import TeamSecret, Webhook
from apps.demo import receiver
from apps.demo.models import ReceivedDelivery
from tests.ops.test_settings import setting

URL = "/demo/webhooks/deploy/"
SECRET = "whsec_c2VjcmV0LWtleS1ieXRlcw=="
BODY = {"event_type": "ADD_ARTIFACT_ALIAS", "client_payload": {"alias": "production"}}


@pytest.fixture
def demo_secret(team) -> TeamSecret:
    return TeamSecret.objects.create(team=team, name=receiver.SECRET_NAME, value=SECRET)


def post(client, body: bytes, headers: dict[str, str], path: str = URL):
    headers = {**headers}
    content_type = headers.pop("Content-Type", "application/json")
    return client.post(path, body, content_type=content_type, headers=headers)


def signed(body: dict, secret: str = SECRET, message_id: str = "msg-1"):
    """The body and headers as the automations' delivery signs them."""
    raw = json.dumps(body).encode()
    webhook = Webhook(signing_secret=TeamSecret(name=receiver.SECRET_NAME, value=secret))
    return raw, signed_headers(raw, message_id, webhook)


def test_a_delivery_signed_with_the_demo_secret_is_recorded_as_verified(client, demo_secret):
    response = post(client, *signed(BODY))
    assert response.status_code == 200 and response.json() == {"received": "msg-1"}
    delivery = ReceivedDelivery.objects.get()
    assert (delivery.endpoint, delivery.webhook_id, delivery.event_type) == (
        "deploy",
        "msg-1",
        "ADD_ARTIFACT_ALIAS",
    )
    assert delivery.verified and delivery.body == BODY


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda h: h | {"webhook-signature": "v1,AAAA"}, id="forged"),
        pytest.param(lambda h: h | {"webhook-id": "msg-2"}, id="another-id"),
        pytest.param(lambda h: h | {"webhook-timestamp": str(int(time.time()) - 301)}, id="stale"),
        pytest.param(lambda h: {k: v for k, v in h.items() if k != "webhook-signature"}, id="none"),
        pytest.param(lambda h: h | {"webhook-timestamp": "1" * 5000}, id="huge-timestamp"),
    ],
)
def test_a_badly_signed_delivery_is_refused_401_and_recorded_unverified(client, demo_secret, spoil):
    body, headers = signed(BODY)
    response = post(client, body, spoil(headers))
    assert response.status_code == 401
    assert "DEMO_SIGNING_SECRET" in response.json()["error"]["message"]
    assert not ReceivedDelivery.objects.get().verified


def test_a_delivery_signed_with_another_secret_does_not_verify(client, demo_secret):
    response = post(client, *signed(BODY, secret="whsec_b3RoZXIta2V5"))
    assert response.status_code == 401


def test_the_body_checked_is_the_body_signed(client, demo_secret):
    _, headers = signed(BODY)
    tampered = json.dumps(BODY | {"event_type": "UNLINK_ARTIFACT"}).encode()
    assert post(client, tampered, headers).status_code == 401


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        pytest.param(b"not json", {"webhook-id": "x"}, 400, id="not-json"),
        pytest.param(b"[1, 2]", {"webhook-id": "x"}, 400, id="not-an-object"),
        pytest.param(b'{"a": 1}', {}, 400, id="no-webhook-id"),
        pytest.param(b'{"a": 1}', {"webhook-id": "x" * 256}, 400, id="long-webhook-id"),
        pytest.param(b'{"a": 1}', {"webhook-id": "caf\u00e9"}, 400, id="webhook-id-not-ascii"),
        pytest.param(b'{"a": "\\u0000"}', {"webhook-id": "x"}, 400, id="nul-in-body"),
        pytest.param(b"a=1", {"webhook-id": "x", "Content-Type": "text/plain"}, 415, id="text"),
        pytest.param(
            b'{"a": "' + b"x" * receiver.MAX_BODY_BYTES + b'"}', {"webhook-id": "x"}, 413, id="big"
        ),
    ],
)
def test_anything_else_is_refused_and_not_recorded(client, demo_secret, body, headers, status):
    assert post(client, body, headers).status_code == status
    assert not ReceivedDelivery.objects.exists()


def test_it_answers_post_only_and_needs_no_session_or_csrf_token(client, demo_secret):
    client = type(client)(enforce_csrf_checks=True)
    assert post(client, *signed(BODY)).status_code == 200
    assert client.get(URL).status_code == 405


def test_only_the_newest_deliveries_are_kept(client, demo_secret, monkeypatch):
    monkeypatch.setattr(receiver, "KEEP", 3)
    for number in range(5):
        post(client, *signed(BODY, message_id=f"msg-{number}"))
    kept = ReceivedDelivery.objects.values_list("webhook_id", flat=True)
    assert list(kept) == ["msg-4", "msg-3", "msg-2"]


def test_the_page_lists_deliveries_newest_first_for_signed_in_users(client, demo_secret, member):
    for number in range(3):
        post(client, *signed(BODY, message_id=f"msg-{number}"))
    post(client, b'{"event_type": "forged"}', {"webhook-id": "msg-forged"})
    assert client.get("/demo/webhooks/").status_code == 302  # to sign in
    client.force_login(member)
    page = client.get("/demo/webhooks/").content.decode()
    ids = ["msg-forged", "msg-2", "msg-1", "msg-0"]
    assert [page.index(f"<code>{i}</code>") for i in ids] == sorted(
        page.index(f"<code>{i}</code>") for i in ids
    )
    assert page.count('class="chip">verified') == 3 and "not verified (401)" in page
    assert 'href="/orgs/acme/automations/"' in page
    assert "http://127.0.0.1:8000/demo/webhooks/deploy/" in page


def test_the_page_reads_a_fixed_number_of_queries(client, demo_secret, member):
    client.force_login(member)
    client.get("/demo/webhooks/")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/demo/webhooks/").status_code == 200
        return len(captured)

    post(client, *signed(BODY, message_id="first"))
    few = queries()
    for number in range(10):
        post(client, *signed(BODY, message_id=f"msg-{number}"))
    # Three are the header's: the user's organization (the page has none), which the search box
    # and the navigation share; the user's role in it, and whether they administer a team (the
    # navigation's Migration link).
    assert (few, queries()) == (7, 7)


def test_neither_is_there_when_the_receiver_is_off(client, demo_secret, member, settings):
    settings.DEMO_RECEIVER_ENABLED = False
    assert post(client, *signed(BODY)).status_code == 404
    assert client.get(URL).status_code == 404
    client.force_login(member)
    assert client.get("/demo/webhooks/").status_code == 404
    assert not ReceivedDelivery.objects.exists()


def test_it_is_off_without_debug_unless_asked_for():
    """Production (DEBUG off) does not expose it unless DEMO_RECEIVER_ENABLED says so."""
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50}
    assert setting("DEMO_RECEIVER_ENABLED", production) is False
    assert setting("DEMO_RECEIVER_ENABLED", production | {"DEMO_RECEIVER_ENABLED": "true"})
    assert setting("DEMO_RECEIVER_ENABLED", {"DEBUG": "true"}) is True
    assert setting("DEMO_RECEIVER_ENABLED", {"DEBUG": "false", "LOCAL": "true"}) is True
