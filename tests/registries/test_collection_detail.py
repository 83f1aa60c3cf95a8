from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Collection
from apps.registries.services import add_protected_alias, set_alias
from tests.factories import make_link, make_version

BASE = "/orgs/acme/registry/model/classifier/"


@pytest.fixture
def links(project, member, models_registry):
    """v0..v2 in Models/classifier, with accuracy 0.5, 0.9, 0.7 and v1 also logging `loss`."""
    metrics = [{"accuracy": 0.5}, {"accuracy": 0.9, "loss": 0.1}, {"accuracy": 0.7}]
    return [
        make_link(make_version(project, member, metrics=m), models_registry, member)
        for m in metrics
    ]


def numbers(response) -> list[int]:
    return [link.number for link in response.context["links"]]


def test_anonymous_outsider_and_wrong_method(client, links, outsider):
    assert client.get(BASE).status_code == 302
    client.force_login(outsider)
    assert client.get(BASE).status_code == 404
    assert client.post(BASE).status_code == 405


def test_an_unknown_collection_is_not_found(client, member, links):
    client.force_login(member)
    assert client.get("/orgs/acme/registry/model/nope/").status_code == 404


@pytest.mark.parametrize("persona", ["viewer", "member", "org_admin"])
def test_versions_are_listed_newest_first(client, request, persona, links):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(BASE)
    assert response.status_code == 200
    assert numbers(response) == [2, 1, 0]
    assert "latest" in response.context["links"][0].alias_names


def test_show_metrics_adds_sortable_columns(client, member, links):
    client.force_login(member)
    plain = client.get(BASE)
    assert b">accuracy<" not in plain.content
    response = client.get(BASE, {"metrics": "1", "sort": "-metric:accuracy"})
    assert response.context["metric_names"] == ["accuracy", "loss"]
    assert numbers(response) == [1, 2, 0]
    assert numbers(client.get(BASE, {"metrics": "1", "sort": "metric:accuracy"})) == [0, 2, 1]
    # Versions without the metric come last in either direction.
    assert numbers(client.get(BASE, {"sort": "metric:loss"}))[0] == 1
    assert numbers(client.get(BASE, {"sort": "-metric:loss"}))[0] == 1


def test_versions_page_by_keyset(client, member, links, monkeypatch):
    monkeypatch.setattr("apps.registries.views.collection.LINKS_PER_PAGE", 2)
    client.force_login(member)
    first = client.get(BASE, {"sort": "-metric:accuracy"})
    assert numbers(first) == [1, 2]
    second = client.get(f"{BASE}?{first.context['pager']['next_query']}")
    assert numbers(second) == [0] and second.context["pager"]["next_query"] is None


def test_protected_aliases_show_a_lock_and_hide_unlink_from_members(
    client, member, org_admin, links, models_registry
):
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    set_alias(actor=org_admin, link=links[1], name="production")
    client.force_login(member)
    response = client.get(BASE)
    rows = {link.number: link for link in response.context["links"]}
    assert rows[1].is_protected and not rows[1].can_unlink and rows[2].can_unlink
    assert b"chip-protected" in response.content
    assert not response.context["can_delete"]
    assert client.post(f"{BASE}v1/unlink/").status_code == 403


def test_a_member_unlinks_in_place(client, member, links):
    client.force_login(member)
    response = client.post(f"{BASE}v2/unlink/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="versions"') and "<html" not in html
    assert ">v2</a></th>" not in html and ">v1</a></th>" in html
    assert numbers(client.get(BASE)) == [1, 0]
    assert "latest" in client.get(BASE).context["links"][0].alias_names


def test_unlink_without_javascript_redirects(client, member, links):
    client.force_login(member)
    response = client.post(f"{BASE}v0/unlink/")
    assert response.status_code == 302 and response["Location"] == BASE
    assert client.post(f"{BASE}v0/unlink/").status_code == 404


def test_a_viewer_cannot_unlink_or_edit(client, viewer, links):
    client.force_login(viewer)
    assert client.post(f"{BASE}v0/unlink/").status_code == 403
    assert client.post(f"{BASE}tags/", {"tags": "x"}).status_code == 403
    assert client.post(f"{BASE}description/", {"description": "x"}).status_code == 403
    page = client.get(BASE)
    assert not page.context["can_edit"] and b"Unlink</button>" not in page.content


def test_tags_are_added_and_removed_in_place(client, member, links):
    client.force_login(member)
    response = client.post(f"{BASE}tags/", {"tags": "vision, cnn"}, headers={"HX-Request": "true"})
    assert response.content.decode().lstrip().startswith('<section id="card"')
    assert client.get(BASE).context["tags"] == ["cnn", "vision"]
    client.post(f"{BASE}tags/", {"remove": "cnn"})
    assert list(Collection.objects.get().tags.values_list("name", flat=True)) == ["vision"]


def test_a_bad_tag_is_shown_next_to_the_field(client, member, links):
    client.force_login(member)
    response = client.post(f"{BASE}tags/", {"tags": "ok, no!"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Tag &#x27;no!&#x27; is invalid" in response.content.decode()
    assert not Collection.objects.get().tags.exists()


def test_the_description_is_markdown_rendered_sanitized(client, member, links):
    client.force_login(member)
    client.post(
        f"{BASE}description/",
        {"description": "## Card\n\n<script>alert(1)</script>[x](javascript:alert(1))"},
    )
    html = client.get(BASE).content.decode()
    assert "<h2>Card</h2>" in html
    assert "<script>alert" not in html and "javascript:alert" not in html.split("<textarea")[0]
    assert AuditEvent.objects.filter(action=AuditAction.COLLECTION_UPDATE).exists()


def test_history_shows_who_moved_an_alias(client, member, links):
    set_alias(actor=member, link=links[0], name="staging")
    set_alias(actor=member, link=links[1], name="staging")
    client.force_login(member)
    html = client.get(BASE).content.decode()
    assert "Alias moved" in html and "from v0 to v1" in html


def test_deleting_needs_the_name_typed(client, member, links):
    client.force_login(member)
    assert client.get(f"{BASE}delete/").status_code == 200
    assert client.post(f"{BASE}delete/", {"confirm": "nope"}).status_code == 400
    response = client.post(f"{BASE}delete/", {"confirm": "classifier"})
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/registry/model/"
    assert not Collection.objects.exists()


def test_a_viewer_cannot_delete(client, viewer, links):
    client.force_login(viewer)
    assert client.post(f"{BASE}delete/", {"confirm": "classifier"}).status_code == 403


def test_the_query_count_does_not_grow_with_versions(
    client, member, project, models_registry, links, django_assert_num_queries
):
    """Intended to prevent an n+1 over links, their versions, aliases, tags and sources. Two
    more: the pager's COUNT, and the header's Migration check."""
    client.force_login(member)
    client.get(BASE, {"metrics": "1"})
    with django_assert_num_queries(11):
        client.get(BASE, {"metrics": "1"})
    for _ in range(10):
        make_link(make_version(project, member, metrics={"f1": 0.5}), models_registry, member)
    with django_assert_num_queries(11):
        client.get(BASE, {"metrics": "1"})


def test_rows_link_and_escape_odd_collection_names(client, member, project, models_registry):
    """The versions table is written by a tag, not a template: its URLs and text are escaped."""
    name = """a&b "c" <d> 'é' ?#%"""
    make_link(make_version(project, member), models_registry, member, name)
    client.force_login(member)
    kwargs = {"org": "acme", "registry": "model", "collection": name}
    html = client.get(reverse("registries:collection", kwargs=kwargs)).content.decode()
    rows = html.split("<tbody>")[1].split("</tbody>")[0]
    version = reverse("registries:version", kwargs={**kwargs, "number": 0})
    unlink = reverse("registries:unlink", kwargs={**kwargs, "number": 0})
    assert f'<th scope="row"><a href="{escape(version)}">v0</a></th>' in rows
    assert f'action="{escape(unlink)}"' in rows and "<d>" not in rows
