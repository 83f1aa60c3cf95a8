"""Liveness and readiness probes: the process answers; the database and blob store answer."""

from __future__ import annotations

import boto3
import pytest


def with_blob_folder(settings, location) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": location},
        },
    }


def test_healthz_answers_without_the_database_or_a_session(client):
    # No `db` fixture: pytest-django fails any database access here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert not response.cookies


def test_readyz_answers_when_database_and_folder_do(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "storage": "ok"}}


def test_readyz_accepts_a_folder_the_first_upload_will_make(client, db, settings, tmp_path):
    with_blob_folder(settings, tmp_path / "not" / "made" / "yet")
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_naming_the_store_when_its_folder_cannot_be_written(
    client, db, settings, tmp_path
):
    # A file where the folder's parent should be: no one, root included, can make the folder.
    (tmp_path / "a-file").write_text("")
    with_blob_folder(settings, tmp_path / "a-file" / "artifacts")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "storage": "failed"},
    }


def test_readyz_on_s3_asks_the_bucket(client, db, s3_storage):
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_the_bucket_is_gone(client, db, s3_storage, s3_endpoint):
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").delete_bucket(
        Bucket=s3_storage
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "storage": "failed"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
def test_probes_and_scrapes_are_not_redirected_to_https(client, db, settings, path):
    """They reach the server directly over plain HTTP; people's requests are redirected."""
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(path).status_code in (200, 404)
    assert client.get("/login/").status_code == 301
