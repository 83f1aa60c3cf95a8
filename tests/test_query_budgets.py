"""Every page and API read asks the database a fixed number of questions, however much data.

Each budget is pinned exactly (a change that adds a query must say so here), measured once on
a small organization and again after it has grown, so that no read issues more queries as the
data grows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import ApiToken, TeamRole
from apps.lineage.models import Run
from apps.lineage.services import record_input
from apps.registries.services import add_version_tags, set_alias
from tests.factories import (
    make_link,
    make_member,
    make_personas,
    make_registry,
    make_version,
)

REG = "/orgs/acme/registry/model"
COL = f"{REG}/classifier"
API = "/api/v1/orgs/acme/registries/model"
LINKED = f"{API}/collections/classifier/versions/v0"
RUN_ID = "budget-run"

# The tests only check the module's readings, but pytest-django sets up the test database only
# for tests that ask for it.
pytestmark = pytest.mark.django_db


def filtered(path: str, data: dict, order: str) -> str:
    """The list at `path` with a filter JSON and an order, two rows a page."""
    return f"{path}?{urlencode({'filter': json.dumps(data), 'order': order, 'limit': 2})}"


# (path, queries) for pages, read by an organization admin (who sees every page). A paged list
# also counts its rows, in one COUNT query, for the pager's "Showing 41-60 of 1,234".
PAGES = [
    ("/orgs/acme/registry/", 10),
    (f"{REG}/", 8),
    (f"{REG}/settings/", 10),
    (f"{COL}/", 9),
    (f"{COL}/history/", 6),
    # Versions other than the baseline (production, on v0): it is read on its own.
    (f"{COL}/compare/?v=1&v=2", 10),
    (f"{COL}/v0/", 8),
    (f"{COL}/v0/metadata/", 7),
    (f"{COL}/v0/files/", 9),
    (f"{COL}/v0/usage/", 9),
    (f"{COL}/v0/lineage/", 17),
    (f"{COL}/v0/history/", 9),
    ("/orgs/acme/projects/ml/mnist/", 9),
    (f"/orgs/acme/projects/ml/mnist/runs/{RUN_ID}/", 8),
    ("/orgs/acme/audit/", 7),
    ("/orgs/acme/audit/?actor=maria&collection=classifier&action=link.create", 7),
    ("/orgs/acme/projects/ml/mnist/?artifact=model", 9),
    # Linked by a different person each time.
    ("/orgs/acme/registry/dataset/inputs/history/", 6),
    # Each kind's page of hits, more than a page of them: registries, collections, versions
    # (each kind first reads the ids of the registries the user sees, for the planner).
    ("/orgs/acme/search/?q=c", 11),
    ("/orgs/acme/search/?q=tag:a+OR+classifier&kind=version", 9),
]
# (path, queries) for the API, read with a member's token: the token, what the path names
# (with the policy's organization role), and the rows themselves.
API_READS = [
    ("/api/v1/orgs/acme/registries/", 5),
    (f"{API}/", 5),
    (f"{API}/collections/", 4),
    (f"{API}/collections/classifier/", 4),
    (f"{API}/collections/classifier/versions/", 4),
    (f"{LINKED}/", 4),
    ("/api/v1/resolve/?path=acme/model/classifier:production", 4),
    # Pages shorter than the data, each with a `next` cursor.
    (f"{API}/collections/?limit=2", 4),
    (f"{API}/collections/classifier/versions/?limit=2", 4),
    ("/api/v1/orgs/acme/registries/dataset/collections/inputs/versions/", 4),
    # Filtered and ordered: every condition is part of the one query of rows.
    (
        filtered(
            "/api/v1/orgs/acme/registries/",
            {"$or": [{"name": {"$regex": "^M"}}, {"description": {"$contains": "data"}}]},
            "-created_at",
        ),
        5,
    ),
    (
        filtered(
            f"{API}/collections/",
            {"$and": [{"tag": {"$ne": "x"}}, {"$not": {"name": {"$contains": "zz"}}}]},
            "-updated_at",
        ),
        4,
    ),
    (
        filtered(
            f"{API}/collections/classifier/versions/",
            {
                "$or": [{"alias": "production"}, {"tag": "a", "metrics.acc": {"$gte": 0.5}}],
                "metadata.x": {"$exists": False},
                "created_at": {"$gt": "2000-01-01"},
            },
            "+created_at",
        ),
        4,
    ),
]


def organization_grower(organization, team, project, member):
    """A way to grow the organization: each call links `n` more versions into `classifier`
    (the first taking `production`), with tags, each used by a run, and adds `n` collections;
    and `n` new people, each in team `ml`, with a registry of their own, a run that logs a
    dataset and links it into another collection, and a report the budget run logged."""
    models_registry = organization.registries.get(slug="model")
    run = Run.objects.create(project=project, run_id=RUN_ID, name="budget", created_by=member)

    def grow(n: int) -> None:
        for _ in range(n):
            version = make_version(project, member, metrics={"acc": 0.5, "loss": 0.1})
            link = make_link(version, models_registry, member, "classifier")
            add_version_tags(actor=member, link=link, tags=["a", "b"])
            record_input(actor=member, run=run, version=version)
            make_link(make_version(project, member), models_registry, member, f"c{link.pk}")
            person = make_member(organization)
            team.add_member(person, TeamRole.MEMBER)
            make_registry(organization, person, artifact_types=["dataset"])
            their_run = Run.objects.create(project=project, name="prep", created_by=person)
            dataset = make_version(project, person, f"data-{person.pk}", "dataset", run=their_run)
            make_link(dataset, organization.registries.get(slug="dataset"), person, "inputs")
            make_version(project, member, "report", "report", run=run)
        if not models_registry.collections.get(name="classifier").aliases.filter(name="production"):
            first = models_registry.collections.get(name="classifier").links.get(number=0)
            set_alias(actor=member, link=first, name="production")

    return grow


class Reading(NamedTuple):
    """What a read answered, and how many queries it asked."""

    status: int
    queries: int
    content: bytes  # the answer's start, to show when it is not a 200


def read(client: Client, path: str) -> Reading:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    return Reading(response.status_code, len(queries), response.content[:300])


@pytest.fixture(scope="module")
def readings(rows_for_the_module) -> Iterator[dict[str, tuple[Reading, Reading]]]:
    """Each path of PAGES and API_READS read on a small organization, then again after it has
    grown: the pages by an organization admin, the API with a member's token. Growing is most of
    the cost and the same for every path, so the module grows one organization and reads every
    path at each size; each path's test then checks its own pair."""
    with rows_for_the_module():
        acme = make_personas()
        org_admin, member = acme.org_admin, acme.member
        grow = organization_grower(acme.organization, acme.team, acme.project, member)
        pages = Client()
        pages.force_login(org_admin)
        _, token = ApiToken.issue(member, "budget")
        api = Client(headers={"Authorization": f"Bearer {token}"})
        reads = [(pages, path) for path, _ in PAGES] + [(api, path) for path, _ in API_READS]
        grow(3)
        small = {}
        for client, path in reads:
            # Warm: sessions and caches settle, and the token's first use is recorded.
            client.get(path)
            small[path] = read(client, path)
        grow(12)
        yield {path: (small[path], read(client, path)) for client, path in reads}


def assert_within_budget(readings, path: str, budget: int) -> None:
    small, grown = readings[path]
    for reading in (small, grown):
        assert reading.status == 200, (path, reading.content)
    assert (small.queries, grown.queries) == (budget, budget), path


@pytest.mark.parametrize(("path", "budget"), PAGES)
def test_each_page_has_a_fixed_query_budget(readings, path, budget):
    assert_within_budget(readings, path, budget)


@pytest.mark.parametrize(("path", "budget"), API_READS)
def test_each_api_read_has_a_fixed_query_budget(readings, path, budget):
    assert_within_budget(readings, path, budget)
