"""What a user may not see answers exactly as what does not exist: the same status, the same body
once the name asked for is put back, the same headers (but the per-request Date, X-Request-ID and
cookie values). For every API endpoint and page that takes a registry, collection, version,
project, run, automation or legacy team, asked for by an outsider (signed in, in no
organization), a member of another organization, and a member of acme who lacks the grant or the
team."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import resolve

from apps.accounts.models import ApiToken, OrganizationRole
from apps.automations import services as automations
from apps.lineage.services import start_run
from registry_site.api import urlpatterns
from tests.factories import (
    make_legacy_model,
    make_link,
    make_member,
    make_organization,
    make_project,
    make_registry,
    make_team,
    make_user,
    make_version,
)
from tests.test_every_view import VIEWS

API = "/api/v1/orgs/acme/registries/secret"
LINKED = f"{API}/collections/c/versions/v0"
PROJECT = "/api/v1/orgs/acme/teams/ml/projects/mnist"
# (method, path, JSON body): the restricted registry `secret`, missing as `secrex`.
REGISTRY_ENDPOINTS = [
    ("GET", f"{API}/", None),
    ("GET", f"{API}/collections/", None),
    ("GET", f"{API}/collections/c/", None),
    ("PATCH", f"{API}/collections/c/", {"description": "x"}),
    ("GET", f"{API}/collections/c/versions/", None),
    ("POST", f"{API}/collections/c/versions/", {"version": "{uid}"}),
    ("GET", f"{LINKED}/", None),
    ("PATCH", f"{LINKED}/", {"description": "x"}),
    ("DELETE", f"{LINKED}/", None),
    ("POST", f"{LINKED}/aliases/", {"alias": "staging"}),
    ("DELETE", f"{LINKED}/aliases/prod/", None),
    ("POST", f"{LINKED}/tags/", {"tags": ["t"]}),
    ("DELETE", f"{LINKED}/tags/t/", None),
    ("GET", f"{LINKED}/files/weights.bin", None),
    ("GET", f"{LINKED}/zip/", None),
    ("GET", "/api/v1/resolve/?path=acme/secret/c:v0", None),
    ("GET", "/api/v1/resolve/?path=acme/secret/c:prod", None),
    (
        "POST",
        "/api/v1/orgs/acme/teams/ml/projects/mnist/runs/{run}/inputs/",
        {"path": "acme/secret/c"},
    ),
    ("GET", "/api/v1/orgs/acme/automations/?registry=secret", None),
    ("GET", "/api/v1/orgs/acme/automations/?registry=secret&collection=c", None),
    (
        "POST",
        "/api/v1/orgs/acme/automations/",
        {"name": "n", "event": "LINK_ARTIFACT", "webhook": "ml/hook", "scope": "acme/secret/c"},
    ),
]
# Team ml's project mnist, missing as `mnisx`; its runs and versions by id.
PROJECT_ENDPOINTS = [
    ("POST", f"{PROJECT}/artifacts/model/versions/", {"files": []}),
    ("POST", f"{PROJECT}/runs/", {}),
    ("POST", f"{PROJECT}/runs/{{run}}/finish/", {}),
    ("POST", f"{PROJECT}/runs/{{run}}/inputs/", {"path": "acme/model/classifier"}),
    ("GET", "/api/v1/resolve/?path=acme/mnist/model-registry/classifier:v0", None),
]
ID_ENDPOINTS = [("POST", "/api/v1/versions/{uid}/commit/", {})]
# The automation on `secret`, by its id; missing as an id no automation has.
AUTOMATION = "/api/v1/orgs/acme/automations/{automation}"
AUTOMATION_ENDPOINTS = [
    ("GET", f"{AUTOMATION}/", None),
    ("PATCH", f"{AUTOMATION}/", {"paused": True}),
    ("DELETE", f"{AUTOMATION}/", None),
    ("GET", f"{AUTOMATION}/executions/", None),
    ("POST", f"{AUTOMATION}/executions/{{uid}}/replay/", None),
]


@pytest.fixture
def world(organization, org_admin, member, project, settings):
    """A restricted registry `secret` with collection c, v0 aliased prod, and an automation
    that sends to team ml's webhook `hook`; team ml's project mnist with a run; team mnist (so
    named for the path's shape) with a legacy registered model."""
    secret = make_registry(organization, org_admin, "Secret", visibility="restricted")
    version = make_version(project, member)
    make_link(version, secret, org_admin, "c", aliases=["prod"])
    run = start_run(actor=member, project=project, name="r", job_type="train", config=None)
    legacy_team = make_team(organization, "mnist", maria="member")
    make_legacy_model(make_project(legacy_team, "p"), member)
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    hook = automations.create_webhook(
        actor=org_admin, team=project.team, name="hook", url="http://127.0.0.1:9/"
    )
    automation = automations.create_automation(
        actor=org_admin,
        organization=organization,
        name="watch",
        event="LINK_ARTIFACT",
        webhook=hook,
        registry=secret,
        payload="{}",
    )
    return {"{uid}": str(version.uid), "{run}": run.run_id, "{automation}": str(automation.pk)}


@pytest.fixture
def strangers(organization, member, viewer):
    """Who asks: a user in no organization, an admin of another organization, and acme's member
    (no grant on `secret`) and viewer (not in team ml)."""
    nobody = make_user("nobody")
    other = make_member(make_organization("globex"), "oscar", OrganizationRole.ADMIN)
    return {"nobody": nobody, "other-org": other, "member": member, "viewer": viewer}


def ask(user, method: str, path: str, body, *, api: bool):
    client = Client()
    headers = {}
    if api:
        _, token = ApiToken.issue(user, "probe")
        headers["Authorization"] = f"Bearer {token}"
    else:
        client.force_login(user)
    data = json.dumps(body) if body is not None else None
    return client.generic(
        method, path, data or "", content_type="application/json", headers=headers
    )


PER_REQUEST = {"Date", "X-Request-ID", "Set-Cookie"}
TOKEN = re.compile(r"[A-Za-z0-9]{32,}")


def shape(response, name_asked: str, placeholder: str) -> tuple:
    """What an asker sees, with the name asked for replaced and per-request values removed."""
    body = TOKEN.sub("TOKEN", response.content.decode().replace(name_asked, placeholder))
    headers = {k: v for k, v in response.items() if k not in PER_REQUEST}
    headers.pop("Content-Length", None)  # follows the body, compared above
    return response.status_code, body, headers, sorted(response.cookies)


def assert_alike(user, method, path, body, hidden: str, missing: str, *, api: bool):
    def fill(text: str, name: str) -> str:
        return text.replace(hidden, name)

    filled = json.loads(fill(json.dumps(body), missing)) if body is not None else None
    seen = ask(user, method, path, body, api=api)
    absent = ask(user, method, fill(path, missing), filled, api=api)
    assert seen.status_code == 404, (method, path, seen.status_code)
    assert shape(seen, hidden, "NAME") == shape(absent, missing, "NAME"), (method, path)


def with_ids(text: str, ids: dict[str, str]) -> str:
    for key, value in ids.items():
        text = text.replace(key, value)
    return text


def cases(endpoints, ids):
    for method, path, body in endpoints:
        filled = json.loads(with_ids(json.dumps(body), ids)) if body is not None else None
        yield method, with_ids(path, ids), filled


@pytest.mark.parametrize("who", ["nobody", "other-org", "member"])
def test_api_hidden_registries_answer_as_missing_ones(world, strangers, who):
    for method, path, body in cases(REGISTRY_ENDPOINTS, world):
        assert_alike(strangers[who], method, path, body, "secret", "secrex", api=True)


@pytest.mark.parametrize("who", ["nobody", "other-org", "viewer"])
def test_api_hidden_projects_and_versions_answer_as_missing_ones(world, strangers, who):
    user = strangers[who]
    for method, path, body in cases(PROJECT_ENDPOINTS, world):
        assert_alike(user, method, path, body, "mnist", "mnisx", api=True)
    for method, path, body in cases(ID_ENDPOINTS, world):
        assert_alike(user, method, path, body, world["{uid}"], str(uuid.uuid4()), api=True)


@pytest.mark.parametrize("who", ["nobody", "other-org"])
def test_api_hidden_organizations_answer_as_missing_ones(world, strangers, who):
    endpoints = [("GET", "/api/v1/orgs/acme/registries/", None)]
    endpoints += [(m, p.replace("secret", "model"), b) for m, p, b in REGISTRY_ENDPOINTS]
    for method, path, body in cases(endpoints, world):
        assert_alike(strangers[who], method, path, body, "acme", "acmf", api=True)


@pytest.mark.parametrize("who", ["nobody", "other-org", "member"])
def test_api_hidden_automations_answer_as_missing_ones(world, strangers, who):
    hidden = f"automations/{world['{automation}']}"
    for method, path, body in cases(AUTOMATION_ENDPOINTS, world):
        assert_alike(strangers[who], method, path, body, hidden, "automations/99999", api=True)


# Every page of test_every_view, in the restricted registry (or team ml's project and legacy
# registry, hidden from acme's viewer).
PAGES = [
    (path.replace("/registry/model", "/registry/secret").replace("/classifier", "/c"), methods)
    for path, methods in VIEWS
]


# What each asker may not see, as (the name, a missing name of the same shape).
HIDDEN_FROM = {
    "nobody": [("acme", "acmf"), ("secret", "secrex"), ("/ml/", "/mx/")],
    "other-org": [("acme", "acmf"), ("secret", "secrex"), ("/ml/", "/mx/")],
    "member": [("secret", "secrex")],
    "viewer": [("/ml/", "/mx/")],
}


@pytest.mark.parametrize("who", HIDDEN_FROM)
def test_pages_hidden_answer_as_missing_ones(world, strangers, who):
    pages = [
        *PAGES,
        (f"/orgs/acme/lineage/{world['{uid}']}/", {"GET"}),
        (f"/orgs/acme/projects/ml/mnist/runs/{world['{run}']}/", {"GET"}),
    ]
    for path, methods in pages:
        for hidden, missing in HIDDEN_FROM[who]:
            if hidden in path:
                for method in methods:
                    body = {} if method == "POST" else None
                    assert_alike(strangers[who], method, path, body, hidden, missing, api=False)


# Routes that take nothing another user could own: the documents, content-addressed blobs and
# the caller's own uploads (found by their uploader as well as their id).
NAMES_NOTHING = {"api-openapi", "api-docs", "api-blob", "api-blob-uploads", "api-upload"}


def test_every_api_route_is_probed_above():
    """A new endpoint that takes a registry, collection, version, project or run must join the
    lists above, so that it is held to the same rule."""
    samples = {"{uid}": str(uuid.uuid4()), "{run}": "r", "{automation}": "1"}
    probed = {
        resolve(with_ids(path, samples).split("?")[0]).url_name
        for _, path, _ in [
            *REGISTRY_ENDPOINTS,
            *PROJECT_ENDPOINTS,
            *ID_ENDPOINTS,
            *AUTOMATION_ENDPOINTS,
        ]
    }
    probed.add("api-registries")  # in test_api_hidden_organizations_answer_as_missing_ones
    assert {route.name for route in urlpatterns} - NAMES_NOTHING - probed == set()
