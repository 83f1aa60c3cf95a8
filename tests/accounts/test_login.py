from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_user

LOGIN = "/login/"


def test_the_login_page_renders(client, db):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_good_credentials_lead_to_the_organizations_registry(client, member):
    response = client.post(LOGIN, {"username": "maria", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/orgs/acme/registry/"
    assert b"Models" in response.content


def test_bad_credentials_show_an_error_and_sign_in_nobody(client, member):
    response = client.post(LOGIN, {"username": "maria", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_the_home_page_sends_anonymous_users_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/"


def test_an_in_place_action_after_the_session_ended_loads_the_sign_in_page_whole(client, db):
    """Not the sign-in form swapped into a fragment: htmx loads the page, and signing in
    returns to the page the action was on."""
    page = "/orgs/acme/registry/model/classifier/v0/"
    response = client.post(
        f"{page}aliases/",
        {"name": "production"},
        headers={"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}?tab=aliases"},
    )
    assert response.status_code == 200 and response.content == b""
    assert (
        response["HX-Redirect"]
        == "/login/?next=/orgs/acme/registry/model/classifier/v0/%3Ftab%3Daliases"
    )


def test_the_home_page_explains_when_the_user_has_no_organization(client, db):
    client.force_login(make_user("lonely"))
    response = client.get("/")
    assert response.status_code == 200
    assert b"not in an organization yet" in response.content


def test_signing_out_is_a_post(client, member):
    client.force_login(member)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_enforces_csrf(member):
    """The suite's other clients skip CSRF checks; this one proves the protection is on."""
    client = Client(enforce_csrf_checks=True)
    refused = client.post(LOGIN, {"username": "maria", "password": PASSWORD})
    assert refused.status_code == 403

    token = client.get(LOGIN).context["csrf_token"]
    accepted = client.post(
        LOGIN, {"username": "maria", "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert accepted.status_code == 302
