"""Logging a version and linking it in one request: the client's path for small files."""

from __future__ import annotations

import base64
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.artifacts.models import ArtifactVersion, Blob
from apps.registries.models import Link
from tests.registries.test_api_write import COL, headers_for, send

VERSIONS = f"{COL}/versions/"
# Token, project and roles; the version, its blob, its commit and audit event; the link, its
# audit event, `latest` and `candidate` moved (each with its event); for each of those four
# events, the automations that watch it; the answer's row.
LOG_AND_LINK_QUERIES = 49


def inline(path: str, content: bytes, *, send_content: bool = True) -> dict:
    entry = {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
    if send_content:
        entry["content"] = base64.b64encode(content).decode()
    return entry


def log_body(*files: dict, artifact_type: str = "model", **extra) -> dict:
    log = {"project": "acme/ml/mnist", "name": "resnet", "type": artifact_type, "files": files}
    return {"log": log, **extra}


@pytest.fixture
def auth(member, project, models_registry):
    return headers_for(member)


def test_small_files_are_logged_and_linked_in_one_request(client, auth):
    body = log_body(inline("weights.bin", b"w1"), inline("config.json", b"{}"))
    response = send(client, "post", VERSIONS, {**body, "aliases": ["staging"]}, auth)

    assert response.status_code == 201
    data = response.json()
    assert data["state"] == "committed" and data["version"] == "v0" and data["missing"] == []
    assert data["link"]["path"] == "acme/model/classifier:v0"
    assert data["link"]["aliases"] == ["latest", "staging"]
    assert data["link"]["source"] == "ml/mnist/resnet:v0"
    file = client.get(f"{VERSIONS}v0/files/weights.bin", headers=auth)
    assert b"".join(file.streaming_content) == b"w1"


def test_the_same_content_again_answers_200_with_the_same_link(client, auth):
    body = log_body(inline("weights.bin", b"w1"))
    send(client, "post", VERSIONS, body, auth)
    again = send(client, "post", VERSIONS, {**body, "aliases": ["prod"]}, auth)

    assert again.status_code == 200
    assert again.json()["link"]["version"] == "v0"
    assert again.json()["link"]["aliases"] == ["latest", "prod"]
    assert Link.objects.count() == 1 and ArtifactVersion.objects.count() == 1


def test_stored_files_need_no_content(client, auth):
    send(client, "post", VERSIONS, log_body(inline("weights.bin", b"w1")), auth)
    body = log_body(inline("weights.bin", b"w1", send_content=False), inline("more.txt", b"m"))
    response = send(client, "post", VERSIONS, body, auth)

    assert response.status_code == 201 and response.json()["link"]["version"] == "v1"


def test_files_still_missing_leave_the_version_pending_and_unlinked(client, auth):
    big = b"x" * 1000
    body = log_body(inline("weights.bin", b"w1"), inline("big.bin", big, send_content=False))
    response = send(client, "post", VERSIONS, body, auth)

    assert response.status_code == 202
    data = response.json()
    assert data["state"] == "pending" and data["link"] is None
    assert [blob["sha256"] for blob in data["missing"]] == [hashlib.sha256(big).hexdigest()]
    assert not Link.objects.exists()
    # The rest of the two-phase protocol finishes it: upload, commit, link by id.
    client.put(data["missing"][0]["upload_url"], big, "application/octet-stream", headers=auth)
    send(client, "post", f"/api/v1/versions/{data['id']}/commit/", None, auth)
    linked = send(client, "post", VERSIONS, {"version": data["id"]}, auth)
    assert linked.status_code == 201 and linked.json()["version"] == "v0"


def test_a_refused_link_leaves_no_version(client, auth):
    """All or nothing: the Models registry refuses datasets, so nothing is logged either."""
    body = log_body(inline("rows.csv", b"a,b"), artifact_type="dataset")
    response = send(client, "post", VERSIONS, body, auth)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "type_not_accepted"
    assert not ArtifactVersion.objects.exists() and not Link.objects.exists()


def test_content_that_does_not_match_its_sha256_is_refused(client, auth):
    entry = {**inline("weights.bin", b"w1"), "content": base64.b64encode(b"other").decode()}
    response = send(client, "post", VERSIONS, log_body(entry), auth)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "size_mismatch"
    assert not ArtifactVersion.objects.exists() and not Blob.objects.exists()


@pytest.mark.parametrize(
    ("log", "code"),
    [
        ("resnet", "invalid_log"),
        ({"project": "acme/mnist", "files": []}, "invalid_project"),
        (
            {"project": "acme/ml/mnist", "name": "m", "type": "model", "files": "x"},
            "invalid_manifest",
        ),
        (
            {
                "project": "acme/ml/mnist",
                "name": "m",
                "type": "model",
                "files": [{"path": "a", "sha256": "0" * 64, "size": 1, "content": "***"}],
            },
            "invalid_content",
        ),
        (
            {"project": "acme/ml/mnist", "name": "m", "type": "model", "files": [{"path": 1}]},
            "invalid_manifest",
        ),
    ],
)
def test_bad_logs_are_explained(client, auth, log, code):
    response = send(client, "post", VERSIONS, {"log": log}, auth)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_a_project_the_caller_cannot_see_is_not_found(client, auth, organization, org_admin):
    body = log_body(inline("weights.bin", b"w1"))
    body["log"]["project"] = "acme/other-team/p"
    response = send(client, "post", VERSIONS, body, auth)
    assert response.status_code == 404


def test_logging_and_linking_has_a_fixed_query_budget(client, auth):
    """Writes cost the same in a collection of any size (the first link also creates it)."""

    def log_next(n: int) -> int:
        body = log_body(inline("weights.bin", f"w{n}".encode()), aliases=["candidate"])
        with CaptureQueriesContext(connection) as queries:
            assert send(client, "post", VERSIONS, body, auth).status_code == 201
        return len(queries)

    for n in range(3):
        log_next(n)
    assert [log_next(n) for n in range(3, 13, 3)] == [LOG_AND_LINK_QUERIES] * 4
