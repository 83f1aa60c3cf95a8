"""The client across a database outage: it is told 503 with Retry-After, says so, waits, and
finishes once the database is back, with its change made exactly once."""

from __future__ import annotations

import logging
import threading

import pytest
from django.db import connection

from apps.accounts.models import ApiToken
from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Alias
from registry.client import Client, Retries
from tests.factories import make_link, make_version

OUTAGE_SECONDS = 2


@pytest.mark.slow
def test_the_client_rides_out_an_outage_and_nothing_is_lost(
    database_proxy, live_server, project, member, models_registry, caplog, tmp_path
):
    make_link(make_version(project, member), models_registry, member)
    _, token = ApiToken.issue(member, "outage")
    client = Client(url=live_server.url, token=token, retries=Retries(attempts=4, seconds=60))

    database_proxy.refuse()
    threading.Timer(OUTAGE_SECONDS, database_proxy.accept).start()
    with caplog.at_level(logging.WARNING, logger="registry"):
        aliased = client.alias("acme/model/classifier:v0", "production")

    assert "production" in aliased["aliases"]
    retried = [r.getMessage() for r in caplog.records if r.name == "registry"]
    assert retried and "503 database_unavailable" in retried[0] and "trying again" in retried[0]
    connection.close()  # the test's own connection went through the proxy too
    assert Alias.objects.filter(name="production").count() == 1
    added = AuditEvent.objects.filter(action=AuditAction.ALIAS_ADD, data__alias="production")
    assert added.count() == 1
    downloaded = client.download("acme/model/classifier:production", tmp_path)
    assert (downloaded / "weights.bin").exists()
