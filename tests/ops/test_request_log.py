"""One log line per request, with an id the response returns."""

from __future__ import annotations

import logging
import re

import pytest

LINE = re.compile(
    r"^(?P<method>\S+) (?P<path>\S+) route=(?P<route>\S+) status=(?P<status>\d+) "
    r"duration_ms=(?P<ms>\d+\.\d) request_id=(?P<id>\S+)$"
)


def request_lines(caplog) -> list[re.Match]:
    return [LINE.match(r.getMessage()) for r in caplog.records if r.name == "registry.requests"]


@pytest.fixture(autouse=True)
def capture_requests(caplog):
    caplog.set_level(logging.INFO, logger="registry.requests")


def test_one_line_per_request_with_its_route_and_id(client, member, caplog):
    client.force_login(member)
    response = client.get("/orgs/acme/registry/model/")
    assert response.status_code == 200
    [line] = request_lines(caplog)
    assert line["method"] == "GET" and line["path"] == "/orgs/acme/registry/model/"
    assert line["route"] == "orgs/<slug:org>/registry/<str:registry>/"
    assert line["status"] == "200" and float(line["ms"]) > 0
    assert re.fullmatch(r"[0-9a-f]{32}", line["id"])
    assert response["X-Request-ID"] == line["id"]


def test_a_well_formed_incoming_id_is_kept(client, db, caplog):
    response = client.get("/login/", headers={"X-Request-ID": "lb-7f3a.42_x"})
    assert response["X-Request-ID"] == "lb-7f3a.42_x"
    assert request_lines(caplog)[0]["id"] == "lb-7f3a.42_x"


@pytest.mark.parametrize("incoming", ["two words", "x" * 129, "id\nforged line", ""])
def test_any_other_incoming_id_is_replaced(client, db, caplog, incoming):
    response = client.get("/login/", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert len(caplog.records) == 1


def test_unknown_paths_and_redirects_are_logged_too(client, db, caplog):
    client.get("/no/such/page/")
    client.get("/orgs/acme/registry/")  # anonymous: sent to sign in
    assert [(line["route"], line["status"]) for line in request_lines(caplog)] == [
        ("unmatched", "404"),
        ("orgs/<slug:org>/registry/", "302"),
    ]


def test_probes_are_not_logged(client, db, caplog):
    client.get("/healthz")
    client.get("/readyz")
    assert request_lines(caplog) == []
