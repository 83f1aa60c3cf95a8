"""Every page and action, tried by an anonymous visitor, an outsider and the wrong method."""

from __future__ import annotations

import pytest

from tests.factories import make_link, make_version

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
    (f"{COL}/description/", {"POST"}),
    (f"{COL}/tags/", {"POST"}),
    (f"{COL}/delete/", {"GET", "POST"}),
    (f"{COL}/v0/", {"GET"}),
    (f"{COL}/v0/metadata/", {"GET"}),
    (f"{COL}/v0/files/", {"GET"}),
    (f"{COL}/v0/usage/", {"GET"}),
    (f"{COL}/v0/files/weights.bin", {"GET"}),
    (f"{COL}/v0/aliases/", {"POST"}),
    (f"{COL}/v0/tags/", {"POST"}),
    (f"{COL}/v0/unlink/", {"POST"}),
]


@pytest.fixture
def linked(project, member, models_registry):
    return make_link(make_version(project, member), models_registry, member, "classifier")


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
