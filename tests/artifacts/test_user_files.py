"""Uploaded files never run in a browser as a page of this site.

Every way a file's bytes leave (the page's download, the API's, a range of it, the zip, and a
presigned S3 URL) sends it as an attachment, with a type that is not active, no sniffing and a
sandboxing policy; previews show file contents as escaped text.
"""

from __future__ import annotations

import urllib.request

import pytest

from apps.accounts.models import ApiToken
from tests.factories import make_link, make_version

SCRIPT = b"<html><body><script>document.title = 'ran'</script></body></html>"
ACTIVE = {
    "page.html": SCRIPT,
    "page.htm": SCRIPT,
    "page.xhtml": SCRIPT,
    "image.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "code.js": b"alert(1)",
    "noext": SCRIPT,
}
INERT = {"notes.txt": "text/plain; charset=utf-8", "plot.png": "image/png"}
PAGE = "/orgs/acme/registry/model/classifier/v0"
API = "/api/v1/orgs/acme/registries/model/collections/classifier/versions/v0"


@pytest.fixture
def files(project, member, models_registry) -> dict[str, bytes]:
    files = {**ACTIVE, **dict.fromkeys(INERT, b"inert"), "notes.md": b"<script>x()</script>"}
    make_link(make_version(project, member, files=files), models_registry, member)
    return files


@pytest.fixture
def auth(member) -> dict[str, str]:
    _, token = ApiToken.issue(member, "files")
    return {"Authorization": f"Bearer {token}"}


def assert_inert(response, content_type="application/octet-stream"):
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = response["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy


@pytest.mark.parametrize("name", ACTIVE)
def test_active_files_are_sent_as_sandboxed_attachments(client, files, auth, member, name):
    client.force_login(member)
    for url, headers in [(f"{PAGE}/files/{name}", {}), (f"{API}/files/{name}", auth)]:
        whole = client.get(url, headers=headers)
        assert whole.status_code == 200
        assert whole["Content-Disposition"].startswith("attachment;")
        assert_inert(whole)
        assert b"".join(whole.streaming_content) == files[name]
        part = client.get(url, headers={"Range": "bytes=0-4", **headers})
        assert part.status_code == 206 and part["Content-Disposition"].startswith("attachment;")
        assert_inert(part)


@pytest.mark.parametrize(("name", "content_type"), INERT.items())
def test_inert_files_keep_their_type(client, files, auth, name, content_type):
    response = client.get(f"{API}/files/{name}", headers=auth)
    assert response["Content-Disposition"].startswith("attachment;")
    assert_inert(response, content_type)


def test_the_zip_is_not_sniffed(client, files, auth):
    response = client.get(f"{API}/zip/", headers=auth)
    assert response["Content-Type"] == "application/zip"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_a_preview_shows_markup_as_text(client, files, member):
    client.force_login(member)
    page = client.get(f"{PAGE}/files/", {"preview": "notes.md"}).content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page


def test_presigned_urls_carry_the_same_type_and_disposition(client, s3_storage, files, auth):
    response = client.get(f"{API}/files/page.html", headers=auth)
    assert response.status_code == 302
    with urllib.request.urlopen(response["Location"]) as fetched:
        assert fetched.headers["Content-Type"] == "application/octet-stream"
        assert fetched.headers["Content-Disposition"].startswith("attachment;")
        assert fetched.read() == SCRIPT
