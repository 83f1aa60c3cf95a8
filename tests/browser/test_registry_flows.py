"""The everyday paths, clicked through in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.registries.models import Alias, RegistryGrant, Star
from apps.registries.services import add_collection_tags
from tests.factories import make_link, make_registry, make_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def classifier(project, member, models_registry):
    """Models/classifier with three versions that log accuracy 0.7, 0.9, 0.8."""
    links = [
        make_link(make_version(project, member, metrics={"accuracy": a}), models_registry, member)
        for a in (0.7, 0.9, 0.8)
    ]
    add_collection_tags(actor=member, collection=links[0].collection, tags=["vision"])
    return links


def test_signing_in(page, member, screenshot):
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    screenshot("refused")
    from tests.factories import PASSWORD

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Registries", exact=True)).to_be_visible()
    screenshot()


def test_starring_moves_a_registry_to_the_top_in_place(page, sign_in, member, screenshot):
    sign_in(member)
    page.get_by_role("button", name="Star Datasets").click()
    starred = page.locator("section", has=page.get_by_role("heading", name="Starred"))
    expect(starred.get_by_role("link", name="Datasets")).to_be_visible()
    assert Star.objects.filter(user=member, registry__slug="dataset").exists()
    screenshot()
    page.get_by_role("button", name="Unstar Datasets").click()
    expect(page.get_by_role("heading", name="Starred")).to_have_count(0)


def test_from_landing_to_a_version(page, sign_in, member, classifier, screenshot):
    sign_in(member)
    page.get_by_role("link", name="Models", exact=True).click()
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()
    screenshot("registry")
    page.get_by_role("link", name="classifier").click()
    expect(page.get_by_role("heading", name="classifier")).to_be_visible()
    screenshot("collection")
    page.get_by_role("link", name="v1", exact=True).click()
    expect(page.locator("#full-path")).to_have_text("acme/model/classifier:v1")
    page.get_by_role("link", name="Files").click()
    expect(page.get_by_role("cell", name="weights.bin")).to_be_visible()
    screenshot("version")


def test_adding_an_alias_in_place(page, sign_in, member, classifier, screenshot):
    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/v1/")
    page.get_by_placeholder("Add or move an alias here").fill("staging")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels .chip-alias", has_text="staging")).to_be_visible()
    assert Alias.objects.get(name="staging").link == classifier[1]
    page.get_by_placeholder("Add or move an alias here").fill("latest")
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator("#labels .field-error")).to_contain_text("reserved")
    screenshot()


def test_the_metrics_toggle_and_sorting(page, sign_in, member, classifier, screenshot):
    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/")
    expect(page.get_by_role("columnheader", name="accuracy")).to_have_count(0)
    page.get_by_role("link", name="Show metrics").click()
    expect(page.get_by_role("columnheader", name="accuracy")).to_be_visible()
    expect(page).to_have_url("/orgs/acme/registry/model/classifier/?metrics=1&sort=-number")
    page.get_by_role("link", name="accuracy").click()
    expect(page.locator("#versions tbody tr").first.locator("th")).to_have_text("v1")
    screenshot()


def test_changing_a_members_role(page, sign_in, organization, member, viewer, screenshot):
    make_registry(organization, member, "Scratch")
    grant = RegistryGrant.objects.create(
        registry=organization.registries.get(slug="scratch"), user=viewer, role="viewer"
    )
    sign_in(member)
    page.goto("/orgs/acme/registry/scratch/settings/")
    row = page.get_by_role("row", name="victor")
    row.get_by_label("Role of victor").select_option("member")
    row.get_by_role("button", name="Change").click()
    expect(page.get_by_role("status")).to_contain_text("Settings saved")
    expect(page.get_by_role("row", name="victor").get_by_role("cell").first).to_have_text("Member")
    grant.refresh_from_db()
    assert grant.role == "member"
    screenshot()


def test_pages_fit_a_phone_screen(page, sign_in, member, classifier, screenshot):
    """No page scrolls sideways at phone width; wide tables scroll inside their box."""
    sign_in(member)
    page.set_viewport_size({"width": 390, "height": 844})
    base = "/orgs/acme/registry/model/"
    for path in [
        "/orgs/acme/registry/",
        base,
        f"{base}classifier/?metrics=1",
        f"{base}classifier/v0/",
        f"{base}classifier/v0/files/",
        f"{base}settings/",
        f"{base}link/",
        f"{base}classifier/compare/",
        f"{base}classifier/v0/lineage/",
        "/orgs/acme/projects/ml/mnist/",
        "/orgs/acme/search/?q=classifier",
    ]:
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.goto(f"{base}classifier/?metrics=1")
    screenshot()
