"""The API's lists page in the order asked, ties broken by primary key, every row once. Apart
from tests/search/test_api.py: their rows, many collections in Models, would be among the ones
its filters are checked against there, which its module shares."""

from __future__ import annotations

import pytest

from apps.registries.models import Collection, CollectionTag, Link, Registry
from tests.factories import make_link, make_version
from tests.search.test_api import COLLECTIONS, at, expected_order, names


@pytest.fixture(scope="module")
def shared_many(acme):
    """Nine collections in Models made on three days and updated on two (ties, which the
    primary key orders), tagged skip every third; and a tenth, `versions`, of nine versions
    linked on three days. Made once for the module, on its shared personas
    (tests/search/conftest.py)."""
    member, project = acme.member, acme.project
    models_registry = acme.organization.registries.get(slug="model")
    Collection.objects.bulk_create(
        Collection(registry=models_registry, name=f"c{n}", artifact_type="model") for n in range(9)
    )
    rows = list(models_registry.collections.order_by("name"))
    for n, row in enumerate(rows):
        row.created_at, row.updated_at = at(f"2024-0{1 + n % 3}-01"), at(f"2025-0{1 + n % 2}-01")
    Collection.objects.bulk_update(rows, ["created_at", "updated_at"])
    CollectionTag.objects.bulk_create(
        CollectionTag(collection=row, name="skip") for row in rows[::3]
    )
    links = [
        make_link(make_version(project, member), models_registry, member, "versions")
        for _ in range(9)
    ]
    for n, row in enumerate(links):
        Link.objects.filter(pk=row.pk).update(linked_at=at(f"2024-0{1 + n // 4}-01"))
    return models_registry


@pytest.fixture
def many(db, shared_many) -> Registry:
    """The shared Models registry, read afresh so that a test may change its copy."""
    return Registry.objects.get(pk=shared_many.pk)


@pytest.mark.parametrize("limit", [1, 4])
@pytest.mark.parametrize(
    "order",
    [
        "+name",
        "-name",
        "+created_at",
        "-created_at",
        "+updated_at",
        "-updated_at",
        "name",
        " updated_at",
    ],
)
@pytest.mark.parametrize("data", [None, {"tag": {"$ne": "skip"}}])
def test_collection_pages_follow_the_order(client, many, member, order, limit, data):
    field = order.strip().lstrip("+-")
    rows = Collection.objects.filter(registry=many)
    if data:
        rows = rows.exclude(tags__name="skip")
    rows = expected_order(rows.values("pk", "name", field), field, order.startswith("-"))
    params = {"order": order, "limit": limit, **({"filter": data} if data else {})}
    found = names(client, member, "collection", **params)
    assert found == [row["name"] for row in rows] and len(found) == len(set(found))


@pytest.mark.parametrize("order", ["+version", "-version", "+created_at", "-created_at"])
def test_version_pages_follow_the_order(client, many, member, order):
    field = {"version": "number", "created_at": "linked_at"}[order[1:]]
    rows = Link.objects.filter(collection__name="versions").values("pk", "number", field)
    expected = [f"v{row['number']}" for row in expected_order(rows, field, order[0] == "-")]
    url = f"{COLLECTIONS}versions/versions/"
    assert names(client, member, "version", url, order=order, limit=2) == expected
