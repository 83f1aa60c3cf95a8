"""ENABLE_REGISTRY_UI: off, as on servers that have not switched, only the legacy Model Registry
shows; the Registry's pages lead there and the API stays."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import get_resolver

from apps.legacy.migration import migrate_team
from tests.factories import make_legacy_model, make_link, make_version
from tests.registries.test_api_read import bearer

ROOT = Path(__file__).resolve().parents[2]
LEGACY = "/orgs/acme/legacy/"
COL = "/orgs/acme/registry/model/classifier"


@pytest.fixture
def registry_ui_off(settings):
    settings.ENABLE_REGISTRY_UI = False


@pytest.fixture
def linked(project, member, models_registry):
    return make_link(make_version(project, member), models_registry, member, "classifier")


def test_it_is_on_by_default(settings, client, member):
    assert settings.ENABLE_REGISTRY_UI is True
    client.force_login(member)
    assert client.get("/").headers["Location"] == "/orgs/acme/registry/"
    assert client.get("/orgs/acme/registry/").status_code == 200


def test_off_the_home_page_leads_to_the_legacy_registry(client, member, registry_ui_off):
    client.force_login(member)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == LEGACY
    assert client.get(LEGACY).status_code == 200


def test_off_a_user_without_an_organization_still_gets_the_page_that_says_so(
    client, db, registry_ui_off
):
    from tests.factories import make_user

    client.force_login(make_user("loner"))
    response = client.get("/")
    assert response.status_code == 200 and "accounts/no_organization.html" in [
        t.name for t in response.templates
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/orgs/acme/registry/",
        "/orgs/acme/registry/model/",
        "/orgs/acme/registry/model/settings/",
        "/orgs/acme/registry/model/link/",
        f"{COL}/",
        f"{COL}/history/",
        f"{COL}/compare/",
        f"{COL}/v0/",
        f"{COL}/v0/files/",
        f"{COL}/v0/files/weights.bin",
        "/orgs/acme/search/?q=classifier",
    ],
)
def test_off_every_registry_page_leads_to_the_legacy_home(
    client, linked, member, registry_ui_off, path
):
    client.force_login(member)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == LEGACY, path


def test_off_every_registry_route_is_covered(client, linked, member, registry_ui_off):
    """Each URL of the registries app, filled with real values, leads to the legacy home, by
    GET and by POST: a route added later is covered without a change here."""
    samples = {"org": "acme", "registry": "model", "collection": "classifier", "number": "0"}
    client.force_login(member)
    (registries,) = [
        p for p in get_resolver().url_patterns if getattr(p, "namespace", "") == "registries"
    ]
    for pattern in registries.url_patterns:
        route = str(pattern.pattern)
        for name, value in samples.items():
            route = route.replace(f"<str:{name}>", value).replace(f"<version:{name}>", value)
        route = route.replace("<path:path>", "weights.bin")
        path = f"/orgs/acme/registry/{route}"
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            assert response.status_code == 302, (method, path, response.status_code)
            assert response["Location"] == LEGACY, (method, path)


def test_off_anonymous_visitors_still_sign_in_first(client, organization, registry_ui_off):
    response = client.get("/orgs/acme/registry/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_off_outsiders_learn_nothing(client, organization, outsider, registry_ui_off):
    client.force_login(outsider)
    response = client.get("/orgs/acme/registry/", follow=True)
    assert response.status_code == 404


def test_off_the_api_stays(client, linked, member, registry_ui_off):
    response = client.get(
        "/api/v1/resolve/", {"path": "acme/model/classifier:v0"}, headers=bearer(member)
    )
    assert response.status_code == 200 and response.json()["version"] == "v0"
    registries = client.get("/api/v1/orgs/acme/registries/", headers=bearer(member))
    assert registries.status_code == 200


def test_off_the_legacy_pages_do_not_lead_back_to_the_registry(
    client, team, project, member, org_admin, registry_ui_off
):
    make_legacy_model(project, member)
    migrate_team(team, actor=org_admin)
    client.force_login(member)
    for url in (LEGACY, f"{LEGACY}teams/ml/", f"{LEGACY}teams/ml/classifier/"):
        page = client.get(url).content.decode()
        assert "/orgs/acme/registry/" not in page, url
        assert "/orgs/acme/search/" not in page, url  # nor the search box, which finds it
    # A migrated version's page shows here instead of redirecting to a page that is off.
    version = client.get(f"{LEGACY}teams/ml/classifier/v0/")
    assert version.status_code == 200 and "is now collection" in version.content.decode()


def settings_with(value: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBUG": "true", "ENABLE_REGISTRY_UI": value}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import registry_site.settings as s; print(s.ENABLE_REGISTRY_UI)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(("value", "read"), [("false", "False"), ("0", "False"), ("true", "True")])
def test_the_variable_is_read_from_the_environment(value, read):
    result = settings_with(value)
    assert result.returncode == 0 and result.stdout.strip() == read


def test_the_variable_is_a_strict_boolean():
    result = settings_with("nope")
    assert result.returncode != 0
    assert "ENABLE_REGISTRY_UI='nope' is not a boolean" in result.stderr
