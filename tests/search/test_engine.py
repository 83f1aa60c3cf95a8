"""Search finds what the query says among what the user may see, best first, saying why."""

from __future__ import annotations

import pytest

from apps.accounts.models import Visibility
from apps.registries.models import Link
from apps.registries.services import add_collection_tags, add_version_tags, set_alias
from apps.search.engine import search
from apps.search.query import parse
from tests.factories import make_link, make_registry, make_version


@pytest.fixture(scope="module")
def shared_catalogue(acme):
    """resnet (v0 tagged cnn; v1 production, accuracy 0.93) and resnet-old in Models, bert in
    Models, and a secret collection in a restricted registry only the admin sees; made once for
    the module, on its shared personas (tests/search/conftest.py)."""
    organization, org_admin, member = acme.organization, acme.org_admin, acme.member
    project, models_registry = acme.project, organization.registries.get(slug="model")

    def link(collection, registry=models_registry, metrics=None, metadata=None):
        version = make_version(project, member, metrics=metrics or {}, metadata=metadata or {})
        return make_link(version, registry, org_admin, collection)

    first = link("resnet", metrics={"accuracy": 0.81}, metadata={"framework": "pytorch"})
    add_version_tags(actor=org_admin, link=first, tags=["cnn"])
    second = link("resnet", metrics={"accuracy": 0.93}, metadata={"framework": "pytorch"})
    set_alias(actor=org_admin, link=second, name="production")
    link("resnet-old")
    bert = link("bert", metrics={"accuracy": 0.88}, metadata={"framework": "transformers"})
    add_collection_tags(actor=org_admin, collection=bert.collection, tags=["nlp", "wip"])
    hidden = make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    link("resnet-secret", registry=hidden, metrics={"accuracy": 0.99})
    return {"first": first, "second": second, "bert": bert}


@pytest.fixture
def catalogue(db, shared_catalogue):
    """The shared catalogue's links, read afresh so that a test may change its copies."""
    return {name: Link.objects.get(pk=link.pk) for name, link in shared_catalogue.items()}


def names(user, organization, text, kind):
    page = search(user, organization, parse(text), kinds=(kind,)).pages[kind]
    if kind == "version":
        return [f"{hit.row.collection.name}:v{hit.row.number}" for hit in page.items]
    return [hit.row.name for hit in page.items]


@pytest.mark.parametrize(
    ("text", "kind", "found"),
    [
        ("resnet", "collection", ["resnet", "resnet-old"]),
        ("tag:cnn", "version", ["resnet:v0"]),
        ("tag:cnn OR tag:nowhere", "version", ["resnet:v0"]),
        ("tag:nowhere OR tag:nothing", "version", []),
        ("tag:cnn -tag:nowhere", "version", ["resnet:v0"]),
        ("tag:cnn alias:production", "version", []),
        ("tag:cnn OR alias:production", "version", ["resnet:v0", "resnet:v1"]),
        ("alias:production", "version", ["resnet:v1"]),
        ("alias:production", "collection", ["resnet"]),
        ("resnet OR bert", "collection", ["bert", "resnet", "resnet-old"]),
        ("tag:nlp OR alias:production", "collection", ["bert", "resnet"]),
        ("metric.accuracy>=0.9", "version", ["resnet:v1"]),
        ("metric.accuracy>0.8 -alias:production", "version", ["bert:v0", "resnet:v0"]),
        ("metadata.framework:transformers", "version", ["bert:v0"]),
        ("(tag:nlp OR tag:cnn) -tag:wip", "collection", []),
        ("registry:model type:model resnet", "collection", ["resnet", "resnet-old"]),
        ("Models", "registry", ["Models"]),
        ("alias:production", "registry", []),
    ],
)
def test_what_a_query_finds(catalogue, member, organization, text, kind, found):
    assert sorted(names(member, organization, text, kind)) == found


def test_what_the_user_may_not_see_is_never_found(catalogue, member, org_admin, organization):
    assert "resnet-secret" not in names(member, organization, "resnet", "collection")
    assert names(member, organization, "metric.accuracy>=0.95", "version") == []
    assert names(member, organization, "Secret", "registry") == []
    assert names(org_admin, organization, "metric.accuracy>=0.95", "version") == [
        "resnet-secret:v0"
    ]


def test_an_outsider_finds_nothing(catalogue, outsider, organization):
    results = search(outsider, organization, parse("resnet"))
    assert results.empty


def test_exact_names_come_first_then_prefixes(catalogue, org_admin, organization):
    assert names(org_admin, organization, "resnet", "collection")[0] == "resnet"
    assert names(org_admin, organization, "old", "collection") == ["resnet-old"]


def test_versions_come_by_their_collections_name_then_newest_first(catalogue, member, organization):
    # Exact collection name, then a name starting with the word, newest first in each.
    assert names(member, organization, "resnet", "version") == [
        "resnet:v1", "resnet:v0", "resnet-old:v0"
    ]  # fmt: skip
    assert names(member, organization, "old", "version") == ["resnet-old:v0"]


def test_versions_keep_tier_then_newest_order_across_pages(
    catalogue, org_admin, member, project, models_registry, organization
):
    """Pages of two, forwards and back, read the ranked list in one order: the exact name's
    links, then the prefix's, then links found otherwise (a collection containing the word, a
    version's tag), newest first in each, even where a lower tier holds the newest link."""
    version = make_version(project, member)
    make_link(version, models_registry, org_admin, "my-resnet")  # contains the word: tier 0
    add_version_tags(actor=org_admin, link=catalogue["bert"], tags=["resnet-ish"])  # tier 0
    make_link(make_version(project, member), models_registry, org_admin, "resnet-old")
    expected = [
        "resnet:v1",
        "resnet:v0",
        "resnet-old:v1",
        "resnet-old:v0",
        "my-resnet:v0",
        "bert:v0",
    ]
    assert names(member, organization, "resnet", "version") == expected

    def page(cursor=None):
        cursors = {"version": cursor} if cursor else None
        return search(
            member, organization, parse("resnet"), kinds=("version",), size=2, cursors=cursors
        ).pages["version"]

    def label(hit):
        return f"{hit.row.collection.name}:v{hit.row.number}"

    forwards, pages, cursor = [], [], None
    while True:
        pages.append(page(cursor))
        forwards += [label(hit) for hit in pages[-1].items]
        cursor = pages[-1].next_cursor
        if not cursor:
            break
    assert forwards == expected
    back = page(pages[-1].previous_cursor)
    assert [label(hit) for hit in back.items] == expected[2:4]


def test_each_hit_says_why_it_matched(catalogue, member, organization):
    [hit] = (
        search(member, organization, parse("resnet alias:production"), kinds=("version",))
        .pages["version"]
        .items
    )
    assert hit.reasons == ["“resnet”", "alias is production"]


def test_results_come_in_keyset_pages(catalogue, org_admin, organization):
    query = parse("resnet OR bert")
    first = search(org_admin, organization, query, kinds=("version",), size=2).pages["version"]
    assert len(first.items) == 2 and first.next_cursor
    rest = search(
        org_admin, organization, query, kinds=("version",), size=2,
        cursors={"version": first.next_cursor},
    ).pages["version"]  # fmt: skip
    seen = [hit.row.pk for hit in first.items + rest.items]
    assert len(seen) == len(set(seen)) == 4  # resnet v0 and v1, resnet-old v0, bert v0


def test_a_links_own_tags_match_on_that_link_alone(catalogue, member, organization, project):
    """A migrated link's own tag (LinkTag) is found by tag:, by a bare word and by its
    negation on that link, not on another link of the same version."""
    from apps.registries.models import LinkTag

    first = catalogue["first"]  # resnet:v0, whose version is tagged cnn
    LinkTag.objects.create(link=first, name="legacy-gold")
    other = make_link(first.version, first.collection.registry, member, "resnet-copy")
    assert names(member, organization, "tag:legacy-gold", "version") == ["resnet:v0"]
    assert names(member, organization, "legacy-gold", "version") == ["resnet:v0"]
    assert names(member, organization, "tag:cnn", "version") == ["resnet-copy:v0", "resnet:v0"]
    unmarked = names(member, organization, "-tag:legacy-gold resnet", "version")
    assert "resnet:v0" not in unmarked and f"resnet-copy:v{other.number}" in unmarked
