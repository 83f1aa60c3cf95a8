"""The lineage graph, run and project pages, and the histories of collections and versions."""

from __future__ import annotations

import pytest

from apps.lineage.models import Run, RunInput, RunOutput
from apps.registries import services
from apps.registries.views import shared as views
from tests.factories import make_link, make_project, make_team, make_version

COL = "/orgs/acme/registry/model/classifier"


@pytest.fixture
def lineage(project, member, models_registry):
    """dataset → train → model (linked as classifier:v0) → two evaluations."""
    dataset = make_version(project, member, "images", "dataset")
    model = make_version(project, member, "resnet")
    train = Run.objects.create(
        project=project, name="bright-forest", job_type="train", config={"lr": 0.001},
        summary={"accuracy": 0.91}, created_by=member,
    )  # fmt: skip
    RunInput.objects.create(run=train, version=dataset)
    RunOutput.objects.create(run=train, version=model)
    for name in ("calm-lake", "quiet-hill"):
        RunInput.objects.create(
            run=Run.objects.create(project=project, name=name, job_type="evaluate"), version=model
        )
    link = make_link(model, models_registry, member, "classifier")
    return {"dataset": dataset, "model": model, "train": train, "link": link}


def test_the_lineage_tab_draws_the_graph_with_links_to_each_node(client, member, lineage):
    client.force_login(member)
    page = client.get(f"{COL}/v0/lineage/").content.decode()
    assert "<svg" in page and 'data-node="run:' in page
    assert "/orgs/acme/projects/ml/mnist/runs/" in page  # the training run's page
    assert "bright-forest" in page and "calm-lake" in page and "images:v0" in page
    assert "Project ml/mnist" in page  # a tooltip line


def test_names_in_the_graph_are_escaped(client, member, lineage, project):
    evil = Run.objects.create(project=project, name="<script>x()</script>", job_type="<b>")
    RunInput.objects.create(run=evil, version=lineage["model"])
    client.force_login(member)
    page = client.get(f"{COL}/v0/lineage/?expand=1").content.decode()
    assert "<script>x()</script>" not in page and "<b>" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page


def test_the_lineage_page_of_its_own_takes_depth_and_refuses_nonsense_gently(
    client, member, lineage
):
    client.force_login(member)
    url = f"/orgs/acme/lineage/{lineage['model'].uid}/"
    assert "images:v0" not in client.get(url, {"depth": 1}).content.decode()
    assert "images:v0" in client.get(url, {"depth": 2}).content.decode()
    response = client.get(url, {"depth": "nine"})
    assert response.status_code == 200 and "The defaults are shown" in response.content.decode()


def test_a_version_nobody_linked_is_404_outside_its_project(client, viewer, project, member):
    hidden = make_version(project, member, "unlinked")
    client.force_login(viewer)
    assert client.get(f"/orgs/acme/lineage/{hidden.uid}/").status_code == 404


def test_hidden_nodes_keep_their_names_from_the_page(client, viewer, lineage):
    client.force_login(viewer)  # an organization viewer, not in team ml
    page = client.get(f"{COL}/v0/lineage/").content.decode()
    assert "Hidden" in page and "node-hidden" in page
    for secret in ("bright-forest", "calm-lake", "images", "/runs/"):
        assert secret not in page


def test_a_cluster_expands_by_link(client, member, lineage, project):
    for i in range(5):
        RunInput.objects.create(
            run=Run.objects.create(project=project, name=f"sweep-{i}", job_type="evaluate"),
            version=lineage["model"],
        )
    client.force_login(member)
    collapsed = client.get(f"{COL}/v0/lineage/").content.decode()
    assert 'data-cluster="1"' in collapsed and "sweep-3" not in collapsed
    expanded = client.get(f"{COL}/v0/lineage/", {"expand": 1}).content.decode()
    assert 'data-cluster="1"' not in expanded and "sweep-3" in expanded
    found = client.get(f"{COL}/v0/lineage/", {"find": "sweep-3"}).content.decode()
    assert "sweep-3" in found and "sweep-2" not in found and 'data-cluster="1"' in found


def test_the_run_page_shows_what_the_run_was_used_and_made(client, member, lineage):
    client.force_login(member)
    page = client.get(f"/orgs/acme/projects/ml/mnist/runs/{lineage['train'].run_id}/")
    text = page.content.decode()
    assert page.status_code == 200
    for expected in ("bright-forest", "train", "maria", "0.91", "lr", "images:v0", "resnet:v0"):
        assert expected in text


def test_the_run_page_hides_versions_the_viewer_may_not_see(
    client, member, org_admin, lineage, organization
):
    """A version from another team's project, linked nowhere, used by this team's run."""
    other = make_project(make_team(organization, "secret-team"), "secret-project")
    secret = make_version(other, org_admin, "classified-data", "dataset")
    RunInput.objects.create(run=lineage["train"], version=secret)
    client.force_login(member)
    text = client.get(f"/orgs/acme/projects/ml/mnist/runs/{lineage['train'].run_id}/").content
    assert b"classified-data" not in text and b"Hidden version" in text


def test_runs_and_projects_are_404_outside_the_team(client, viewer, outsider, lineage):
    for user in (viewer, outsider):
        client.force_login(user)
        assert client.get("/orgs/acme/projects/ml/mnist/").status_code == 404
        run_url = f"/orgs/acme/projects/ml/mnist/runs/{lineage['train'].run_id}/"
        assert client.get(run_url).status_code == 404


def test_the_project_page_lists_versions_with_their_collections(client, member, lineage):
    client.force_login(member)
    text = client.get("/orgs/acme/projects/ml/mnist/").content.decode()
    assert "resnet:v0" in text and "model/classifier:v0" in text and "not linked" in text
    assert f"/orgs/acme/lineage/{lineage['model'].uid}/" in text
    only = client.get("/orgs/acme/projects/ml/mnist/", {"artifact": "images"}).content.decode()
    assert "images:v0" in only and "resnet:v0" not in only


def test_the_collection_history_names_who_moved_an_alias_from_where_to_where(
    client, member, org_admin, lineage, project, models_registry
):
    second = make_link(make_version(project, member, "resnet"), models_registry, member)
    services.set_alias(actor=member, link=lineage["link"], name="staging")
    services.set_alias(actor=org_admin, link=second, name="staging")
    services.remove_alias(actor=org_admin, link=second, name="staging")
    client.force_login(member)
    text = client.get(f"{COL}/history/").content.decode()
    moved = text.index("staging moved from v0 to v1")
    assert text.index("Alias removed") < moved < text.index("Alias added")  # newest first
    assert "olivia" in text


def test_histories_are_paged(client, member, lineage):
    link = lineage["link"]
    for i in range(views.HISTORY_PER_PAGE + 5):
        services.add_version_tags(actor=member, link=link, tags=[f"t{i}"])
    client.force_login(member)
    first = client.get(f"{COL}/v0/history/")
    assert first.content.decode().count('class="event ') == views.HISTORY_PER_PAGE
    rest = client.get(f"{COL}/v0/history/?{first.context['pager']['next_query']}")
    rest = rest.content.decode()
    assert "Version linked" in rest  # the oldest entry comes last
    assert "t0</span>" in rest or "tag t0" in rest
