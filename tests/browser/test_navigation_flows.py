"""Getting around: the header's navigation, pages back and forth, and the finish of the pages,
in a real browser at desktop and phone widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.audit.models import AuditAction, AuditEvent
from apps.lineage import views as lineage_views
from apps.registries.services import update_collection_description
from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
DASH = "\N{EN DASH}"  # as the pager writes ranges of rows


@pytest.fixture
def classifier(project, member, models_registry):
    """Models/classifier, v0..v2 logging accuracy 0.9, 0.95, 0.85."""
    return [
        make_link(make_version(project, member, metrics={"accuracy": a}), models_registry, member)
        for a in (0.9, 0.95, 0.85)
    ]


def fits(page) -> bool:
    """Nothing wider than the screen: no sideways scrolling of the whole page."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_navigation_reaches_every_place_on_a_phone(page, sign_in, org_admin, team, screenshot):
    page.set_viewport_size(PHONE)
    sign_in(org_admin)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Registries")).to_have_attribute("aria-current", "page")
    assert fits(page)
    screenshot("landing")
    for label, heading in [
        ("Audit log", "Audit log"),
        ("Migration", "Migrate to the Registry"),
        ("Automations", "Automations"),
        ("API docs", "API"),
    ]:
        nav.get_by_role("link", name=label).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        if label != "API docs":
            expect(nav.get_by_role("link", name=label)).to_have_attribute("aria-current", "page")
        assert fits(page), label
    screenshot("api-docs")
    nav.get_by_role("link", name="Projects").click()
    expect(page.get_by_role("heading", name="Your projects")).to_be_in_viewport()


def test_starring_both_core_registries_keeps_them_in_the_core_section(
    page, sign_in, member, screenshot
):
    sign_in(member)
    page.get_by_role("button", name="Star Models").click()
    # The list is swapped in place: the next click waits for the new one.
    expect(page.get_by_role("button", name="Unstar Models")).to_be_visible()
    page.get_by_role("button", name="Star Datasets").click()
    expect(page.get_by_role("button", name="Unstar Datasets")).to_be_visible()
    core = page.locator("section", has=page.get_by_role("heading", name="Core registries"))
    expect(core).to_contain_text("Datasets and Models are starred: listed under Starred above.")
    expect(core).not_to_contain_text("None.")
    screenshot()


def audit_events(organization, actor, n: int) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            action=AuditAction.REGISTRY_UPDATE,
            organization=organization,
            actor=actor,
            target=f"t{i}",
        )
        for i in range(n)
    )


@pytest.mark.parametrize("javascript", [True, False])
def test_the_audit_log_pages_forward_and_back(signed_in_page, organization, org_admin, javascript):
    size = lineage_views.EVENTS_PER_PAGE
    audit_events(organization, org_admin, 2 * size + 3)
    total = AuditEvent.objects.filter(organization=organization).count()
    page = signed_in_page(org_admin, viewport=PHONE, java_script_enabled=javascript)
    page.goto("/orgs/acme/audit/")
    pager = page.get_by_role("navigation", name="Pages of the audit log")
    expect(pager).to_contain_text(f"Showing 1{DASH}{size} of {total}")
    expect(pager.get_by_role("link", name="Previous")).to_have_count(0)
    pager.get_by_role("link", name="Next").click()
    expect(pager).to_contain_text(f"Showing {size + 1}{DASH}{2 * size} of {total}")
    pager.get_by_role("link", name="Next").click()
    expect(pager).to_contain_text(f"Showing {2 * size + 1}{DASH}{total} of {total}")
    expect(pager.get_by_role("link", name="Next")).to_have_count(0)
    assert fits(page)
    pager.get_by_role("link", name="Previous").click()
    expect(pager).to_contain_text(f"Showing {size + 1}{DASH}{2 * size} of {total}")
    pager.get_by_role("link", name="First").click()
    expect(pager).to_contain_text(f"Showing 1{DASH}{size} of {total}")
    # The filters' date inputs are a usable size, like the other fields.
    since = page.get_by_label("Since").bounding_box()
    who = page.get_by_label("Who (username)").bounding_box()
    assert since["width"] >= 140 and since["height"] == pytest.approx(who["height"], abs=2)


def test_sorted_columns_say_their_direction(page, sign_in, member, classifier, screenshot):
    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/?metrics=1")
    version = page.get_by_role("columnheader", name="Version")
    expect(version).to_have_attribute("aria-sort", "descending")
    expect(version).to_contain_text("▼")
    page.get_by_role("link", name="accuracy").click()
    accuracy = page.get_by_role("columnheader", name="accuracy")
    expect(accuracy).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_role("columnheader", name="Version")).not_to_have_attribute(
        "aria-sort", "descending"
    )
    page.get_by_role("link", name="accuracy").click()
    expect(accuracy).to_have_attribute("aria-sort", "ascending")
    expect(accuracy).to_contain_text("▲")
    page.goto("/orgs/acme/registry/model/")
    updated = page.get_by_role("columnheader", name="Updated")
    expect(updated).to_have_attribute("aria-sort", "descending")
    screenshot()


def test_the_finish_of_version_and_compare_pages(page, sign_in, member, classifier, screenshot):
    collection = classifier[0].collection
    update_collection_description(
        actor=member,
        collection=collection,
        description="| metric | value |\n|---|---|\n| accuracy | 0.9 |\n\n> Trained on the subset.",
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/")
    cell = page.locator(".markdown td").first
    assert cell.evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
    quote = page.locator(".markdown blockquote")
    assert quote.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
    page.goto("/orgs/acme/registry/model/classifier/v1/")
    compare = page.get_by_role("link", name="Compare with the previous version, v0")
    gap = compare.evaluate(
        "e => e.getBoundingClientRect().top"
        " - e.parentElement.previousElementSibling.getBoundingClientRect().bottom"
    )
    assert gap >= 12  # the button no longer touches the card above it
    page.goto("/orgs/acme/registry/model/classifier/v1/usage/")
    page.get_by_role("button", name="Copy the shell command").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "registry download acme/model/classifier:v1 ./classifier"
    page.get_by_role("button", name="Copy the Python snippet").click()
    assert 'use_artifact("acme/model/classifier:v1")' in page.evaluate(
        "navigator.clipboard.readText()"
    )
    page.set_viewport_size(PHONE)
    page.goto("/orgs/acme/registry/model/classifier/compare/?v=0&v=1")
    chart = page.locator("svg.chart").first
    assert chart.bounding_box()["width"] >= 600  # its 12px labels stay 10px or more
    assert fits(page)
    screenshot("compare-phone")


def test_the_compare_table_says_its_order(page, sign_in, member, classifier):
    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/compare/?v=0&v=1")
    metric = page.get_by_role("columnheader", name="Metric")
    expect(metric).to_have_attribute("aria-sort", "ascending")
    page.get_by_role("link", name="v1", exact=True).click()
    v1 = page.locator("th", has=page.get_by_role("link", name="v1", exact=True))
    expect(v1).to_have_attribute("aria-sort", "descending")
    expect(v1).to_contain_text("▼")
    expect(page.get_by_role("columnheader", name="Metric")).not_to_have_attribute(
        "aria-sort", "ascending"
    )
