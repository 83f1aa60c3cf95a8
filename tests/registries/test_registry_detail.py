from __future__ import annotations

import pytest

from apps.accounts.models import Visibility
from apps.registries.models import Collection
from apps.registries.services import add_collection_tags, create_collection
from tests.factories import make_link, make_registry, make_version

URL = "/orgs/acme/registry/model/"


def names(response) -> list[str]:
    return [c.name for c in response.context["collections"]]


@pytest.fixture
def collections(models_registry, member):
    made = {}
    for name, tags in [("alpha", ["vision"]), ("beta", ["nlp"]), ("gamma", ["vision", "cnn"])]:
        made[name] = create_collection(
            actor=member, registry=models_registry, name=name, artifact_type="model", tags=tags
        )
    return made


def test_anonymous_users_go_to_login(client, models_registry):
    assert client.get(URL).status_code == 302


def test_outsiders_and_the_uninvited_get_not_found(
    client, organization, org_admin, outsider, member
):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404
    make_registry(organization, org_admin, "Closed", visibility=Visibility.RESTRICTED)
    client.force_login(member)
    assert client.get("/orgs/acme/registry/closed/").status_code == 404


def test_it_rejects_other_methods(client, member, models_registry):
    client.force_login(member)
    assert client.put(URL).status_code == 405


@pytest.mark.parametrize("persona", ["viewer", "member", "org_admin"])
def test_everyone_who_can_see_lists_collections(client, request, persona, collections):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    assert sorted(names(response)) == ["alpha", "beta", "gamma"]


def test_it_filters_by_text_tag_and_type(client, member, collections):
    client.force_login(member)
    assert names(client.get(URL, {"q": "ALP"})) == ["alpha"]
    assert names(client.get(URL, {"tag": "vision", "sort": "name"})) == ["alpha", "gamma"]
    assert names(client.get(URL, {"type": "dataset"})) == []


def test_it_sorts(client, member, collections):
    client.force_login(member)
    assert names(client.get(URL, {"sort": "-name"})) == ["gamma", "beta", "alpha"]
    add_collection_tags(actor=member, collection=collections["beta"], tags=["fresh"])
    assert names(client.get(URL))[0] == "beta"


def test_it_counts_live_versions(client, member, project, models_registry):
    for _ in range(2):
        make_link(make_version(project, member), models_registry, member, "counted")
    client.force_login(member)
    (collection,) = client.get(URL).context["collections"]
    assert collection.version_count == 2


def test_keyset_pages_cover_every_collection_once(client, member, models_registry, monkeypatch):
    monkeypatch.setattr("apps.registries.views.registry.COLLECTIONS_PER_PAGE", 4)
    Collection.objects.bulk_create(
        Collection(registry=models_registry, name=f"c{n:02}", artifact_type="model")
        for n in range(10)
    )
    client.force_login(member)
    seen, query = [], {"sort": "name"}
    while True:
        response = client.get(URL, query)
        seen += names(response)
        if not response.context["pager"]["next_query"]:
            break
        query = response.context["pager"]["next_query"]
        response = client.get(f"{URL}?{query}")
        seen += names(response)
        if not response.context["pager"]["next_query"]:
            break
        query = dict(pair.split("=") for pair in response.context["pager"]["next_query"].split("&"))
    assert seen == [f"c{n:02}" for n in range(10)]


def test_an_htmx_request_gets_only_the_table(client, member, collections):
    client.force_login(member)
    response = client.get(URL, {"q": "a"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="collection-table">') and "<html" not in html
    assert response["Vary"] == "HX-Request, Cookie"


def test_a_member_creates_a_collection(client, member, models_registry):
    client.force_login(member)
    response = client.post(
        URL, {"name": "new-model", "artifact_type": "model", "tags": "a, b", "description": "x"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/orgs/acme/registry/model/new-model/"
    collection = Collection.objects.get(name="new-model")
    assert sorted(collection.tags.values_list("name", flat=True)) == ["a", "b"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "a/b", "artifact_type": "model"}, "name", "may not contain"),
        ({"name": "settings", "artifact_type": "model"}, "name", "reserved"),
        ({"name": "ok", "artifact_type": "dataset"}, "artifact_type", "Select a valid choice"),
        ({"name": "ok", "artifact_type": "model", "tags": "a,b!"}, "tags", "Tag 'b!' is invalid"),
    ],
)
def test_bad_input_is_shown_next_to_the_field(
    client, member, models_registry, data, field, message
):
    client.force_login(member)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Collection.objects.exists()


def test_a_duplicate_name_is_refused_on_the_name_field(client, member, collections):
    client.force_login(member)
    response = client.post(URL, {"name": "alpha", "artifact_type": "model"})
    assert "already has a collection" in response.context["form"].errors["name"][0]


def test_a_viewer_may_not_create(client, viewer, models_registry):
    client.force_login(viewer)
    response = client.post(URL, {"name": "x", "artifact_type": "model"})
    assert response.status_code == 403
    assert b"needs the member role" in response.content
    assert not Collection.objects.exists()


def test_the_query_count_does_not_grow_with_collections(
    client, member, models_registry, django_assert_num_queries
):
    """Intended to prevent an n+1 over collections, their tags and version counts. Two of the
    queries: the pager's COUNT, and the header's navigation asking whether a member
    administers a team (its Migration link)."""
    client.force_login(member)
    create_collection(actor=member, registry=models_registry, name="first", artifact_type="model")
    client.get(URL)
    with django_assert_num_queries(10):
        client.get(URL)
    for n in range(20):
        create_collection(
            actor=member, registry=models_registry, name=f"c{n}", artifact_type="model", tags=["t"]
        )
    with django_assert_num_queries(10):
        client.get(URL)
