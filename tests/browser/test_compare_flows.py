"""Comparing versions, clicked through in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)


def test_selecting_three_versions_comparing_and_showing_differences_only(
    page, sign_in, member, project, models_registry, screenshot
):
    for accuracy, loss in ((0.7, 0.5), (0.9, 0.3), (0.8, 0.3), (0.6, 0.6)):
        metrics = {"accuracy": accuracy, "loss": loss, "epochs": 10}
        make_link(make_version(project, member, metrics=metrics), models_registry, member)

    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/")
    for number in (0, 1, 2):
        page.get_by_label(f"Compare v{number}").check()
    page.get_by_role("button", name="Compare selected").click()

    expect(page).to_have_url("/orgs/acme/registry/model/classifier/compare/?v=2&v=1&v=0")
    table = page.locator("table.compare-table")
    expect(table.locator("tbody tr")).to_have_count(3)  # accuracy, epochs, loss
    accuracy = table.locator("tbody tr", has=page.get_by_role("rowheader", name="accuracy"))
    expect(accuracy.locator("td.best")).to_contain_text("0.9")
    expect(page.locator("svg.chart").first).to_be_visible()
    screenshot("all")

    page.get_by_label("Differences only").check()
    expect(table.locator("tbody tr")).to_have_count(2)  # epochs agrees everywhere
    expect(page.get_by_role("rowheader", name="epochs")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/compare/\?v=0&v=1&v=2&.*only=differences"))
    screenshot("differences")
