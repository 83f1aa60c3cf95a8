"""Every page and action, tried by an anonymous visitor, an outsider and the wrong method."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db.models import Model

from apps.accounts.models import Organization, User
from apps.legacy import services as legacy
from apps.registries.models import Link, Registry
from apps.registries.services import set_baseline_role
from tests.factories import (
    grant,
    make_link,
    make_member,
    make_personas,
    make_registry,
    make_version,
)

REG = "/orgs/acme/registry/model"
COL = f"{REG}/classifier"
# (path, the methods it answers)
VIEWS = [
    ("/orgs/acme/registry/", {"GET", "POST"}),
    (f"{REG}/", {"GET", "POST"}),
    (f"{REG}/settings/", {"GET", "POST"}),
    (f"{REG}/star/", {"POST"}),
    (f"{REG}/link/", {"GET", "POST"}),
    (f"{COL}/", {"GET"}),
    (f"{COL}/history/", {"GET"}),
    (f"{COL}/compare/", {"GET"}),
    (f"{COL}/metric-directions/", {"POST"}),
    (f"{COL}/description/", {"POST"}),
    (f"{COL}/tags/", {"POST"}),
    (f"{COL}/delete/", {"GET", "POST"}),
    (f"{COL}/v0/", {"GET"}),
    (f"{COL}/v0/metadata/", {"GET"}),
    (f"{COL}/v0/files/", {"GET"}),
    (f"{COL}/v0/usage/", {"GET"}),
    (f"{COL}/v0/lineage/", {"GET"}),
    (f"{COL}/v0/history/", {"GET"}),
    ("/orgs/acme/projects/ml/mnist/", {"GET"}),
    ("/orgs/acme/audit/", {"GET"}),
    ("/orgs/acme/search/", {"GET"}),
    (f"{COL}/v0/files/weights.bin", {"GET"}),
    (f"{COL}/v0/aliases/", {"POST"}),
    (f"{COL}/v0/tags/", {"POST"}),
    (f"{COL}/v0/unlink/", {"POST"}),
    ("/orgs/acme/legacy/", {"GET"}),
    ("/orgs/acme/legacy/teams/ml/", {"GET", "POST"}),
    ("/orgs/acme/legacy/teams/ml/classifier/", {"GET", "POST"}),
    ("/orgs/acme/legacy/teams/ml/classifier/v0/", {"GET", "POST"}),
    ("/orgs/acme/legacy/migration/", {"GET"}),
    ("/orgs/acme/legacy/migration/ml/", {"GET", "POST"}),
    # Automations' pages that name no automation; those that do are in tests/automations.
    ("/orgs/acme/automations/", {"GET"}),
    ("/orgs/acme/automations/new/", {"GET", "POST"}),
    ("/orgs/acme/automations/registry/model/", {"GET"}),
    ("/orgs/acme/automations/registry/model/classifier/", {"GET"}),
    ("/orgs/acme/automations/teams/ml/", {"GET", "POST"}),
]


@dataclass
class World:
    organization: Organization
    org_admin: User
    member: User
    outsider: User
    linked: Link
    shared: Registry
    blobs: Path  # the folder the world's files were stored in


@pytest.fixture(scope="module")
def world(rows_for_the_module) -> Iterator[World]:
    """The rows the tests here read, made once for the module: acme's personas as in
    tests/conftest.py, and an outsider; classifier:v0 in the Models registry, the same version as
    v0 of team ml's legacy registered model classifier; and `Shared`, organization-visible,
    baseline restricted viewer, with collection `c` holding v0. (Every test sees both registries;
    each reads only one, and neither changes what the other's pages answer.)"""
    with rows_for_the_module() as blobs:
        acme = make_personas()
        organization, org_admin, member = acme.organization, acme.org_admin, acme.member
        outsider, project, models_registry = acme.outsider, acme.project, acme.models_registry

        version = make_version(project, member)
        model = legacy.register_model(actor=member, team=project.team, name="classifier")
        legacy.link_version(actor=member, registered_model=model, version=version)
        linked = make_link(version, models_registry, member, "classifier")

        shared = make_registry(organization, org_admin, "Shared")
        set_baseline_role(actor=org_admin, registry=shared, role="restricted_viewer")
        make_link(make_version(project, member), shared, org_admin, "c")
        yield World(organization, org_admin, member, outsider, linked, shared, blobs)


def fresh(row: Model) -> Model:
    """The row read again, for one test: a test may change the Python object it is given (logging
    in sets a user's last_login), and the next test must not see that."""
    return type(row).objects.get(pk=row.pk)


@pytest.fixture
def artifact_storage(artifact_storage, world) -> Path:
    """The test's own blob folder, as in tests/conftest.py, starting with a copy of the world's
    files: a test may download one."""
    shutil.copytree(world.blobs, artifact_storage, dirs_exist_ok=True)
    return artifact_storage


# The conftest's personas and this module's rows, here the world's, each fresh for its test.
@pytest.fixture
def organization(db, world) -> Organization:
    return fresh(world.organization)


@pytest.fixture
def org_admin(db, world) -> User:
    return fresh(world.org_admin)


@pytest.fixture
def member(db, world) -> User:
    return fresh(world.member)


@pytest.fixture
def outsider(db, world) -> User:
    return fresh(world.outsider)


@pytest.fixture
def linked(db, world) -> Link:
    return fresh(world.linked)


@pytest.fixture
def shared(db, world) -> Registry:
    return fresh(world.shared)


def call(client, method: str, path: str):
    return getattr(client, method.lower())(path)


@pytest.mark.parametrize(("path", "methods"), VIEWS)
def test_anonymous_visitors_are_sent_to_login(client, linked, path, methods):
    for method in methods:
        response = call(client, method, path)
        assert response.status_code == 302, (method, path)
        assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize(("path", "methods"), VIEWS)
def test_outsiders_learn_nothing(client, linked, outsider, path, methods):
    client.force_login(outsider)
    for method in methods:
        assert call(client, method, path).status_code == 404, (method, path)


@pytest.mark.parametrize(("path", "methods"), VIEWS)
def test_other_methods_are_refused(client, linked, member, path, methods):
    client.force_login(member)
    for method in {"GET", "POST", "PUT", "DELETE"} - methods:
        assert call(client, method, path).status_code == 405, (method, path)


ROLES = ["restricted_viewer", "viewer", "member", "admin"]
SHARED = "/orgs/acme/registry/shared"
AUTOMATIONS = "/orgs/acme/automations"
# (what, method, path, data, the least role that may)
ACTIONS = [
    ("read the registry", "get", f"{SHARED}/", None, "restricted_viewer"),
    ("read settings", "get", f"{SHARED}/settings/", None, "restricted_viewer"),
    ("read the collection", "get", f"{SHARED}/c/", None, "restricted_viewer"),
    ("read the files list", "get", f"{SHARED}/c/v0/files/", None, "restricted_viewer"),
    ("compare versions", "get", f"{SHARED}/c/compare/", None, "restricted_viewer"),
    ("download a file", "get", f"{SHARED}/c/v0/files/weights.bin", None, "viewer"),
    ("open the link form", "get", f"{SHARED}/link/", None, "member"),
    ("list its automations", "get", f"{AUTOMATIONS}/registry/shared/", None, "member"),
    ("open the automation form", "get", f"{AUTOMATIONS}/new/?registry=shared", None, "member"),
    (
        "create a collection",
        "post",
        f"{SHARED}/",
        {"name": "n", "artifact_type": "model"},
        "member",
    ),
    ("tag the collection", "post", f"{SHARED}/c/tags/", {"tags": "x"}, "member"),
    ("describe the collection", "post", f"{SHARED}/c/description/", {"description": "x"}, "member"),
    (
        "set a metric's direction",
        "post",
        f"{SHARED}/c/metric-directions/",
        {"metric": "loss", "direction": "higher"},
        "member",
    ),
    ("set an alias", "post", f"{SHARED}/c/v0/aliases/", {"alias": "staging"}, "member"),
    ("tag the version", "post", f"{SHARED}/c/v0/tags/", {"tags": "x"}, "member"),
    ("unlink", "post", f"{SHARED}/c/v0/unlink/", {}, "member"),
    (
        "protect an alias",
        "post",
        f"{SHARED}/settings/",
        {"form": "protected", "alias": "p"},
        "admin",
    ),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("what", "method", "path", "data", "least"), ACTIONS, ids=lambda v: v)
def test_each_registry_role(client, organization, shared, role, what, method, path, data, least):
    user = make_member(organization, f"as-{role}")
    grant(shared, role, user=user)
    client.force_login(user)
    response = getattr(client, method)(path, data) if data is not None else client.get(path)
    allowed = ROLES.index(role) >= ROLES.index(least)
    if allowed:
        assert response.status_code in (200, 302), (what, role, response.status_code)
    else:
        assert response.status_code == 403, (what, role, response.status_code)
