"""The Content-Security-Policy refuses inline scripts and styles: no page of ours uses any, and
htmx keeps working under it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.models import TeamRole
from tests.factories import make_link, make_version
from tests.legacy.test_migration_view import make_legacy_registry

pytestmark = pytest.mark.django_db(transaction=True)

# Chromium reports every refusal in the console; the event makes sure none goes unseen.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const what = `${event.violatedDirective} ${event.blockedURI}`;
  console.error(`Content Security Policy violation: ${what}`);
});
"""
COL = "/orgs/acme/registry/model/classifier"


@pytest.fixture
def policy_errors(page) -> list[str]:
    """Console messages about the CSP or the Permissions-Policy, collected as pages load."""
    errors: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if "Content Security Policy" in message.text or "Permissions-Policy" in message.text
            else None
        ),
    )
    return errors


def test_no_page_breaks_the_policy_and_htmx_still_swaps(
    page, sign_in, policy_errors, org_admin, member, team, project, models_registry
):
    for accuracy in (0.7, 0.9):
        make_link(
            make_version(project, member, metrics={"accuracy": accuracy}), models_registry, member
        )
    team.add_member(org_admin, TeamRole.ADMIN)
    org_admin.is_staff = org_admin.is_superuser = True
    org_admin.save()
    make_legacy_registry(team, member, {"detector": 1})
    sign_in(org_admin)

    # Landing: search in place with the header's box, then star a registry in place.
    page.get_by_placeholder("Search registries, collections, versions").fill("classifier")
    expect(page.locator("#search-results")).to_contain_text("classifier")
    page.get_by_role("button", name="Star Datasets").click()
    expect(page.get_by_role("heading", name="Starred")).to_be_visible()

    # A version: set an alias in place (hx-post with the CSRF header from <body>).
    page.goto(f"{COL}/v1/")
    page.get_by_placeholder("Add or move an alias here").fill("staging")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels .chip-alias", has_text="staging")).to_be_visible()

    for path in [
        "/orgs/acme/registry/model/",
        "/orgs/acme/registry/model/settings/",
        f"{COL}/",
        f"{COL}/compare/?v=v0&v=v1",
        f"{COL}/v0/lineage/",
        "/orgs/acme/audit/",
        "/orgs/acme/search/?q=classifier",
        "/orgs/acme/legacy/",
        "/orgs/acme/legacy/migration/",
        "/admin/",
        f"/admin/accounts/organization/{team.organization_id}/change/",
        "/admin/accounts/user/",
    ]:
        response = page.goto(path)
        assert response.status == 200, path
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        page.wait_for_load_state("load")

    assert policy_errors == []
