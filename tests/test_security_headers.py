"""Every response tells the browser what the page may do: its CSP and the other security headers."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client

from apps.accounts.models import ApiToken
from apps.lib.security import SecurityHeaders
from tests import test_every_view as every_view

# The pages are every view's, and so are the rows they show: its fixtures, made once per module.
VIEWS = every_view.VIEWS
world, linked = every_view.world, every_view.linked
organization, org_admin, member = every_view.organization, every_view.org_admin, every_view.member
artifact_storage = every_view.artifact_storage

pytestmark = pytest.mark.usefixtures("linked")

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_secured(response, settings) -> None:
    for name, value in HEADERS.items():
        assert response.get(name) == value, (response.request["PATH_INFO"], name)
    assert response["Permissions-Policy"] == settings.PERMISSIONS_POLICY
    policy = response["Content-Security-Policy"]
    if response["Content-Type"].startswith("text/html"):
        assert policy == settings.CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


@pytest.mark.parametrize("path", [path for path, methods in VIEWS if "GET" in methods])
def test_every_page_carries_the_security_headers(client, org_admin, settings, path):
    client.force_login(org_admin)
    response = client.get(path)
    assert response.status_code == 200, path
    assert_secured(response, settings)


def test_sign_in_errors_the_api_and_the_admin_carry_them_too(client, org_admin, settings):
    assert_secured(client.get("/login/"), settings)
    assert_secured(client.get("/orgs/acme/registry/nowhere/"), settings)  # 404
    _, token = ApiToken.issue(org_admin, "headers")
    api = client.get("/api/v1/orgs/acme/registries/", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200
    assert_secured(api, settings)
    org_admin.is_staff = org_admin.is_superuser = True
    org_admin.save()
    client.force_login(org_admin)
    assert_secured(client.get("/admin/accounts/user/"), settings)


def test_hsts_is_sent_over_https_when_configured(client, org_admin, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    client.force_login(org_admin)
    response = client.get("/orgs/acme/registry/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get("/orgs/acme/registry/")


def test_a_policy_the_view_set_itself_stands(rf):
    sandboxed = HttpResponse(headers={"Content-Security-Policy": "sandbox; default-src 'none'"})
    response = SecurityHeaders(lambda request: sandboxed)(rf.get("/"))
    assert response["Content-Security-Policy"] == "sandbox; default-src 'none'"


def test_in_debug_djangos_own_error_pages_keep_their_inline_styles(client, org_admin, settings):
    settings.DEBUG = True
    client.force_login(org_admin)
    technical_404 = client.get("/orgs/acme/registry/nowhere/")
    assert technical_404.status_code == 404 and b"<style" in technical_404.content
    assert "Content-Security-Policy" not in technical_404
    assert "Content-Security-Policy" in client.get("/orgs/acme/registry/")


def test_a_refused_form_gets_our_page_not_djangos_inline_styled_one(member, settings):
    response = Client(enforce_csrf_checks=True).post("/login/", {"username": "maria"})
    assert response.status_code == 403
    assert b"This form could not be checked" in response.content
    assert b"<style" not in response.content and b"style=" not in response.content
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
