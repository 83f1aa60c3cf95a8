"""The search page finds what the registry landing page's own search found. Apart from
tests/search/test_pages.py: the catalogue that module shares holds an alias `production`,
which this test's query `prod` would find too."""

from __future__ import annotations

from apps.accounts.models import Visibility
from tests.factories import make_link, make_registry, make_version
from tests.search.test_pages import URL


def test_it_finds_what_the_landing_pages_search_found(
    client, organization, org_admin, member, project
):
    """Names, collection tags, aliases and version tags, by part of a word; never what is
    hidden (the landing page's own search, which this one replaced, did the same)."""
    from apps.registries.services import add_collection_tags, add_version_tags, set_alias

    models = organization.registries.get(slug="model")
    link = make_link(make_version(project, member), models, member, "resnet-prod")
    set_alias(actor=member, link=link, name="prod-eu")
    add_collection_tags(actor=member, collection=link.collection, tags=["vision"])
    add_version_tags(actor=member, link=link, tags=["prod-ready"])
    closed = make_registry(
        organization, org_admin, "Prod Secrets", visibility=Visibility.RESTRICTED
    )
    make_link(make_version(project, org_admin), closed, org_admin, "prod-hidden")
    client.force_login(member)
    groups = {g.kind: g.hits for g in client.get(URL, {"q": "prod"}).context["groups"]}
    assert [hit.row.name for hit in groups["collection"]] == ["resnet-prod"]
    assert [hit.row.number for hit in groups["version"]] == [0]
    assert "registry" not in groups
    by_tag = {g.kind: g.hits for g in client.get(URL, {"q": "vision"}).context["groups"]}
    assert [hit.row.name for hit in by_tag["collection"]] == ["resnet-prod"]
    for query in ("prod-eu", "prod-ready"):
        [version] = client.get(URL, {"q": query, "kind": "version"}).context["groups"]
        assert [hit.row.collection.name for hit in version.hits] == ["resnet-prod"]
