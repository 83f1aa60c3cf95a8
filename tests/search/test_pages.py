"""The search box on every page, and the search page it answers with: grouped results saying why
they matched, pages of each kind, htmx fragments, malformed queries, and what each person sees."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from apps.search import views
from tests.factories import make_user

URL = "/orgs/acme/search/"
COL = "/orgs/acme/registry/model/resnet"
BOX = 'id="site-search-q"'


def page(client, user, query="", **params):
    client.force_login(user)
    response = client.get(URL, {"q": query, **params})
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/orgs/acme/registry/",
        "/orgs/acme/registry/model/",
        f"{COL}/",
        f"{COL}/v1/",
        "/orgs/acme/projects/ml/mnist/",
        "/orgs/acme/legacy/",
        "/account/",
        URL,
    ],
)
def test_the_box_is_in_the_header_of_every_page(client, catalogue, member, path):
    client.force_login(member)
    html = client.get(path).content.decode()
    header = html[html.index('<header class="site-header">') : html.index("</header>")]
    assert BOX in header and f'action="{URL}"' in header, path
    assert '<details class="search-help">' in header


def test_a_page_without_an_organization_searches_the_users_own(client, member):
    client.force_login(member)
    response = client.get("/orgs/nowhere/registry/")
    assert response.status_code == 404 and f'action="{URL}"' in response.content.decode()


def test_no_box_without_an_organization_or_signed_out(client, db):
    assert BOX not in client.get("/login/").content.decode()
    client.force_login(make_user("loner"))
    assert BOX not in client.get("/").content.decode()


def test_results_are_grouped_by_kind_and_say_why(client, catalogue, member):
    html = page(client, member, "resnet alias:production")
    assert '<h2 id="results-collection">Collections</h2>' in html
    assert '<h2 id="results-version">Versions</h2>' in html
    assert 'id="results-registry"' not in html  # no registry has an alias
    assert f'href="{COL}/"' in html and f'href="{COL}/v1/"' in html
    assert f'href="{COL}/v0/"' not in html
    assert "matched “resnet”, alias is production" in html
    models = page(client, member, "Models")
    assert 'href="/orgs/acme/registry/model/"' in models and "matched “Models”" in models


def test_nothing_matching_says_so(client, catalogue, member):
    assert "Nothing you can see matches." in page(client, member, "no-such-thing")


def test_each_kind_pages_on_with_its_cursor(client, monkeypatch, catalogue, member):
    monkeypatch.setattr(views, "PER_KIND", 1)
    monkeypatch.setattr(views, "PER_PAGE", 2)
    client.force_login(member)
    overview = client.get(URL, {"q": "resnet OR bert"}).context
    more = {group.kind: group.more_url for group in overview["groups"]}
    assert more["version"].startswith(f"{URL}?q=resnet+OR+bert&kind=version&cursor=")
    seen = []
    url = more["version"]
    while url:
        context = client.get(url).context
        [group] = context["groups"]
        assert group.kind == "version" and context["kind"] == "version"
        seen += [hit.row.pk for hit in group.hits]
        next_query = group.pager["next_query"]
        url = next_query and f"{URL}?{next_query}"
    first = overview["groups"][-1].hits[0].row.pk
    assert first not in seen and len(set(seen)) == len(seen) == 3  # of resnet v0, v1, old; bert


def test_one_kind_shows_alone_with_a_way_back(client, catalogue, member):
    html = page(client, member, "resnet", kind="collection")
    assert 'id="results-collection"' in html and 'id="results-version"' not in html
    assert f'href="{URL}?q=resnet">All results</a>' in html


def test_htmx_gets_the_results_alone_and_a_plain_request_the_page(client, catalogue, member):
    client.force_login(member)
    fragment = client.get(URL, {"q": "resnet"}, headers={"HX-Request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="search-results"')
    assert "<html" not in fragment.content.decode()
    assert "HX-Request" in fragment["Vary"]
    full = client.get(URL, {"q": "resnet"})
    assert "<html" in full.content.decode() and "HX-Request" in full["Vary"]
    restore = client.get(
        URL, {"q": "resnet"}, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.content.decode()


def test_the_box_keeps_the_query_and_the_page_updates_in_place(client, catalogue, member):
    html = page(client, member, 'tag:cnn "res net"')
    assert 'value="tag:cnn &quot;res net&quot;"' in html
    assert 'hx-push-url="true"' in html and "from:#site-search-q, submit" in html
    elsewhere = client.get("/orgs/acme/registry/").content.decode()
    # Elsewhere typing fills the results under the header; Enter opens the search page.
    assert '<div id="search-results" class="search-results" hidden></div>' in elsewhere
    assert "hx-push-url" not in elsewhere.split("</form>")[0]


def test_an_empty_query_shows_no_results(client, catalogue, member):
    html = page(client, member, "   ")
    assert '<div id="search-results" class="search-results" hidden>' in html
    assert "results-collection" not in html


@pytest.mark.parametrize(
    ("query", "expected", "column"),
    [
        ("tag:cnn (resnet", "a ) to close the ( here", 8),
        ('resnet "image net', 'a closing " for the phrase that starts here', 7),
        ("metric.accuracy>=high", "a number, not 'high'", 17),
        ("resnet OR", "a word, a field such as tag:cnn, or (", 9),
        ("colour:red", "a known field before 'colour'", 0),
    ],
)
def test_a_malformed_query_says_where_and_what(client, member, db, query, expected, column):
    html = page(client, member, query)
    assert f"at column {column + 1}, expected {escape(expected)}" in html
    echoed = escape(query)
    assert f"<code>{echoed}\n{' ' * column}^</code>" in html
    assert f'value="{echoed}"' in html  # the box keeps it, to be fixed


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 501}, "Search: Ensure this value has at most 500 characters"),
        ({"q": "resnet", "kind": "run"}, "Kind: Select a valid choice. run is not one of"),
    ],
)
def test_a_form_it_cannot_take_is_refused_with_a_message(client, member, db, params, message):
    assert message in page(client, member, **params)


def test_a_member_never_sees_a_restricted_registry_through_the_box(
    client, catalogue, member, org_admin
):
    for query in [
        "resnet",
        "Secret",
        "metric.accuracy>=0.95",
        "registry:secret",
        "tag:nlp OR resnet",
    ]:
        for html in (page(client, member, query), page(client, member, query, kind="version")):
            assert "resnet-secret" not in html and "/registry/secret/" not in html, query
    admin = page(client, org_admin, "metric.accuracy>=0.95")
    assert "resnet-secret:v0" in admin and 'href="/orgs/acme/registry/secret/' in admin


def test_an_outsider_gets_404(client, catalogue, outsider):
    client.force_login(outsider)
    assert client.get(URL, {"q": "resnet"}).status_code == 404
    assert client.get(URL, {"q": "resnet"}, headers={"HX-Request": "true"}).status_code == 404
