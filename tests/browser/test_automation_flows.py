"""Automations clicked through in a real browser: a webhook tested in place, an automation made
on a registry's Automations tab, set off by an alias set on the version's page, and its
delivery seen in the history once the worker has run."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.automations.models import Automation, ExecutionStatus
from apps.automations.payloads import GITHUB_DISPATCH_EXAMPLE

# Fixtures used below: the real receiver, team ml's admin and its webhook; the CSP's refusals.
from tests.automations.conftest import receiver, team_admin, webhook  # noqa: F401
from tests.browser.test_csp import policy_errors  # noqa: F401
from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def classifier(project, member, models_registry):
    return make_link(make_version(project, member), models_registry, member, "classifier")


def test_testing_a_webhook_and_adding_a_secret_in_place(
    page,
    sign_in,
    team_admin,  # noqa: F811
    webhook,  # noqa: F811
    receiver,  # noqa: F811
    policy_errors,  # noqa: F811
    screenshot,
):
    receiver.body = b'{"ok": true}'
    sign_in(team_admin)
    page.goto("/orgs/acme/automations/teams/ml/")
    page.get_by_role("button", name="Test ci").click()
    result = page.locator(f"#test-{webhook.pk}")
    expect(result).to_contain_text("answered 200")
    expect(result).to_contain_text('{"ok": true}')
    assert page.url.endswith("/orgs/acme/automations/teams/ml/")  # swapped in, not reloaded
    assert len(receiver.requests) == 1

    # The other forms post in place too; a secret's value never comes back.
    page.get_by_text("Add a secret").click()
    page.locator("#id_secret-name").fill("DEPLOY_KEY")
    page.locator("#id_secret-value").fill("s3cr3t-value")
    page.get_by_role("button", name="Add secret").click()
    expect(page.get_by_role("status")).to_contain_text("Saved secret DEPLOY_KEY.")
    expect(page.get_by_role("row", name="DEPLOY_KEY")).to_contain_text("set")
    assert "s3cr3t-value" not in page.content()
    screenshot()
    assert policy_errors == []


def test_an_automation_made_on_a_registry_delivers_when_its_alias_is_set(
    page,
    sign_in,
    member,
    team_admin,  # noqa: F811
    webhook,  # noqa: F811
    classifier,
    receiver,  # noqa: F811
    run_worker,
    policy_errors,  # noqa: F811
    screenshot,
):
    sign_in(member)
    page.goto("/orgs/acme/registry/model/")
    page.get_by_role("navigation", name="Registry").get_by_role("link", name="Automations").click()
    expect(page.get_by_role("cell", name="No automations here yet.")).to_be_visible()
    page.get_by_role("link", name="Create automation").click()
    expect(page.get_by_text("Scope: Registry Models")).to_be_visible()

    # The form shows the regex of the event chosen, by its stylesheet alone.
    page.get_by_label("Event").select_option(label="A tag is added to a version")
    expect(page.get_by_label("Tag regex")).to_be_visible()
    expect(page.get_by_label("Alias regex")).to_be_hidden()
    page.get_by_label("Event").select_option(label="An alias is added or moved to a version")
    expect(page.get_by_label("Tag regex")).to_be_hidden()
    page.get_by_label("Alias regex").fill("^production$")
    page.get_by_label("Webhook").select_option(label="ci (webhook of team ml)")
    expect(page.get_by_role("textbox", name="Payload")).to_have_value(GITHUB_DISPATCH_EXAMPLE)
    page.get_by_label("Name").fill("deploy on production")
    screenshot("form")
    page.get_by_role("button", name="Create automation").click()
    expect(page.get_by_role("heading", name="deploy on production")).to_be_visible()
    expect(page.get_by_text("Nothing has set this automation off yet.")).to_be_visible()

    # Setting the alias on the version's page sets it off; the worker delivers it.
    page.goto("/orgs/acme/registry/model/classifier/v0/")
    page.get_by_placeholder("Add or move an alias here").fill("production")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels .chip-alias", has_text="production")).to_be_visible()
    run_worker()
    assert receiver.requests[0].json["client_payload"]["alias"] == "production"

    page.goto("/orgs/acme/registry/model/")
    page.get_by_role("navigation", name="Registry").get_by_role("link", name="Automations").click()
    row = page.get_by_role("row", name="deploy on production")
    expect(row).to_contain_text("Delivered")
    row.get_by_role("link", name="deploy on production").click()
    history = page.locator("#history")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Delivered")
    expect(history.get_by_role("row").nth(1)).to_contain_text("acme/model/classifier:v0")
    automation = Automation.objects.get()
    assert automation.executions.get().status == ExecutionStatus.DELIVERED
    screenshot("history")

    # Filtering the history swaps it in place.
    page.get_by_label("Status").select_option("failed")
    expect(history.get_by_role("cell", name="No failed executions.")).to_be_visible()
    expect(page).to_have_url(f"/orgs/acme/automations/{automation.pk}/?status=failed")
    assert policy_errors == []
