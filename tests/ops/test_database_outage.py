"""The database going away: the API and pages answer 503 with Retry-After, /readyz says so, the
log says it once as a warning; when the database returns, the same requests succeed and a write
refused during the outage left nothing behind. Over HTTP to a live server, which, as any server,
closes a broken connection at the end of its request."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import OperationalError, connection
from django.test import Client

from apps.accounts.models import ApiToken
from apps.audit.models import AuditEvent
from apps.lib.middleware import DatabaseOutage
from apps.registries.models import Alias
from tests.factories import make_link, make_version

API = "/api/v1/orgs/acme/registries/model/collections/classifier/versions"
PAGE = "/orgs/acme/registry/model/classifier/"
READY_WITHIN_SECONDS = 15


@pytest.fixture
def linked(project, member, models_registry):
    return make_link(make_version(project, member), models_registry, member)


@pytest.fixture
def token(member) -> dict[str, str]:
    _, token = ApiToken.issue(member, "outage")
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def fetch(url: str, headers: dict[str, str], data: dict | None = None) -> Answer:
    body = None if data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, headers=headers)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read())


def wait_until_ready(server: str) -> None:
    """What a load balancer does: send traffic again once /readyz says so."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while fetch(f"{server}/readyz", {}).status != 200:
        assert time.monotonic() < deadline, "the app did not become ready again"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("database_proxy", [True, False], ids=["pooled", "unpooled"], indirect=True)
def test_an_outage_answers_503_to_retry_and_loses_nothing(
    database_proxy, live_server, member, linked, token, caplog
):
    browser = Client()
    browser.force_login(member)
    # Pages carry a session, so they meet the database reading the user; the API, in the view.
    cookie = settings.SESSION_COOKIE_NAME
    session = {"Cookie": f"{cookie}={browser.cookies[cookie].value}"}
    page, api = f"{live_server.url}{PAGE}", f"{live_server.url}{API}"
    alias = {"alias": "staging"}
    assert fetch(page, session).status == 200
    assert fetch(f"{api}/", token).status == 200

    database_proxy.refuse()
    with caplog.at_level(logging.INFO):
        listed = fetch(f"{api}/", token)
        shown = fetch(page, session)
        refused = fetch(f"{api}/v0/aliases/", token, alias)
        ready = fetch(f"{live_server.url}/readyz", {})

    for answer in (listed, refused):
        assert answer.status == 503
        assert answer.headers["Retry-After"] == "10"
        assert answer.json()["error"]["code"] == "database_unavailable"
        assert "try again in 10 seconds" in answer.json()["error"]["message"]
    assert shown.status == 503
    assert shown.headers["Retry-After"] == "10"
    assert b"<h1>Unavailable for a moment</h1>" in shown.body
    assert ready.status == 503
    assert ready.json()["checks"]["database"] == "failed"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    warned = [r for r in caplog.records if r.name == "apps.lib.middleware"]
    assert [r.levelno for r in warned] == [logging.WARNING] * 3

    database_proxy.accept()
    wait_until_ready(live_server.url)
    connection.close()  # this thread's was cut too; the next query opens a new one
    assert fetch(page, session).status == 200
    assert fetch(f"{api}/", token).status == 200
    # The refused write left nothing: no alias, no audit event; made now, it is made once.
    assert not Alias.objects.filter(name="staging").exists()
    assert not AuditEvent.objects.filter(data__alias="staging").exists()
    assert fetch(f"{api}/v0/aliases/", token, alias).status == 200
    assert Alias.objects.get(name="staging").link == linked
    assert AuditEvent.objects.filter(data__alias="staging").count() == 1


def test_the_503_page_needs_no_query(rf):
    """It is shown when the database does not answer, so it must not ask it anything: without
    the `db` fixture, pytest-django fails any query."""
    response = DatabaseOutage(lambda request: None).process_exception(
        rf.get(PAGE), OperationalError("the server closed the connection")
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert b"<h1>Unavailable for a moment</h1>" in response.content
