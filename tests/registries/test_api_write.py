from __future__ import annotations

import pytest

from apps.accounts.models import ApiToken
from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Alias, Link
from apps.registries.services import add_protected_alias
from tests.factories import make_link, make_version

COL = "/api/v1/orgs/acme/registries/model/collections/classifier"


def headers_for(user) -> dict[str, str]:
    _, token = ApiToken.issue(user, "t")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(member):
    return headers_for(member)


def send(client, method: str, url: str, body=None, headers=None):
    return getattr(client, method)(url, body, content_type="application/json", headers=headers)


def test_linking_creates_the_collection_and_relinking_merges_aliases(client, project, member, auth):
    version = make_version(project, member)
    first = send(
        client,
        "post",
        f"{COL}/versions/",
        {"version": str(version.uid), "aliases": ["staging"]},
        auth,
    )
    assert first.status_code == 201
    assert first.json()["version"] == "v0" and first.json()["aliases"] == ["latest", "staging"]
    again = send(
        client,
        "post",
        f"{COL}/versions/",
        {"version": str(version.uid), "aliases": ["candidate"]},
        auth,
    )
    assert again.status_code == 200
    assert again.json()["aliases"] == ["candidate", "latest", "staging"]
    assert Link.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"version": "nope"}, "invalid_version"),
        ({"version": "6f1c2a4e-8d7b-4c1e-9a3f-2b5d8e7c1a90"}, "not_found"),
        ({"aliases": "staging"}, "invalid_aliases"),
    ],
)
def test_link_errors(client, project, member, auth, body, code):
    response = send(client, "post", f"{COL}/versions/", body, auth)
    assert response.json()["error"]["code"] == code


def test_a_wrong_type_is_named(client, project, member, auth):
    version = make_version(project, member, name="data", artifact_type="dataset")
    response = send(client, "post", f"{COL}/versions/", {"version": str(version.uid)}, auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "type_not_accepted"
    assert "'dataset'" in response.json()["error"]["message"]


def test_a_viewer_gets_403_naming_the_role(client, project, member, viewer):
    version = make_version(project, member)
    response = send(
        client, "post", f"{COL}/versions/", {"version": str(version.uid)}, headers_for(viewer)
    )
    assert response.status_code == 403
    assert "needs the member role" in response.json()["error"]["message"]


@pytest.fixture
def links(project, member, models_registry):
    return [make_link(make_version(project, member), models_registry, member) for _ in range(2)]


def test_aliases_move_and_are_removed(client, links, auth):
    send(client, "post", f"{COL}/versions/v0/aliases/", {"alias": "staging"}, auth)
    moved = send(client, "post", f"{COL}/versions/v1/aliases/", {"alias": "staging"}, auth)
    assert moved.json()["aliases"] == ["latest", "staging"]
    assert AuditEvent.objects.filter(action=AuditAction.ALIAS_MOVE).exists()
    removed = client.delete(f"{COL}/versions/v1/aliases/staging/", headers=auth)
    assert removed.json()["aliases"] == ["latest"]


@pytest.mark.parametrize("alias", ["latest", "v3", "a:b"])
def test_reserved_aliases_are_refused(client, links, auth, alias):
    response = send(client, "post", f"{COL}/versions/v0/aliases/", {"alias": alias}, auth)
    assert response.status_code == 400


def test_protected_aliases_need_an_admin(client, links, auth, org_admin, models_registry):
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    response = send(client, "post", f"{COL}/versions/v0/aliases/", {"alias": "production"}, auth)
    assert response.status_code == 403 and "protected alias" in response.json()["error"]["message"]
    ok = send(
        client,
        "post",
        f"{COL}/versions/v0/aliases/",
        {"alias": "production"},
        headers_for(org_admin),
    )
    assert ok.status_code == 200
    assert Alias.objects.get(name="production").link == links[0]


def test_tags_and_details(client, links, auth):
    tagged = send(client, "post", f"{COL}/versions/v0/tags/", {"tags": ["gold", "reviewed"]}, auth)
    assert tagged.json()["tags"] == ["gold", "reviewed"]
    assert client.delete(f"{COL}/versions/v0/tags/gold/", headers=auth).json()["tags"] == [
        "reviewed"
    ]
    patched = send(
        client,
        "patch",
        f"{COL}/versions/v0/",
        {"description": "Best so far", "metadata": {"epochs": 3}},
        auth,
    )
    assert patched.json()["description"] == "Best so far"
    assert patched.json()["metadata"] == {"epochs": 3}
    bad = send(
        client, "patch", f"{COL}/versions/v0/", {"metadata": {f"k{n}": n for n in range(101)}}, auth
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "too_many_keys"
    unknown = send(client, "patch", f"{COL}/versions/v0/", {"size": 1}, auth)
    assert unknown.json()["error"]["code"] == "invalid_field"


def test_collection_description(client, links, auth):
    response = send(client, "patch", f"{COL}/", {"description": "# Card"}, auth)
    assert response.json()["description"] == "# Card"


def test_unlink(client, links, auth):
    response = client.delete(f"{COL}/versions/v1/", headers=auth)
    assert response.json() == {"unlinked": "acme/model/classifier:v1"}
    assert client.get(f"{COL}/versions/v1/", headers=auth).status_code == 404
    assert client.get(f"{COL}/versions/v0/", headers=auth).json()["aliases"] == ["latest"]
