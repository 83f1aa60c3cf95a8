"""The product's error pages: each answers in full without JavaScript, and marks the message that
js/htmx-errors.js shows beside a refused in-place action; no page loads django-htmx's debug
script, which would replace the whole page with an error answer."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

from apps.registries import services
from tests.factories import make_link, make_version

VERSION = "/orgs/acme/registry/model/classifier/v0/"


@pytest.fixture
def classifier(project, member, org_admin, models_registry):
    services.add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    return make_link(make_version(project, member), models_registry, member, "classifier")


def test_a_refusal_in_place_answers_403_with_its_reason_marked(client, member, classifier):
    client.force_login(member)
    response = client.post(f"{VERSION}aliases/", {"alias": "production"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert (
        b"<p data-error-message>Setting this alias needs the admin role on registry Models "
        b"because of a protected alias; your role is member.</p>"
    ) in response.content


def test_a_server_error_answers_the_products_500_page(member, classifier, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(services, "add_version_tags", broken)
    client = Client(raise_request_exception=False)
    client.force_login(member)
    response = client.post(f"{VERSION}tags/", {"tags": "candidate"})
    assert response.status_code == 500
    assert b"<h1>Something went wrong</h1>" in response.content
    assert b"the disk is on fire" not in response.content
    assert b'href="/static/css/registry.css"' in response.content


def test_the_500_page_renders_without_context_or_request():
    page = render_to_string("500.html")
    assert "Something went wrong" in page and "{%" not in page


def test_a_malformed_request_answers_the_products_400_page(client):
    response = client.get("/login/", HTTP_HOST="not-allowed.example")
    assert response.status_code == 400
    assert b"<p data-error-message>The request could not be understood" in response.content


def test_pages_load_htmx_and_our_error_handling_not_django_htmxs_debug_script(
    client, member, classifier, settings
):
    settings.DEBUG = True  # where django-htmx would add it
    client.force_login(member)
    page = client.get(VERSION).content.decode()
    assert "django_htmx/htmx-2.min.js" in page
    assert "js/htmx-errors.js" in page
    assert "django-htmx.js" not in page


def test_the_outage_page_marks_its_message_for_in_place_actions():
    page = render_to_string("503.html", {"retry_after": 10})
    assert "<p data-error-message>The registry cannot reach its database just now." in page
