"""The client walks registries → collections → versions as W&B's SDK does, filtered and
ordered by the server, a page at a time and only as far as it is iterated."""

from __future__ import annotations

import pytest

from apps.accounts.models import Visibility
from apps.registries.services import add_collection_tags, set_alias
from registry.client import Client, Collection, Registry, RegistryError, Version
from tests.factories import make_link, make_registry, make_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catalogue(organization, org_admin, member, project, models_registry):
    """In Models, resnet (tagged vision; v1 production, acc 0.9) and bert; five more
    collections; and a restricted registry `member` may not see."""
    for n in range(2):
        version = make_version(project, member, metrics={"acc": 0.8 + n / 10})
        link = make_link(version, models_registry, member, "resnet")
    set_alias(actor=org_admin, link=link, name="production")
    add_collection_tags(actor=org_admin, collection=link.collection, tags=["vision"])
    for name in ["bert", "c1", "c2", "c3", "c4", "c5"]:
        make_link(make_version(project, member), models_registry, member, name)
    make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)


@pytest.fixture
def requests(monkeypatch):
    """The API requests the client sends, as (route, query)."""
    sent, send = [], Client.api

    def api(self, method, route, payload=None, query=None, idempotent=None):
        sent.append((route, dict(query or {})))
        return send(self, method, route, payload, query, idempotent)

    monkeypatch.setattr(Client, "api", api)
    return sent


def test_registries_collections_versions(connection, catalogue):
    [models] = Client().registries("acme", filter={"name": {"$regex": "^Mod"}})
    assert isinstance(models, Registry) and models.path == "acme/model" and models.core
    [resnet] = models.collections(filter={"tag": "vision"})
    assert isinstance(resnet, Collection) and resnet.tags == ["vision"]
    found = resnet.versions(filter={"alias": "production", "metrics.acc": {"$gte": 0.85}})
    [version] = found
    assert isinstance(version, Version) and version.path == "acme/model/resnet:v1"
    assert version.aliases == ["latest", "production"] and version.metrics == {"acc": 0.9}
    oldest_first = [v.version for v in resnet.versions(order="+version")]
    assert oldest_first == ["v0", "v1"] and repr(resnet) == "Collection('acme/model/resnet')"


def test_what_the_user_may_not_see_is_not_listed(connection, catalogue):
    assert [r.name for r in Client().registries("acme")] == ["Datasets", "Models"]


def test_pages_are_fetched_only_as_iteration_reaches_them(connection, catalogue, requests):
    [models] = Client().registries("acme", filter={"name": "Models"})
    listing = models.collections(order="-name", per_page=3)
    requests.clear()
    rows = iter(listing)
    assert requests == []  # nothing is asked before iterating
    assert [next(rows).name for _ in range(3)] == ["resnet", "c5", "c4"]
    assert len(requests) == 1
    assert next(rows).name == "c3"
    assert len(requests) == 2 and "cursor" in requests[1][1]
    assert [row.name for row in rows] == ["c2", "c1", "bert"]
    assert len(requests) == 3
    assert requests[0][1] == {"order": "-name", "limit": 3}


def test_a_bad_filter_says_what_is_wrong(connection, catalogue):
    with pytest.raises(RegistryError) as caught:
        list(Client().registries("acme", filter={"alias": "production"}))
    assert caught.value.status == 400 and caught.value.code == "invalid_filter"
    assert "no field 'alias'" in caught.value.message
