"""Histories in the browser: changes without the downloads, one wording for alias moves in both
registries, one form of a source version's path, the settings of a restricted registry, and the
runs the command line records, as a person reads them in the lineage graph."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.models import ApiToken, Visibility
from apps.legacy import services as legacy
from apps.lineage.models import Run
from apps.registries.models import Registry
from registry.cli import main as cli
from tests.factories import make_link, make_registry, make_version

COLLECTION = "/orgs/acme/registry/model/classifier/"
READABLE_NAME = re.compile(r"^[a-z]+-[a-z]+-\d+$")


def move_alias_here(page, name: str) -> None:
    """Set the alias on the version whose page this is, and wait until the page shows it."""
    page.get_by_placeholder("Add or move an alias here").fill(name)
    page.get_by_role("button", name="Set alias").click()
    expect(page.locator(".chip-alias", has_text=name)).to_be_visible()


def test_downloads_stay_out_of_the_history_but_not_the_audit_log(
    page, sign_in, member, org_admin, project, models_registry, screenshot
):
    for _ in range(2):
        make_link(make_version(project, member), models_registry, member)
    sign_in(member)
    page.goto(f"{COLLECTION}v0/")
    move_alias_here(page, "staging")
    page.goto(f"{COLLECTION}v1/")
    move_alias_here(page, "staging")
    # Download the whole version and a file, more than once.
    page.get_by_role("link", name="Files").click()
    for _ in range(3):
        with page.expect_download():
            page.get_by_role("link", name="Download all as zip").click()
        with page.expect_download():
            page.get_by_role("link", name="Download", exact=True).first.click()

    page.goto(COLLECTION)
    recent = page.locator("section", has=page.get_by_role("heading", name="Recent history"))
    expect(recent).to_contain_text("staging moved from v0 to v1")
    expect(recent).not_to_contain_text("Files downloaded")
    screenshot("collection")
    recent.get_by_role("link", name="Full history").click()
    history = page.locator("ol.history")
    expect(history).to_contain_text("Alias moved")
    expect(history).not_to_contain_text("Files downloaded")
    page.goto(f"{COLLECTION}v1/history/")
    expect(page.locator("ol.history")).to_contain_text("staging moved from v0 to v1")
    expect(page.locator("ol.history")).not_to_contain_text("Files downloaded")
    screenshot("version")

    page.context.clear_cookies()
    sign_in(org_admin)
    page.goto("/orgs/acme/audit/?action=version.download")
    expect(page.locator("ol.history li")).to_have_count(6)
    expect(page.locator("ol.history")).to_contain_text("Files downloaded")
    screenshot("audit")


def test_an_alias_move_reads_alike_in_the_legacy_and_the_registry(
    page, sign_in, member, team, project, models_registry, screenshot
):
    model = legacy.register_model(actor=member, team=team, name="classifier")
    for _ in range(2):
        legacy.link_version(
            actor=member, registered_model=model, version=make_version(project, member)
        )
        make_link(make_version(project, member), models_registry, member)
    sign_in(member)
    for version_page in ("/orgs/acme/legacy/teams/ml/classifier/v0/", f"{COLLECTION}v0/"):
        page.goto(version_page)
        move_alias_here(page, "staging")
        page.goto(version_page.replace("v0/", "v1/"))
        move_alias_here(page, "staging")

    page.goto("/orgs/acme/legacy/teams/ml/classifier/")
    legacy_entry = page.locator("ol.history li", has_text="Alias moved").first
    expect(legacy_entry).to_contain_text("staging moved from v0 to v1")
    screenshot("legacy")
    page.goto(f"{COLLECTION}history/")
    registry_entry = page.locator("ol.history li", has_text="Alias moved").first
    expect(registry_entry).to_contain_text("staging moved from v0 to v1")
    screenshot("registry")


def test_a_source_version_reads_one_way(page, sign_in, member, project, models_registry):
    make_link(make_version(project, member, name="resnet50"), models_registry, member)
    sign_in(member)
    page.goto(COLLECTION)
    source = page.locator("table.data tbody tr").first.locator("td code")
    expect(source).to_have_text("ml/mnist/resnet50:v0")
    page.get_by_role("link", name="v0", exact=True).click()
    facts = page.locator("dl.facts")
    expect(facts.locator("dd code").first).to_have_text("ml/mnist/resnet50:v0")


def test_a_restricted_registry_offers_no_baseline_role(
    page, sign_in, member, organization, screenshot
):
    scratch = make_registry(organization, member, "Scratch", artifact_types=["model"])
    sign_in(member)
    page.goto("/orgs/acme/registry/scratch/settings/")
    expect(page.get_by_label("Baseline role", exact=True)).to_be_visible()
    access = page.locator("section", has=page.get_by_role("heading", name="Visibility"))
    access.get_by_label("Visibility", exact=True).select_option("restricted")
    access.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    scratch.refresh_from_db()
    assert scratch.visibility == Visibility.RESTRICTED
    expect(access.get_by_role("heading", level=2)).to_have_text("Visibility")
    expect(access.get_by_label("Visibility", exact=True)).to_be_visible()
    expect(page.get_by_label("Baseline role", exact=True)).to_have_count(0)
    screenshot()
    # Posted anyway, as an old form or a script would, it is refused with a reason.
    response = page.request.post(
        "/orgs/acme/registry/scratch/settings/",
        form={
            "form": "access",
            "visibility": "restricted",
            "baseline_role": "viewer",
            "csrfmiddlewaretoken": access.locator("input[name=csrfmiddlewaretoken]").input_value(),
        },
        headers={"Referer": page.url},
    )
    assert response.status == 400 and "has no baseline role" in response.text()
    assert Registry.objects.get(pk=scratch.pk).baseline_role == "member"


@pytest.mark.django_db(transaction=True)
def test_runs_from_the_command_line_are_told_apart_in_the_lineage(
    page, sign_in, member, project, models_registry, live_server, monkeypatch, tmp_path, screenshot
):
    _, token = ApiToken.issue(member, "cli")
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", token)
    monkeypatch.setenv("REGISTRY_CONFIG", str(tmp_path / "unused.json"))
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"trained")
    assert cli([
        "log", str(tmp_path / "model"), "--project", "acme/ml/mnist", "--name", "resnet",
        "--type", "model", "--link", "acme/model/classifier", "--job-type", "train",
    ]) == 0  # fmt: skip
    use = ["use", "acme/model/classifier:latest", "--project", "acme/ml/mnist"]
    for place in ("a", "b", "c", "d", "e"):
        assert cli([*use[:2], str(tmp_path / place), *use[2:], "--job-type", "evaluate"]) == 0
    producer = Run.objects.get(job_type="train")
    assert READABLE_NAME.match(producer.name)

    sign_in(member)
    page.goto(f"{COLLECTION}v0/lineage/")
    graph = page.locator("svg.lineage-graph")
    producer_node = graph.locator(f'[data-node="run:{producer.pk}"]')
    expect(producer_node).to_contain_text(producer.name)
    expect(producer_node).to_contain_text("train")
    cluster = graph.locator("[data-cluster]").first
    expect(cluster).to_contain_text("5 runs")
    cluster.click()
    consumers = graph.locator("[data-node^='run:']")
    expect(consumers).to_have_count(6)
    names = {node.text_content() for node in consumers.all()}
    assert len(names) == 6  # every run reads differently
    screenshot()
