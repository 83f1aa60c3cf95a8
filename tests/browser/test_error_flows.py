"""Errors in a real browser. Those of in-place actions show beside the action, and the page and
what was typed stay; without JavaScript the same posts answer with the product's error page.
Pages that fail are the product's 404 and 500 pages, as `make run` shows them too."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.accounts.models import TeamRole, Visibility
from apps.automations.models import Webhook
from apps.registries import services
from apps.registries.models import Alias

# The real receiver, team ml's admin and its webhook.
from tests.automations.conftest import receiver, team_admin, webhook  # noqa: F401
from tests.factories import PASSWORD, make_link, make_registry, make_version

pytestmark = pytest.mark.django_db(transaction=True)

VERSION = "/orgs/acme/registry/model/classifier/v0/"
COLLECTION = "/orgs/acme/registry/model/classifier/"


@pytest.fixture
def classifier(project, member, org_admin, models_registry):
    """Models/classifier v0, on a registry where `production` is protected."""
    services.add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    return make_link(make_version(project, member), models_registry, member, "classifier")


def mark_page(page) -> None:
    """Marks the loaded page: a reload or a swap of the whole page would lose it."""
    page.evaluate("window.notReloaded = true")


def assert_page_stayed(page, heading: str) -> None:
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def test_a_refused_alias_shows_beside_the_form_and_keeps_the_page(
    page, sign_in, member, classifier, screenshot
):
    sign_in(member)
    page.goto(VERSION)
    mark_page(page)
    box = page.get_by_placeholder("Add or move an alias here")
    box.fill("production")
    page.get_by_role("button", name="Set alias").click()

    form = page.locator("#labels form.inline-form")
    expect(form.get_by_role("alert")).to_contain_text("admin role")
    expect(form.get_by_role("alert")).to_contain_text("protected alias")
    expect(box).to_have_value("production")
    assert_page_stayed(page, "classifier v0")
    assert not Alias.objects.filter(name="production").exists()
    screenshot()

    # The next try clears the note: an allowed alias lands in place.
    box.fill("staging")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels .chip-alias", has_text="staging")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_an_invalid_alias_keeps_what_was_typed(page, sign_in, member, classifier):
    sign_in(member)
    page.goto(VERSION)
    page.get_by_placeholder("Add or move an alias here").fill("team/staging")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels .field-error")).to_be_visible()
    expect(page.get_by_placeholder("Add or move an alias here")).to_have_value("team/staging")


def test_an_in_place_action_after_signing_out_leads_to_sign_in_and_back(
    page, sign_in, member, classifier
):
    sign_in(member)
    page.goto(VERSION)
    page.context.clear_cookies(name="sessionid")  # it ended, by expiry or in another tab
    page.get_by_placeholder("Add or move an alias here").fill("staging")
    page.get_by_role("button", name="Set alias").click()
    page.wait_for_url("**/login/?next=**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(member.get_username())
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{VERSION}")


def test_tagging_a_collection_deleted_meanwhile_says_so_in_place(
    page, sign_in, org_admin, classifier, screenshot
):
    sign_in(org_admin)
    page.goto(COLLECTION)
    mark_page(page)
    classifier.collection.delete()  # by someone else, in another tab
    page.get_by_placeholder("Add tags, comma-separated").fill("vision")
    page.get_by_role("button", name="Add", exact=True).click()

    alert = page.locator("#card form.inline-form").get_by_role("alert")
    expect(alert).to_contain_text("was deleted or moved")
    expect(page.get_by_placeholder("Add tags, comma-separated")).to_have_value("vision")
    assert_page_stayed(page, "classifier")
    screenshot()


def test_a_server_error_in_place_keeps_the_page(
    page, sign_in, member, classifier, monkeypatch, screenshot
):
    def broken(**kwargs):
        raise RuntimeError("the disk is on fire")

    # The live server runs in this process: its view meets the failure for real.
    monkeypatch.setattr(services, "add_version_tags", broken)
    sign_in(member)
    page.goto(VERSION)
    mark_page(page)
    page.locator("#id_version_tags").fill("candidate")
    page.get_by_role("button", name="Add", exact=True).click()

    alert = page.locator("#labels").get_by_role("alert")
    expect(alert).to_contain_text("Something went wrong on the server, so this was not done")
    expect(page.locator("#id_version_tags")).to_have_value("candidate")
    assert_page_stayed(page, "classifier v0")
    screenshot()


def test_a_lost_connection_in_place_says_so(page, sign_in, member, classifier):
    sign_in(member)
    page.goto(VERSION)
    page.route("**/aliases/", lambda route: route.abort("connectionrefused"))
    page.get_by_placeholder("Add or move an alias here").fill("staging")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels").get_by_role("alert")).to_contain_text(
        "The server could not be reached"
    )


def test_testing_a_webhook_after_losing_the_team_says_so_beside_the_button(
    page,
    sign_in,
    team,
    team_admin,  # noqa: F811
    webhook,  # noqa: F811
    screenshot,
):
    sign_in(team_admin)
    page.goto("/orgs/acme/automations/teams/ml/")
    mark_page(page)
    team.add_member(team_admin, TeamRole.MEMBER)  # demoted meanwhile
    page.get_by_role("button", name="Test ci").click()

    test_form = page.locator("form", has=page.get_by_role("button", name="Test ci"))
    expect(test_form.get_by_role("alert")).to_contain_text("admin")
    assert_page_stayed(page, "Team ml: webhooks and secrets")
    assert Webhook.objects.filter(pk=webhook.pk).exists()
    screenshot()


def test_without_javascript_the_refusal_is_the_full_error_page(signed_in_page, member, classifier):
    page = signed_in_page(member, java_script_enabled=False)
    page.goto(VERSION)
    page.get_by_placeholder("Add or move an alias here").fill("production")
    response_of = page.expect_response(lambda response: response.request.method == "POST")
    with response_of as info:
        page.get_by_role("button", name="Set alias").click()
    assert info.value.status == 403
    expect(page.get_by_role("heading", name="You cannot do that here")).to_be_visible()
    expect(page.locator("main")).to_contain_text("protected alias")


# The product's own error pages, as `make run` now shows them too (DEBUG off).


def test_a_restricted_registry_is_the_products_not_found_page_for_others(
    page, sign_in, organization, org_admin, member, screenshot
):
    make_registry(organization, org_admin, "Secret", visibility=Visibility.RESTRICTED)
    sign_in(member)
    response = page.goto("/orgs/acme/registry/secret/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your registries")).to_be_visible()
    # Styled by the product's stylesheet, not Django's yellow debug page.
    card = page.locator("section.card")
    assert card.evaluate("card => getComputedStyle(card).backgroundColor") == "rgb(255, 255, 255)"
    screenshot()


def test_a_server_error_on_a_page_is_the_products_500_page(
    page, sign_in, member, classifier, monkeypatch, screenshot
):
    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr("apps.registries.views.version._version_context", broken)
    sign_in(member)
    response = page.goto(VERSION)
    assert response.status == 500
    expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("the disk is on fire")
    card = page.locator("section.card")
    assert card.evaluate("card => getComputedStyle(card).backgroundColor") == "rgb(255, 255, 255)"
    page.get_by_role("link", name="Go to your registries").click()
    expect(page.get_by_role("heading", name="Registries", exact=True)).to_be_visible()
    screenshot()


def test_a_request_refused_before_any_view_says_why_in_place_and_swaps_nothing(
    page, sign_in, member, classifier
):
    """A 400 that is not a form's errors (here the plain-text refusal of a NUL character) is
    shown as an error, not swapped in over the labels."""
    sign_in(member)
    page.goto(VERSION)
    page.get_by_placeholder("Add or move an alias here").fill("bad\x00name")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels form.inline-form").get_by_role("alert")).to_contain_text(
        "holds a NUL character"
    )
    expect(page.locator("#labels")).to_contain_text("Aliases")
    expect(page.get_by_role("button", name="Set alias")).to_be_visible()


def test_a_stale_form_token_says_to_reload_not_that_the_role_is_wrong(
    page, sign_in, member, classifier, live_server
):
    sign_in(member)
    page.goto(VERSION)
    # Signed in or out in another tab: the CSRF cookie no longer matches the page's token.
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": live_server.url}])
    page.get_by_placeholder("Add or move an alias here").fill("staging")
    page.get_by_role("button", name="Set alias").click()
    alert = page.locator("#labels form.inline-form").get_by_role("alert")
    expect(alert).to_contain_text("Reload the page and send the form again")
    assert not Alias.objects.filter(name="staging").exists()
