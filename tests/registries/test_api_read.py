from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import LAST_USE_RESOLUTION, ApiToken, Visibility
from apps.registries.models import Collection
from apps.registries.services import set_alias
from tests.factories import make_link, make_registry, make_version

API = "/api/v1"


def bearer(user) -> dict[str, str]:
    _, token = ApiToken.issue(user, "test")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def links(project, member, models_registry):
    made = [
        make_link(make_version(project, member, metrics={"acc": n / 10}), models_registry, member)
        for n in range(3)
    ]
    set_alias(actor=member, link=made[1], name="production")
    return made


def error_of(response) -> dict:
    return response.json()["error"]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Basic abc"}, "unauthenticated"),
        ({"Authorization": "Bearer reg_nope"}, "invalid_token"),
    ],
)
def test_requests_without_a_valid_token_get_401(client, organization, header, code):
    response = client.get(f"{API}/orgs/acme/registries/", headers=header)
    assert response.status_code == 401 and error_of(response)["code"] == code


def test_revoked_and_expired_tokens_are_refused(client, member):
    revoked, revoked_token = ApiToken.issue(member, "r")
    revoked.revoked_at = timezone.now()
    revoked.save()
    _, expired_token = ApiToken.issue(member, "e", expires_at=timezone.now() - timedelta(days=1))
    for token, code in [(revoked_token, "revoked_token"), (expired_token, "expired_token")]:
        response = client.get(
            f"{API}/orgs/acme/registries/", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401 and error_of(response)["code"] == code


def test_a_token_records_its_last_use(client, member):
    row, token = ApiToken.issue(member, "t")
    client.get(f"{API}/orgs/acme/registries/", headers={"Authorization": f"Bearer {token}"})
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_reads_do_not_write_the_tokens_last_use_each_time(client, member):
    """Use is recorded coarsely: a read within LAST_USE_RESOLUTION of the last one writes
    nothing; one after it moves `last_used_at` on."""
    row, token = ApiToken.issue(member, "t")
    headers = {"Authorization": f"Bearer {token}"}
    client.get(f"{API}/orgs/acme/registries/", headers=headers)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{API}/orgs/acme/registries/", headers=headers)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]

    long_ago = timezone.now() - LAST_USE_RESOLUTION - timedelta(seconds=1)
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=long_ago)
    client.get(f"{API}/orgs/acme/registries/", headers=headers)
    row.refresh_from_db()
    assert row.last_used_at > long_ago + LAST_USE_RESOLUTION


def test_registries_lists_only_what_the_caller_may_see(client, organization, org_admin, member):
    make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    names = [
        r["name"]
        for r in client.get(f"{API}/orgs/acme/registries/", headers=bearer(member)).json()[
            "registries"
        ]
    ]
    assert names == ["Datasets", "Models"]
    assert (
        client.get(f"{API}/orgs/acme/registries/secret/", headers=bearer(member)).status_code == 404
    )


def test_outsiders_get_404_with_a_json_error(client, organization, outsider):
    response = client.get(f"{API}/orgs/acme/registries/", headers=bearer(outsider))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_wrong_methods_get_405(client, member):
    response = client.post(f"{API}/orgs/acme/registries/", headers=bearer(member))
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_collections_page_by_name(client, member, models_registry):
    Collection.objects.bulk_create(
        Collection(registry=models_registry, name=f"c{n}", artifact_type="model") for n in range(5)
    )
    seen, url = [], f"{API}/orgs/acme/registries/model/collections/?limit=2"
    while url:
        data = client.get(url, headers=bearer(member)).json()
        seen += [c["name"] for c in data["collections"]]
        url = (
            data["next"]
            and f"{API}/orgs/acme/registries/model/collections/?limit=2&cursor={data['next']}"
        )
    assert seen == [f"c{n}" for n in range(5)]


@pytest.mark.parametrize("limit", ["0", "501", "x"])
def test_a_bad_limit_is_explained(client, member, models_registry, limit):
    response = client.get(
        f"{API}/orgs/acme/registries/model/collections/?limit={limit}", headers=bearer(member)
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_limit"


def test_versions_newest_first_with_aliases(client, member, links):
    data = client.get(
        f"{API}/orgs/acme/registries/model/collections/classifier/versions/", headers=bearer(member)
    ).json()
    assert [v["version"] for v in data["versions"]] == ["v2", "v1", "v0"]
    assert data["versions"][1]["aliases"] == ["production"]
    assert data["versions"][0]["source"] == "ml/mnist/model:v2"


@pytest.mark.parametrize(
    ("ref", "version"), [("v0", "v0"), ("production", "v1"), ("latest", "v2"), ("", "v2")]
)
def test_resolve_by_number_alias_or_latest(client, member, links, ref, version):
    path = "acme/model/classifier" + (f":{ref}" if ref else "")
    data = client.get(f"{API}/resolve/", {"path": path}, headers=bearer(member)).json()
    assert data["version"] == version
    assert data["files"][0]["path"] == "weights.bin"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("acme/model/classifier:v9", 404, "not_found"),
        ("acme/model/nope:v0", 404, "not_found"),
        ("acme/classifier", 400, "invalid_path"),
        ("", 400, "missing_path"),
    ],
)
def test_resolve_errors(client, member, links, path, status, code):
    response = client.get(f"{API}/resolve/", {"path": path}, headers=bearer(member))
    assert response.status_code == status and error_of(response)["code"] == code


def test_resolve_says_the_same_for_hidden_and_missing(
    client, organization, org_admin, member, project
):
    secret = make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    make_link(make_version(project, member), secret, org_admin, "c")
    hidden = client.get(f"{API}/resolve/", {"path": "acme/secret/c:v0"}, headers=bearer(member))
    missing = client.get(f"{API}/resolve/", {"path": "acme/secret/d:v0"}, headers=bearer(member))
    assert hidden.status_code == missing.status_code == 404
    assert error_of(hidden)["message"].replace("c:v0", "d:v0") == error_of(missing)["message"]


def test_the_openapi_document_and_its_page(client, db):
    document = client.get(f"{API}/openapi.json").json()
    assert document["openapi"] == "3.1.0" and "/resolve/" in document["paths"]
    page = client.get(f"{API}/docs/")
    assert page.status_code == 200 and b"GET /api/v1/resolve/" in page.content


def test_every_documented_path_is_routed():
    import re

    from django.urls import resolve

    from registry_site.api import OPENAPI

    samples = {
        "uid": "6f1c2a4e-8d7b-4c1e-9a3f-2b5d8e7c1a90",
        "sha256": "a" * 64,
        "number": "1",
        "automation": "1",
    }
    for route in OPENAPI["paths"]:
        url = re.sub(r"\{(\w+)\}", lambda m: samples.get(m.group(1), "x"), route)
        assert resolve(f"/api/v1{url}").url_name.startswith("api-"), route


def test_every_api_route_is_documented():
    import re

    from registry_site.api import OPENAPI, urlpatterns

    for pattern in urlpatterns:
        if pattern.name in ("api-openapi", "api-docs"):
            continue
        route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        assert f"/{route}" in OPENAPI["paths"], route


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\u0000b"'])
def test_text_no_database_can_store_is_refused(client, member, project, text):
    body = '{"name": "run", "config": {"note": ' + text + "}}"
    response = client.post(
        "/api/v1/orgs/acme/teams/ml/projects/mnist/runs/",
        body,
        content_type="application/json",
        headers=bearer(member),
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_text"
