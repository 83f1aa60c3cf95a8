from __future__ import annotations

import hashlib
import re

import pytest

from apps.accounts.models import ApiToken, RegistryRole, Visibility
from apps.artifacts.models import ArtifactVersion, Blob
from apps.lineage.models import RunInput, RunOutput
from tests.factories import grant, make_link, make_member, make_registry, make_version

PROJECT = "/api/v1/orgs/acme/teams/ml/projects/mnist"
FILES = {"weights.bin": b"w" * 3000, "config.json": b'{"layers": 50}'}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest(files=FILES) -> list[dict]:
    return [{"path": p, "sha256": sha(d), "size": len(d)} for p, d in files.items()]


@pytest.fixture
def auth(member) -> dict[str, str]:
    _, token = ApiToken.issue(member, "test")
    return {"Authorization": f"Bearer {token}"}


def begin(client, auth, **extra):
    body = {"type": "model", "files": manifest(), **extra}
    return client.post(
        f"{PROJECT}/artifacts/resnet/versions/", body, content_type="application/json", headers=auth
    )


def put(client, auth, data: bytes, digest: str | None = None):
    return client.put(
        f"/api/v1/blobs/{digest or sha(data)}",
        data,
        content_type="application/octet-stream",
        headers=auth,
    )


def test_the_three_phases(client, project, auth):
    started = begin(client, auth, metadata={"arch": "resnet"}, metrics={"acc": 0.9})
    assert started.status_code == 201
    body = started.json()
    assert body["state"] == "pending" and body["version"] is None
    assert {m["sha256"] for m in body["missing"]} == {sha(d) for d in FILES.values()}
    assert body["missing"][0]["upload_url"].startswith("http://testserver/api/v1/blobs/")
    for data in FILES.values():
        assert put(client, auth, data).status_code == 201
    done = client.post(f"/api/v1/versions/{body['id']}/commit/", headers=auth).json()
    assert done["state"] == "committed" and done["version"] == "v0" and done["file_count"] == 2
    version = ArtifactVersion.objects.get()
    assert version.metadata == {"arch": "resnet"} and version.metrics == {"acc": 0.9}


def test_a_resumed_upload_sends_only_what_is_missing(client, project, auth):
    first = begin(client, auth).json()
    put(client, auth, FILES["weights.bin"])
    again = begin(client, auth).json()
    assert again["id"] == first["id"]
    assert [m["sha256"] for m in again["missing"]] == [sha(FILES["config.json"])]
    assert ArtifactVersion.objects.count() == 1


def test_an_already_stored_blob_costs_no_bytes(client, project, auth, member):
    make_version(project, member, name="other", files={"w": FILES["weights.bin"]})
    body = begin(client, auth).json()
    assert [m["sha256"] for m in body["missing"]] == [sha(FILES["config.json"])]


def test_identical_content_comes_back_committed(client, project, auth):
    body = begin(client, auth).json()
    for data in FILES.values():
        put(client, auth, data)
    client.post(f"/api/v1/versions/{body['id']}/commit/", headers=auth)
    again = begin(client, auth)
    assert again.status_code == 200
    assert again.json()["version"] == "v0" and again.json()["missing"] == []


def test_a_checksum_mismatch_is_refused_and_nothing_is_stored(client, project, auth):
    begin(client, auth)
    response = put(client, auth, b"x" * 3000, digest=sha(FILES["weights.bin"]))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "checksum_mismatch"
    assert not Blob.objects.exists()


def test_a_short_upload_is_refused(client, project, auth):
    begin(client, auth)
    response = put(client, auth, FILES["weights.bin"][:10], digest=sha(FILES["weights.bin"]))
    assert response.json()["error"]["code"] == "size_mismatch"


def test_blobs_nobody_asked_for_are_refused(client, project, auth):
    response = put(client, auth, b"stray")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_expected"


def test_commit_before_the_bytes_arrive_is_refused(client, project, auth):
    body = begin(client, auth).json()
    response = client.post(f"/api/v1/versions/{body['id']}/commit/", headers=auth)
    assert response.status_code == 400 and response.json()["error"]["code"] == "blobs_missing"
    assert not ArtifactVersion.objects.committed().exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": ""}, "required"),
        ({"files": "nope"}, "invalid_manifest"),
        ({"files": [{"path": "a"}]}, "invalid_manifest"),
        ({"files": [{"path": "../a", "sha256": "0" * 64, "size": 1}]}, "invalid_path"),
        ({"files": [{"path": "a", "sha256": "zz", "size": 1}]}, "invalid_digest"),
        ({"metadata": [1]}, "invalid_metadata"),
        ({"metadata": {f"k{n}": n for n in range(101)}}, "too_many_keys"),
        ({"metrics": {"loss": "low"}}, "not_number"),
    ],
)
def test_bad_manifests_get_clear_errors(client, project, auth, change, code):
    response = begin(client, auth, **change)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert not ArtifactVersion.objects.exists()


@pytest.mark.parametrize("body", ["{nope", "[" * 100_000])
def test_invalid_json_is_explained(client, project, auth, body):
    response = client.post(
        f"{PROJECT}/artifacts/resnet/versions/", body, content_type="application/json", headers=auth
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_json"


def test_a_team_outsider_gets_404_and_a_team_viewer_403(client, organization, project, team):
    from apps.accounts.models import TeamRole

    outsider = make_member(organization, "nosy")
    _, token = ApiToken.issue(outsider, "t")
    assert begin(client, {"Authorization": f"Bearer {token}"}).status_code == 404
    team.add_member(outsider, TeamRole.VIEWER)
    response = begin(client, {"Authorization": f"Bearer {token}"})
    assert (
        response.status_code == 403
        and "member or admin role" in response.json()["error"]["message"]
    )


def test_runs_record_outputs_and_inputs(client, project, auth, member, models_registry):
    link = make_link(make_version(project, member), models_registry, member, "base")
    run = client.post(
        f"{PROJECT}/runs/",
        {"name": "train-1", "job_type": "train", "config": {"lr": 0.1}},
        content_type="application/json",
        headers=auth,
    ).json()
    used = client.post(
        f"{PROJECT}/runs/{run['id']}/inputs/",
        {"path": "acme/model/base:latest"},
        content_type="application/json",
        headers=auth,
    )
    assert used.status_code == 201
    assert RunInput.objects.get().version == link.version
    body = begin(client, auth, run=run["id"]).json()
    assert RunOutput.objects.get().version.uid.hex == body["id"].replace("-", "")
    finished = client.post(
        f"{PROJECT}/runs/{run['id']}/finish/",
        {"state": "finished", "summary": {"acc": 0.9}},
        content_type="application/json",
        headers=auth,
    ).json()
    assert finished["state"] == "finished" and finished["finished_at"]


def test_a_manifest_naming_an_unknown_run_logs_nothing(client, project, auth):
    answer = begin(client, auth, run="no-such-run")
    assert answer.status_code == 404
    assert not ArtifactVersion.objects.exists() and not RunOutput.objects.exists()


def test_a_run_started_without_a_name_gets_a_readable_one(client, project, auth):
    def start(body: dict):
        return client.post(f"{PROJECT}/runs/", body, content_type="application/json", headers=auth)

    first, second = start({}).json(), start({"name": "", "job_type": "use"}).json()
    assert re.match(r"^[a-z]+-[a-z]+-1$", first["name"])
    assert re.match(r"^[a-z]+-[a-z]+-2$", second["name"]) and second["job_type"] == "use"
    assert start({"name": "train-1"}).json()["name"] == "train-1"
    too_long = start({"name": "x", "job_type": "t" * 65})
    assert too_long.status_code == 400
    assert "job type is at most 64 characters" in too_long.json()["error"]["message"]


def test_a_restricted_viewer_cannot_use_a_version(
    client, organization, org_admin, project, member, team
):
    secret = make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    make_link(make_version(project, member), secret, org_admin, "c")
    grant(secret, RegistryRole.RESTRICTED_VIEWER, user=member)
    _, token = ApiToken.issue(member, "t")
    headers = {"Authorization": f"Bearer {token}"}
    run = client.post(
        f"{PROJECT}/runs/", {"name": "r"}, content_type="application/json", headers=headers
    ).json()
    response = client.post(
        f"{PROJECT}/runs/{run['id']}/inputs/",
        {"path": "acme/secret/c:v0"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 403 and "viewer role" in response.json()["error"]["message"]


def test_on_s3_blobs_go_straight_to_the_bucket_and_are_checked_at_commit(
    client, project, auth, s3_storage, s3_endpoint
):
    import urllib.request

    body = begin(client, auth).json()
    targets = {m["sha256"]: m for m in body["missing"]}
    assert all(m["upload_url"].startswith(s3_endpoint) for m in targets.values())

    def put_to_bucket(data: bytes, digest: str) -> None:
        target = targets[digest]
        request = urllib.request.Request(
            target["upload_url"], data=data, method="PUT", headers=target["upload_headers"]
        )
        urllib.request.urlopen(request).close()

    put_to_bucket(FILES["weights.bin"], sha(FILES["weights.bin"]))
    # Bytes that do not match their sha256 are found out at commit, removed, and refused.
    put_to_bucket(b"{not the config}", sha(FILES["config.json"]))
    refused = client.post(f"/api/v1/versions/{body['id']}/commit/", headers=auth)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "size_mismatch"
    again = begin(client, auth).json()
    assert [m["sha256"] for m in again["missing"]] == [sha(FILES["config.json"])]
    put_to_bucket(FILES["config.json"], sha(FILES["config.json"]))
    done = client.post(f"/api/v1/versions/{body['id']}/commit/", headers=auth).json()
    assert done["state"] == "committed"
    assert Blob.objects.count() == 2


@pytest.fixture
def resumable(monkeypatch):
    """Every file of FILES is large enough for a resumable upload."""
    from apps.artifacts import storage

    monkeypatch.setattr(storage, "RESUMABLE_BYTES", 1)


def start_upload(client, auth, data: bytes):
    return client.post(f"/api/v1/blobs/{sha(data)}/uploads/", headers=auth)


def patch(client, auth, url: str, data: bytes, offset):
    return client.patch(
        url,
        data,
        content_type="application/octet-stream",
        headers={**auth, "Upload-Offset": str(offset)},
    )


def test_a_resumable_upload_takes_the_rest_from_the_offset_it_holds(
    client, project, auth, resumable
):
    body = begin(client, auth).json()
    assert all(m["resumable_url"].endswith("/uploads/") for m in body["missing"])
    data = FILES["weights.bin"]
    started = start_upload(client, auth, data)
    assert started.status_code == 201
    state = started.json()
    assert (state["offset"], state["size"], state["stored"]) == (0, len(data), False)
    assert patch(client, auth, state["url"], data[:1000], 0).json()["offset"] == 1000

    again = start_upload(client, auth, data)
    assert again.status_code == 200 and again.json()["offset"] == 1000
    refused = patch(client, auth, state["url"], data, 0)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "offset_mismatch"
    assert "send from Upload-Offset 1000" in refused.json()["error"]["message"]
    too_much = patch(client, auth, state["url"], data, 1000)
    assert too_much.status_code == 400 and too_much.json()["error"]["code"] == "size_mismatch"
    assert patch(client, auth, state["url"], data[1000:], 1000).json()["offset"] == len(data)

    put(client, auth, FILES["config.json"])
    done = client.post(f"/api/v1/versions/{body['id']}/commit/", headers=auth).json()
    assert done["state"] == "committed" and Blob.objects.filter(sha256=sha(data)).exists()
    # Committed: no pending version names it any more, so it is not the caller's to send.
    assert start_upload(client, auth, data).json()["error"]["code"] == "not_expected"


def test_nobody_can_probe_the_store_for_a_file_they_do_not_claim(client, project, auth):
    """Asked without a manifest naming it, a stored blob answers as one never stored."""
    begin(client, auth)
    put(client, auth, FILES["config.json"])
    stored, never = sha(FILES["config.json"]), sha(b"never stored")
    ArtifactVersion.objects.all().delete()  # no pending manifest names either
    answers = []
    for digest in (stored, never):
        upload = client.put(f"/api/v1/blobs/{digest}", b"x", headers=auth)
        resumable = client.post(f"/api/v1/blobs/{digest}/uploads/", headers=auth)
        answers.append([(r.status_code, r.json()) for r in (upload, resumable)])
    assert Blob.objects.filter(sha256=stored).exists()
    assert answers[0] == answers[1]
    assert answers[0][0][1]["error"]["code"] == "not_expected"


@pytest.mark.parametrize(
    ("offset", "code"), [("", "invalid_offset"), ("-1", "invalid_offset"), ("²", "invalid_offset")]
)
def test_a_resumable_upload_refuses_a_bad_offset(client, project, auth, resumable, offset, code):
    begin(client, auth)
    state = start_upload(client, auth, FILES["weights.bin"]).json()
    response = patch(client, auth, state["url"], b"w", offset)
    assert response.status_code == 400 and response.json()["error"]["code"] == code


def test_only_its_owner_sends_to_a_resumable_upload(client, project, auth, resumable, team):
    from apps.accounts.models import TeamRole

    begin(client, auth)
    state = start_upload(client, auth, FILES["weights.bin"]).json()
    other = make_member(project.team.organization, "colleague")
    team.add_member(other, TeamRole.MEMBER)
    _, token = ApiToken.issue(other, "t")
    theirs = {"Authorization": f"Bearer {token}"}
    assert patch(client, theirs, state["url"], b"w", 0).status_code == 404
    # Nor may anyone begin one for a blob no pending version of theirs names.
    refused = start_upload(client, theirs, FILES["weights.bin"])
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_expected"
