from __future__ import annotations

import pytest

from apps.accounts.models import Visibility
from apps.registries.models import Star
from tests.factories import make_registry

URL = "/orgs/acme/registry/"


def card_names(response, section: str) -> list[str]:
    return [registry.name for registry in response.context[section]]


def test_anonymous_users_are_sent_to_login(client, organization):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_outsiders_get_not_found(client, organization, outsider):
    client.force_login(outsider)
    assert client.get(URL).status_code == 404


def test_an_unknown_organization_is_not_found(client, member):
    client.force_login(member)
    assert client.get("/orgs/nope/registry/").status_code == 404


@pytest.mark.parametrize("persona", ["org_admin", "member", "viewer"])
def test_every_member_sees_models_and_datasets(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    assert card_names(response, "core") == ["Datasets", "Models"]
    assert b'<li class="chip">all types</li>' not in response.content
    assert b'<li class="chip">model</li>' in response.content


def test_a_restricted_registry_shows_only_to_those_granted(
    client, organization, org_admin, member, viewer
):
    make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    for user, sees in [(org_admin, True), (member, False), (viewer, False)]:
        client.force_login(user)
        assert ("Secret" in card_names(client.get(URL), "custom")) is sees


def test_it_rejects_other_methods(client, member):
    client.force_login(member)
    assert client.put(URL).status_code == 405


def test_starred_registries_come_first(client, member, models_registry):
    Star.objects.create(user=member, registry=models_registry)
    client.force_login(member)
    response = client.get(URL)
    assert card_names(response, "starred") == ["Models"]
    assert card_names(response, "core") == ["Datasets"]


def star_url(slug: str) -> str:
    return f"{URL}{slug}/star/"


def test_starring_without_javascript_redirects_back(client, member, models_registry):
    client.force_login(member)
    response = client.post(star_url("model"), {"starred": "true"})
    assert response.status_code == 302 and response["Location"] == URL
    assert Star.objects.filter(user=member, registry=models_registry).exists()
    client.post(star_url("model"), {"starred": "false"})
    assert not Star.objects.exists()


def test_starring_with_htmx_returns_the_registry_list(client, member):
    client.force_login(member)
    response = client.post(star_url("model"), {"starred": "true"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="registry-list">')
    assert "<html" not in html and 'aria-pressed="true"' in html


def test_a_viewer_may_star(client, viewer, models_registry):
    client.force_login(viewer)
    client.post(star_url("model"), {"starred": "true"})
    assert Star.objects.filter(user=viewer).exists()


def test_starring_a_hidden_registry_is_not_found(client, organization, org_admin, member):
    make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    client.force_login(member)
    assert client.post(star_url("secret"), {"starred": "true"}).status_code == 404
    assert not Star.objects.exists()


def test_the_star_url_rejects_get(client, member):
    client.force_login(member)
    assert client.get(star_url("model")).status_code == 405


def test_the_query_count_does_not_grow_with_registries(
    client, organization, org_admin, member, django_assert_num_queries
):
    """Intended to prevent an n+1 over registries, their types, counts and stars. The tenth
    query counts the legacy registered models of the user's teams, for the legacy banner; the
    eleventh, the header's Migration check."""
    client.force_login(member)
    client.get(URL)  # warm the session and content types
    with django_assert_num_queries(11):
        client.get(URL)
    for n in range(10):
        make_registry(organization, org_admin, f"Extra {n}", artifact_types=["model", "eval"])
    with django_assert_num_queries(11):
        response = client.get(URL)
    assert len(response.context["custom"]) == 10


def test_recently_updated_collections_are_only_those_the_user_may_see(
    client, organization, org_admin, member, project
):
    from tests.factories import make_link, make_version

    closed = make_registry(organization, org_admin, "Closed", visibility=Visibility.RESTRICTED)
    make_link(
        make_version(project, member), organization.registries.get(slug="model"), member, "open-one"
    )
    make_link(make_version(project, org_admin), closed, org_admin, "secret-one")
    client.force_login(member)
    assert [c.name for c in client.get(URL).context["recent"]] == ["open-one"]
    client.force_login(org_admin)
    assert [c.name for c in client.get(URL).context["recent"]] == ["secret-one", "open-one"]


def test_a_member_creates_a_registry(client, member, organization):
    client.force_login(member)
    response = client.post(
        URL, {"name": "Evals", "visibility": "restricted", "artifact_types": "eval, report"}
    )
    assert response.status_code == 302 and response["Location"] == "/orgs/acme/registry/evals/"
    registry = organization.registries.get(slug="evals")
    assert registry.accepted_type_names() == ["eval", "report"] and registry.is_restricted


@pytest.mark.parametrize(
    ("name", "message"),
    [("Models", "already exists"), ("a/b", "may not contain"), ("", "required")],
)
def test_bad_registry_names_are_shown_on_the_field(client, member, name, message):
    client.force_login(member)
    response = client.post(URL, {"name": name, "visibility": "organization"})
    assert response.status_code == 400
    assert any(message in error for error in response.context["registry_form"].errors["name"])


def test_an_organization_viewer_cannot_create_a_registry(client, viewer, organization):
    client.force_login(viewer)
    assert "Create a registry" not in client.get(URL).content.decode()
    assert client.post(URL, {"name": "X", "visibility": "organization"}).status_code == 403
    assert organization.registries.count() == 2


def test_admins_find_the_audit_log_and_everyone_their_projects(
    client, org_admin, member, viewer, project
):
    client.force_login(org_admin)
    assert b"/orgs/acme/audit/" in client.get(URL).content
    client.force_login(member)
    page = client.get(URL).content
    assert b"/orgs/acme/audit/" not in page and b"/orgs/acme/projects/ml/mnist/" in page
    client.force_login(viewer)  # not in team ml
    assert b"/orgs/acme/projects/" not in client.get(URL).content


def test_starred_core_registries_are_named_in_their_section_not_reported_missing(
    client, member, models_registry, datasets_registry
):
    client.force_login(member)
    for registry in (models_registry, datasets_registry):
        client.post(star_url(registry.slug), {"starred": "true"})
    response = client.get(URL)
    assert [r.slug for r in response.context["starred"]] == ["dataset", "model"]
    html = response.content.decode()
    core = html[html.index('id="core-heading"') : html.index('id="custom-heading"')]
    assert "None." not in core
    assert "Datasets</a> and <a" in core and "are starred: listed under Starred above." in core
    client.post(star_url("dataset"), {"starred": "false"})
    html = client.get(URL).content.decode()
    core = html[html.index('id="core-heading"') : html.index('id="custom-heading"')]
    assert "Models</a> is starred: listed under Starred above." in core
