"""NUL characters cannot be stored by PostgreSQL: every way in answers 400, never 500."""

from __future__ import annotations

import pytest

from apps.accounts.models import ApiToken


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/resolve/?path=acme/model/a%00b:v0",
        "/api/v1/orgs/acme/registries/mo%00del/",
        "/api/v1/orgs/acme/registries/model/collections/a%00b/",
    ],
)
def test_the_api_refuses_them_as_json(client, member, url):
    _, token = ApiToken.issue(member, "t")
    response = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_text"


@pytest.mark.parametrize(
    "url",
    [
        "/orgs/acme/registry/model/a%00b/",
        "/orgs/acme/registry/mo%00del/",
        "/orgs/acme/registry/?q=a%00b",
        "/orgs/acme/registry/model/?q=a%00",
    ],
)
def test_pages_refuse_them(client, member, url):
    client.force_login(member)
    response = client.get(url)
    assert response.status_code == 400 and b"NUL character" in response.content
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_forms_refuse_them(client, member, models_registry):
    client.force_login(member)
    response = client.post(
        "/orgs/acme/registry/model/", {"name": "a\x00b", "artifact_type": "model"}
    )
    assert response.status_code == 400
    assert not models_registry.collections.exists()
