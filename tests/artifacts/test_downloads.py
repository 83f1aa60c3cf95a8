from __future__ import annotations

import io
import urllib.request
import zipfile

import pytest

from apps.accounts.models import ApiToken, RegistryRole, Visibility
from apps.audit.models import AuditAction, AuditEvent
from tests.factories import grant, make_link, make_member, make_registry, make_version

V0 = "/api/v1/orgs/acme/registries/model/collections/classifier/versions/v0"
FILES = {"weights.bin": bytes(range(256)) * 40, "config/model.json": b'{"layers": 50}'}


@pytest.fixture
def auth(viewer):
    _, token = ApiToken.issue(viewer, "t")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def link(project, member, models_registry):
    return make_link(make_version(project, member, files=FILES), models_registry, member)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_file_streams_with_length_and_etag(client, link, auth):
    response = client.get(f"{V0}/files/weights.bin", headers=auth)
    assert response.status_code == 200
    assert body(response) == FILES["weights.bin"]
    assert response["Content-Length"] == str(len(FILES["weights.bin"]))
    assert response["ETag"] == f'"{link.version.files.get(path="weights.bin").blob_id}"'
    assert 'filename="weights.bin"' in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD, data__path="weights.bin").exists()


def test_a_matching_etag_is_not_sent_again(client, link, auth):
    etag = client.get(f"{V0}/files/weights.bin", headers=auth)["ETag"]
    response = client.get(f"{V0}/files/weights.bin", headers={**auth, "If-None-Match": etag})
    assert response.status_code == 304


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=100-", 100, 10239),
        ("bytes=-16", 10224, 10239),
        ("bytes=10230-99999", 10230, 10239),
    ],
)
def test_ranges(client, link, auth, header, start, end):
    response = client.get(f"{V0}/files/weights.bin", headers={**auth, "Range": header})
    assert response.status_code == 206
    assert body(response) == FILES["weights.bin"][start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/10240"
    assert response["Content-Length"] == str(end - start + 1)


def test_an_unsatisfiable_range_is_416(client, link, auth):
    response = client.get(f"{V0}/files/weights.bin", headers={**auth, "Range": "bytes=99999-"})
    assert response.status_code == 416 and response["Content-Range"] == "bytes */10240"


def test_a_whole_version_as_a_zip(client, link, auth):
    response = client.get(f"{V0}/zip/", headers=auth)
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert {name: archive.read(name) for name in archive.namelist()} == FILES


def test_restricted_viewers_may_not_download(client, organization, org_admin, project, member):
    secret = make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    make_link(make_version(project, member, files=FILES), secret, org_admin, "c")
    reader = make_member(organization, "rita")
    grant(secret, RegistryRole.RESTRICTED_VIEWER, user=reader)
    _, token = ApiToken.issue(reader, "t")
    headers = {"Authorization": f"Bearer {token}"}
    base = "/api/v1/orgs/acme/registries/secret/collections/c/versions/v0"
    assert client.get(f"{base}/", headers=headers).status_code == 200
    for url in (f"{base}/files/weights.bin", f"{base}/zip/"):
        response = client.get(url, headers=headers)
        assert response.status_code == 403 and "viewer role" in response.json()["error"]["message"]


def test_on_s3_a_download_is_a_presigned_redirect(client, s3_storage, link, auth):
    response = client.get(f"{V0}/files/weights.bin", headers=auth)
    assert response.status_code == 302
    assert "Signature=" in response["Location"] and "Expires=" in response["Location"]
    with urllib.request.urlopen(response["Location"]) as fetched:
        assert fetched.read() == FILES["weights.bin"]


def test_on_s3_a_zip_streams_each_object_from_the_bucket(client, s3_storage, link, auth):
    archive = zipfile.ZipFile(io.BytesIO(body(client.get(f"{V0}/zip/", headers=auth))))
    assert {name: archive.read(name) for name in archive.namelist()} == FILES


def test_the_page_download_uses_the_same_rules(client, link, viewer):
    client.force_login(viewer)
    response = client.get("/orgs/acme/registry/model/classifier/v0/zip/")
    assert sorted(zipfile.ZipFile(io.BytesIO(body(response))).namelist()) == sorted(FILES)
