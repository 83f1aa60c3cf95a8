"""Fuzzing: no input, however large, malformed or hostile, earns a server error.

A bounded schemathesis run sends generated requests (valid and invalid) to every documented
operation of a live server holding a small organization, and fails on any 5xx answer or a
response that breaks the document; it is bounded by a number of examples per operation, so CI
time stays fixed.

Then every numeric value a page or endpoint reads (version numbers in paths, `limit`, cursors,
`?v=`, `depth`, metric ranges, the Range header, numbers in JSON bodies) is sent huge, negative,
fractional, non-finite and not a number at all: the answer is 4xx (or the lenient page it always
was, for cursors and compare choices), never 5xx.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import ApiToken, TeamRole
from apps.artifacts import storage
from apps.automations import services as automations
from apps.lib.pagination import encode_cursor
from apps.lib.validators import INT64_MAX
from tests.factories import make_legacy_model, make_link, make_version

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
PARAMETERS = """
[parameters]
org = "acme"
team = "ml"
project = "mnist"
artifact = "model"
registry = "model"
collection = "classifier"
number = 0
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
def test_the_api_never_answers_with_a_server_error(
    live_server, project, member, models_registry, tmp_path, settings
):
    make_link(make_version(project, member), models_registry, member, "classifier")
    _, token = ApiToken.issue(member, "fuzz")
    automation = _automation(project.team, member, models_registry, settings)
    # Point path parameters at real objects, so requests reach the code behind the 404s too.
    config = tmp_path / "schemathesis.toml"
    config.write_text(f"{PARAMETERS}automation = {automation.pk}\n")
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--url",
            f"{live_server.url}/api/v1",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--generation-deterministic",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout[-6000:])
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def _automation(team, member, registry, settings):
    """An automation on the registry, sending to a webhook of the member's team."""
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    team.add_member(member, TeamRole.ADMIN)  # who configures the team's webhooks
    member = type(member).objects.get(pk=member.pk)  # the policy remembers roles per object
    hook = automations.create_webhook(
        actor=member, team=team, name="hook", url="http://127.0.0.1:9/"
    )
    return automations.create_automation(
        actor=member,
        organization=registry.organization,
        name="fuzzed",
        event="LINK_ARTIFACT",
        webhook=hook,
        registry=registry,
        payload="{}",
    )


# Numbers as text: past 64 bits, past Python's 4,300-digit int() limit, negative, fractional,
# non-finite, digits int() refuses (superscripts) or takes from other scripts, and not numbers.
NUMBERS = [
    str(INT64_MAX + 1),
    "9" * 30,
    "9" * 5000,
    "-1",
    "-" + "9" * 30,
    "1.5",
    "1e999",
    "nan",
    "-inf",
    "\u00b2",
    "\u0661\u0662",
    "0x1f",
    " 7",
    "abc",
    "",
]


def raw_cursor(text: str) -> str:
    """A cursor holding this JSON text, for numbers json.dumps would not write."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


CURSORS = [
    encode_cursor(10**30, 1),
    encode_cursor("x", 10**30),
    encode_cursor(-(10**30), -(10**30)),
    encode_cursor({"dt": "not a date"}, 1),
    encode_cursor({"dt": 5}, 1),
    encode_cursor([1, 2], {"a": 1}),
    encode_cursor("text", "text"),
    encode_cursor(None, None),
    raw_cursor("[Infinity, 1]"),
    raw_cursor("[1, NaN]"),
    raw_cursor("[1]"),
    raw_cursor(f"[{'9' * 5000}, 1]"),
    "!!!",
    "9" * 5000,
]
RANGES = [
    "bytes=0-" + "9" * 5000,
    "bytes=" + "9" * 5000 + "-",
    "bytes=-" + "9" * 5000,
    f"bytes={INT64_MAX + 1}-{INT64_MAX + 2}",
    "bytes=-0",
    "bytes=5-1",
    "bytes=0-1,3-4",
    "bytes=-",
    "bytes=a-b",
    "items=0-1",
    "bytes=\u0661-\u0662",
]
BASE = "/orgs/acme/registry/model/classifier"
API = "/api/v1/orgs/acme/registries/model/collections/classifier/versions"
VERSION_PAGES = ["", "metadata/", "files/", "usage/", "lineage/", "history/", "zip/", "files/w.bin"]


@pytest.fixture
def acme(client, project, member, models_registry):
    """acme/model/classifier:v0 with one file, a legacy model, and `member` signed in; returns
    the member's API headers."""
    version = make_version(project, member, files={"w.bin": b"0123456789"})
    make_link(version, models_registry, member, "classifier")
    make_legacy_model(project, member, "legacy-model")
    client.force_login(member)
    _, token = ApiToken.issue(member, "fuzz")
    return {"Authorization": f"Bearer {token}"}


def assert_client_error(response, *, allowed=(200,)):
    assert response.status_code < 500, response.content[:500]
    assert response.status_code in allowed or 400 <= response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize("number", NUMBERS)
def test_version_numbers_in_paths_are_bounded(client, acme, number):
    pages = [f"{BASE}/v{number}/{suffix}" for suffix in VERSION_PAGES]
    pages.append(f"/orgs/acme/legacy/teams/ml/legacy-model/v{number}/")
    for url in pages:
        assert_client_error(client.get(url), allowed=())
    for suffix in ["unlink/", "aliases/", "tags/"]:
        assert_client_error(client.post(f"{BASE}/v{number}/{suffix}", {"alias": "a"}), allowed=())
    for suffix in ["", "files/w.bin", "zip/", "aliases/", "tags/"]:
        assert_client_error(client.get(f"{API}/v{number}/{suffix}", headers=acme), allowed=())
    resolved = client.get("/api/v1/resolve/", {"path": f"acme/model/classifier:v{number}"})
    assert_client_error(resolved, allowed=())


@pytest.mark.django_db
@pytest.mark.parametrize("number", NUMBERS)
def test_numbers_in_query_strings_are_bounded(client, acme, number):
    for url in ["/api/v1/orgs/acme/registries/model/collections/", f"{API}/"]:
        response = client.get(url, {"limit": number}, headers=acme)
        assert response.status_code == 400, response.content
        assert "limit" in response.json()["error"]["message"]
    for params in [
        {"v": [number, "0"]},
        {"v": "0", "baseline": number, "against": number},
        {"v": "0", "format": "csv", "baseline": number},
    ]:
        assert_client_error(client.get(f"{BASE}/compare/", params))
    assert_client_error(client.get(f"{BASE}/", {"metric": "acc", "min": number, "max": number}))
    assert_client_error(client.get(f"{BASE}/v0/lineage/", {"depth": number, "expand": number}))


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", CURSORS)
def test_cursors_are_bounded(client, acme, cursor):
    for url in [
        "/orgs/acme/registry/model/",
        f"{BASE}/",
        f"{BASE}/history/",
        f"{BASE}/v0/files/",
        f"{BASE}/v0/history/",
        "/orgs/acme/projects/ml/mnist/",
        "/orgs/acme/legacy/teams/ml/legacy-model/",
        "/orgs/acme/legacy/teams/ml/",
    ]:
        assert_client_error(client.get(url, {"cursor": cursor, "history": cursor}))
    for url in ["/api/v1/orgs/acme/registries/model/collections/", f"{API}/"]:
        assert_client_error(client.get(url, {"cursor": cursor}, headers=acme))


@pytest.mark.django_db
@pytest.mark.parametrize("byte_range", RANGES)
def test_range_headers_are_bounded(client, acme, byte_range):
    for url, headers in [(f"{BASE}/v0/files/w.bin", {}), (f"{API}/v0/files/w.bin", acme)]:
        response = client.get(url, headers={"Range": byte_range, **headers})
        assert response.status_code in (200, 206, 416), response.status_code
        if response.status_code == 200:
            assert b"".join(response.streaming_content) == b"0123456789"


OUT_OF_RANGE = [str(INT64_MAX + 1), str(-(2**63) - 1), "9" * 30, "9" * 5000]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


def log_body(size: str = "1", metric: str = "0.5", meta: str = "1") -> str:
    """A manifest as JSON text, so that numbers JSON allows but Python refuses can be sent."""
    sha = "0" * 64
    return (
        f'{{"type": "model", "files": [{{"path": "f", "sha256": "{sha}", "size": {size}}}], '
        f'"metrics": {{"acc": {metric}}}, "metadata": {{"n": {meta}}}}}'
    )


@pytest.mark.django_db
@pytest.mark.parametrize("number", [*OUT_OF_RANGE, *NON_FINITE])
def test_numbers_in_json_bodies_are_bounded(client, acme, number):
    url = "/api/v1/orgs/acme/teams/ml/projects/mnist/artifacts/fuzzed/versions/"
    for field, body in [
        ("files[0].size", log_body(size=number)),
        ("metrics.acc", log_body(metric=number)),
        ("metadata.n", log_body(meta=number)),
    ]:
        response = client.post(url, body, content_type="application/json", headers=acme)
        assert response.status_code == 400, response.content
        assert field in response.json()["error"]["message"]
    runs = "/api/v1/orgs/acme/teams/ml/projects/mnist/runs/"
    body = f'{{"name": "r", "config": {{"lr": [{number}]}}}}'
    response = client.post(runs, body, content_type="application/json", headers=acme)
    assert response.status_code == 400 and "config.lr[0]" in response.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("number", NUMBERS)
def test_upload_headers_are_bounded(client, acme, number, monkeypatch):
    monkeypatch.setattr(storage, "RESUMABLE_BYTES", 1)
    data = b"resumable bytes"
    digest = hashlib.sha256(data).hexdigest()
    client.post(
        "/api/v1/orgs/acme/teams/ml/projects/mnist/artifacts/fuzzed/versions/",
        {"type": "model", "files": [{"path": "r.bin", "sha256": digest, "size": len(data)}]},
        content_type="application/json",
        headers=acme,
    )
    url = client.post(f"/api/v1/blobs/{digest}/uploads/", headers=acme).json()["url"]
    for headers, extra in [
        ({"Upload-Offset": number}, {}),
        ({"Upload-Offset": "0"}, {"CONTENT_LENGTH": number}),
    ]:
        response = client.patch(
            url, data, content_type="application/octet-stream", headers={**acme, **headers}, **extra
        )
        assert response.status_code in (400, 411), response.content


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    limit=st.one_of(st.integers(), st.text(max_size=30)),
    number=st.one_of(st.integers(min_value=0), st.text(max_size=30)),
    byte_range=st.text(max_size=40),
)
def test_generated_numbers_never_cause_a_server_error(client, acme, limit, number, byte_range):
    response = client.get(f"{API}/", {"limit": limit}, headers=acme)
    assert response.status_code in (200, 400)
    assert_client_error(client.get(f"{BASE}/compare/", {"v": [number]}))
    assert_client_error(client.get(f"{API}/v{number}/", headers=acme), allowed=(200, 301))
    headers = {"Range": byte_range.encode("utf-8", "replace").decode("latin-1"), **acme}
    assert client.get(f"{API}/v0/files/w.bin", headers=headers).status_code in (200, 206, 416)
