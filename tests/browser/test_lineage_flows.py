from __future__ import annotations

from playwright.sync_api import expect

from apps.lineage.models import Run, RunInput, RunOutput
from tests.factories import make_link, make_version


def test_opening_a_graph_expanding_a_cluster_and_following_a_node(
    page, sign_in, member, project, models_registry, screenshot
):
    dataset = make_version(project, member, "images", "dataset")
    model = make_version(project, member, "resnet")
    train = Run.objects.create(project=project, name="bright-forest", job_type="train")
    RunInput.objects.create(run=train, version=dataset)
    RunOutput.objects.create(run=train, version=model)
    for i in range(6):
        evaluation = Run.objects.create(project=project, name=f"eval-{i}", job_type="evaluate")
        RunInput.objects.create(run=evaluation, version=model)
    make_link(model, models_registry, member, "classifier")

    sign_in(member)
    page.goto("/orgs/acme/registry/model/classifier/v0/")
    page.get_by_role("link", name="Lineage", exact=True).click()
    graph = page.locator("svg.lineage-graph")
    expect(graph).to_be_visible()
    expect(graph.locator("[data-node]")).to_have_count(3)  # dataset, run, model
    cluster = graph.locator('[data-cluster="1"]')
    expect(cluster).to_contain_text("6 runs")
    screenshot("collapsed")

    cluster.click()
    expect(graph.locator("[data-cluster]")).to_have_count(0)
    expect(graph.locator("[data-node^='run:']")).to_have_count(7)
    screenshot("expanded")

    page.get_by_label("Find in clusters").fill("eval-4")
    page.get_by_role("button", name="Show").click()
    expect(graph.locator("[data-node^='run:']")).to_have_count(7)  # still expanded, kept in the URL

    graph.locator(f'[data-node="run:{train.pk}"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("bright-forest")
    expect(page.get_by_role("link", name="resnet:v0")).to_be_visible()
    screenshot("run")
