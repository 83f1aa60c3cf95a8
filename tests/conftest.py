"""Suite-wide fixtures: storage in a temporary folder, and fixed personas of one organization.

The personas, all in organization `acme`:
- `org_admin`: organization admin, so admin of every registry;
- `member`: organization member, who gets the baseline role (member by default) on
  organization-visible registries;
- `viewer`: organization viewer, capped at viewer by baseline roles;
- `outsider`: a signed-in user of another organization, who sees nothing of acme.
"""

from __future__ import annotations

import io
import itertools
import signal
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.test.testcases import QuietWSGIRequestHandler
from moto.server import ThreadedMotoServer

from apps.accounts.models import Organization, OrganizationRole, Team, TeamRole, User
from apps.artifacts.models import Project
from apps.registries.models import Registry
from tests.factories import (
    make_member,
    make_organization,
    make_project,
    make_team,
    storages_in,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: the parallel run (pytest-xdist) then ends on short tests, with every
    process busy, instead of one process finishing a long test while the others wait."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session", autouse=True)
def live_server_without_nagle() -> Iterator[None]:
    """The live test server writes a response's headers and its body apart; with Nagle's
    algorithm on, the body then waits for the client's delayed ACK, some 40 ms per request."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(QuietWSGIRequestHandler, "disable_nagle_algorithm", True)
        yield


@pytest.fixture(autouse=True)
def artifact_storage(settings, tmp_path):
    """A fresh local folder for blobs in every test, so no test sees another's files."""
    settings.STORAGES = storages_in(tmp_path / "artifacts")
    return tmp_path / "artifacts"


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_buckets = itertools.count()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on loopback: real HTTP, boto3 and presigned URLs over the wire."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint, monkeypatch) -> str:
    """Point blob storage at a fresh, empty bucket on the S3 server; returns the bucket name."""
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    bucket = f"blobs-{next(_buckets)}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "apps.artifacts.s3.ArtifactS3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": s3_endpoint,
                "region_name": "us-east-1",
                "access_key": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "secret_key": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                "file_overwrite": True,
            },
        },
    }
    return bucket


@pytest.fixture(scope="session")
def rows_for_the_module(
    django_db_setup, django_db_blocker, tmp_path_factory
) -> Callable[[], AbstractContextManager[Path]]:
    """For a module-scoped fixture: rows its module's tests share, made once instead of before
    each test. They are made inside a transaction that each test's own (a savepoint, as the `db`
    fixture opens) nests in, so a test's changes go with it, and that is rolled back after the
    module. The Python objects outlive a test's changes: a test that changes one reads it again.
    Their blobs are in a folder of their own, which it gives; a test's `artifact_storage` replaces
    it unless the module says otherwise. Every test of the module sees the rows while they last,
    so tests that need an empty database belong elsewhere. Not for transactional tests, whose
    flush would empty the shared rows. The module's tests must be database tests (the `db`
    fixture or a `django_db` mark), or the test database may not have been set up."""

    @contextmanager
    def shared() -> Iterator[Path]:
        folder = tmp_path_factory.mktemp("shared-artifacts")
        with (
            override_settings(STORAGES=storages_in(folder)),
            django_db_blocker.unblock(),
            transaction.atomic(),
        ):
            yield folder
            transaction.set_rollback(True)

    return shared


@pytest.fixture(scope="session", autouse=True)
def fast_password_hasher() -> Iterator[None]:
    """Users' passwords hashed in a blink, module-scoped rows' included."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def organization(db) -> Organization:
    """Acme, with its core Models and Datasets registries."""
    return make_organization("acme", name="Acme")


@pytest.fixture
def org_admin(organization) -> User:
    """Admin of acme: admin on every registry, restricted ones included."""
    return make_member(organization, "olivia", OrganizationRole.ADMIN)


@pytest.fixture
def member(organization) -> User:
    """Member of acme and of team `ml` (as member): may log to its projects and link."""
    return make_member(organization, "maria", OrganizationRole.MEMBER)


@pytest.fixture
def viewer(organization) -> User:
    """Viewer of acme: sees organization registries, never above viewer through baselines."""
    return make_member(organization, "victor", OrganizationRole.VIEWER)


@pytest.fixture
def outsider(db) -> User:
    """A signed-in member of another organization: every acme object is 404 for them."""
    other = make_organization("globex", name="Globex")
    return make_member(other, "oscar", OrganizationRole.ADMIN)


@pytest.fixture
def team(organization, member) -> Team:
    """Team `ml` in acme, with `member` as a team member."""
    return make_team(organization, "ml", maria=TeamRole.MEMBER)


@pytest.fixture
def project(team) -> Project:
    return make_project(team, "mnist")


@pytest.fixture
def models_registry(organization) -> Registry:
    return organization.registries.get(slug="model")


@pytest.fixture
def datasets_registry(organization) -> Registry:
    return organization.registries.get(slug="dataset")


@pytest.fixture
def run_worker(transactional_db) -> Callable[[], None]:
    """Run the database worker in this process until no task is ready, as `manage.py db_worker
    --batch` does; the signal handlers it installs are put back afterwards, so that Ctrl-C still
    stops the test run. The test is transactional: a worker sees only committed work, and
    between tasks it closes a connection left inside a transaction, as the test's own would be."""
    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGQUIT]

    def run() -> None:
        saved = {number: signal.getsignal(number) for number in signals}
        try:
            call_command(
                "db_worker", "--batch", "--no-startup-delay", "--no-reload",
                verbosity=0, stdout=io.StringIO(),
            )  # fmt: skip
        finally:
            for number, handler in saved.items():
                signal.signal(number, handler)

    return run
