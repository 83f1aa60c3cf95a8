"""The header's search box in a browser: results in place as one types, a hit opened, the search
page following the query in its address, a malformed query pointed at, the syntax popover."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.registries.services import set_alias
from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)

BOX = "Search registries, collections and versions"


@pytest.fixture
def resnet(project, member, models_registry):
    """resnet v0 and v1 in Models, v1 holding `staging`."""
    make_link(make_version(project, member), models_registry, member, "resnet")
    newer = make_link(make_version(project, member), models_registry, member, "resnet")
    set_alias(actor=member, link=newer, name="staging")
    return newer


def test_typing_in_the_header_box_shows_results_in_place_and_opens_a_hit(
    page, sign_in, screenshot, member, resnet
):
    sign_in(member)
    page.goto("/orgs/acme/registry/model/")
    results = page.locator("#search-results")
    expect(results).to_be_hidden()
    page.get_by_role("searchbox", name=BOX).fill("resnet alias:staging")
    expect(results.get_by_role("link", name="resnet:v1")).to_be_visible()
    expect(results).to_contain_text("matched “resnet”, alias is staging")
    expect(results.get_by_role("link", name="resnet:v0")).to_have_count(0)
    assert page.url.endswith("/orgs/acme/registry/model/")  # the same page, results in place
    screenshot()
    results.get_by_role("link", name="resnet:v1").click()
    page.wait_for_url("**/registry/model/resnet/v1/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("resnet")


def test_clearing_the_box_hides_the_results_and_enter_opens_the_search_page(
    page, sign_in, member, resnet
):
    sign_in(member)
    box = page.get_by_role("searchbox", name=BOX)
    box.fill("resnet")
    expect(page.locator("#search-results")).to_be_visible()
    box.fill("")
    expect(page.locator("#search-results")).to_be_hidden()
    box.fill("resnet")
    box.press("Enter")
    page.wait_for_url("**/orgs/acme/search/?q=resnet")
    expect(page.get_by_role("heading", name="Collections")).to_be_visible()


def test_the_search_page_updates_in_place_and_its_address_follows(
    page, sign_in, screenshot, member, resnet
):
    sign_in(member)
    page.goto("/orgs/acme/search/?q=resnet")
    expect(page.get_by_role("heading", name="Versions")).to_be_visible()
    page.get_by_role("searchbox", name=BOX).fill("tag:cnn (resnet")
    expect(page.locator(".query-error")).to_contain_text("expected a ) to close the ( here")
    expect(page.locator(".query-error pre")).to_have_text("tag:cnn (resnet\n        ^")
    # The address follows the query (htmx pushes it), so Back returns to the earlier results.
    expect(page).to_have_url(re.compile(r"/orgs/acme/search/\?q=tag%3Acnn(%20|\+)(\(|%28)resnet$"))
    screenshot()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/orgs/acme/search/\?q=resnet$"))
    expect(page.get_by_role("link", name="resnet:v1")).to_be_visible()


def test_the_syntax_popover_opens_and_closes(page, sign_in, screenshot, member):
    sign_in(member)
    help_body = page.locator(".search-help-body")
    expect(help_body).to_be_hidden()
    page.locator(".search-help summary").click()
    expect(help_body).to_be_visible()
    expect(help_body).to_contain_text("metric.accuracy>=0.9")
    expect(help_body).to_contain_text("(tag:nlp OR tag:vision) -tag:wip")
    screenshot()
    page.locator(".search-help summary").click()
    expect(help_body).to_be_hidden()
