from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import RegistryRole, TeamRole, Visibility
from apps.artifacts.models import ArtifactVersion
from apps.lineage.graph import CLUSTER_AT, build_graph, layout
from apps.lineage.models import Run, RunInput, RunOutput
from tests.factories import grant, make_link, make_registry, make_version


def run(project, name: str, job_type: str = "train") -> Run:
    return Run.objects.create(project=project, name=name, job_type=job_type)


def logs(run_: Run, *versions) -> None:
    RunOutput.objects.bulk_create(RunOutput(run=run_, version=version) for version in versions)


def uses(run_: Run, *versions) -> None:
    RunInput.objects.bulk_create(RunInput(run=run_, version=version) for version in versions)


@pytest.fixture
def chain(project, member):
    """prep → dataset → train → model → evaluate → report: a cycle-free chain."""
    prep = run(project, "prep", "preprocess")
    train = run(project, "train")
    evaluate = run(project, "eval", "evaluate")
    dataset = make_version(project, member, "images", "dataset")
    model = make_version(project, member, "resnet", "model")
    report = make_version(project, member, "report", "evaluation")
    logs(prep, dataset)
    uses(train, dataset)
    logs(train, model)
    uses(evaluate, model)
    logs(evaluate, report)
    return {"prep": prep, "train": train, "eval": evaluate, "dataset": dataset, "model": model,
            "report": report}  # fmt: skip


def labels(graph, layer: int) -> list[str]:
    return [node.label for node in graph.layers.get(layer, [])]


def test_a_chain_lays_producers_left_and_consumers_right(chain, member):
    graph = build_graph(chain["model"], member, depth=2)
    assert {layer: labels(graph, layer) for layer in graph.layers} == {
        -2: ["images:v0"],
        -1: ["train"],
        0: ["resnet:v0"],
        1: ["eval"],
        2: ["report:v0"],
    }
    key = {name: f"{'run' if isinstance(obj, Run) else 'version'}:{obj.pk}"
           for name, obj in chain.items()}  # fmt: skip
    assert graph.edges == {
        (key["dataset"], key["train"]),
        (key["train"], key["model"]),
        (key["model"], key["eval"]),
        (key["eval"], key["report"]),
    }


def test_depth_bounds_the_walk(chain, member):
    assert sorted(build_graph(chain["model"], member, depth=1).layers) == [-1, 0, 1]
    deeper = build_graph(chain["model"], member, depth=3)
    assert labels(deeper, -3) == ["prep"] and 3 not in deeper.layers  # nothing beyond the report
    assert build_graph(chain["model"], member, depth=99).depth == 5


def test_a_fan_in_and_a_fan_out(project, member):
    datasets = [make_version(project, member, f"part-{i}", "dataset") for i in range(3)]
    model = make_version(project, member, "model")
    train = run(project, "train")
    uses(train, *datasets)
    logs(train, model)
    evaluations = [run(project, f"eval-{i}", "evaluate") for i in range(7)]
    for evaluation in evaluations:
        uses(evaluation, model)
    graph = build_graph(model, member, depth=2)
    assert labels(graph, -2) == ["part-0:v0", "part-1:v0", "part-2:v0"]
    assert len(graph.layers[1]) == 7 and 2 not in graph.layers
    assert len([edge for edge in graph.edges if edge[0] == f"version:{model.pk}"]) == 7


def test_a_node_reached_twice_is_drawn_once(project, member):
    """A diamond: two runs use the model, and one also uses the other's output."""
    model = make_version(project, member, "model")
    first, second = run(project, "first"), run(project, "second")
    uses(first, model)
    uses(second, model)
    middle = make_version(project, member, "middle")
    logs(first, middle)
    uses(second, middle)
    graph = build_graph(model, member, depth=3)
    keys = [node.key for nodes in graph.layers.values() for node in nodes]
    assert len(keys) == len(set(keys)) == 4


def test_a_big_layer_clusters_and_expands_and_finds(project, member):
    model = make_version(project, member, "model")
    for i in range(CLUSTER_AT + 3):
        uses(run(project, f"eval-{i}", "evaluate"), model)
    graph = build_graph(model, member, depth=1)
    collapsed = layout(graph)
    assert [box.item.layer for box in collapsed.boxes if box.is_cluster] == [1]
    assert len(collapsed.boxes) == 2 and len(collapsed.paths) == 1
    expanded = layout(graph, expand={1})
    assert not expanded.clusters and len(expanded.boxes) == CLUSTER_AT + 4
    found = layout(graph, find="EVAL-7")
    assert [box.item.label for box in found.boxes if not box.is_cluster] == ["model:v0", "eval-7"]
    assert len(found.clusters[0].nodes) == CLUSTER_AT + 2


def test_a_small_layer_never_clusters(chain, member):
    assert not layout(build_graph(chain["model"], member, depth=5)).clusters


def _queries(version, user, depth) -> int:
    # As the pages pass it: with its project and organization already loaded.
    version = ArtifactVersion.objects.select_related("artifact__project__team__organization").get(
        pk=version.pk
    )
    with CaptureQueriesContext(connection) as captured:
        build_graph(version, user, depth=depth)
    return len(captured)


@pytest.mark.slow
def test_queries_grow_with_depth_not_with_nodes(project, member):
    small = make_version(project, member, "small")
    uses(run(project, "one", "evaluate"), small)
    big = make_version(project, member, "big")
    # 250 runs each logging a version: 500 nodes downstream.
    runs = Run.objects.bulk_create(Run(project=project, name=f"r{i}", run_id=f"r{i}")
                                   for i in range(250))  # fmt: skip
    uses_all = [RunInput(run=r, version=big) for r in runs]
    RunInput.objects.bulk_create(uses_all)
    outputs = [make_version(project, member, f"out-{i}") for i in range(250)]
    RunOutput.objects.bulk_create(
        RunOutput(run=r, version=v) for r, v in zip(runs, outputs, strict=True)
    )
    assert build_graph(big, member, depth=2).node_count == 501
    assert _queries(big, member, 2) == _queries(small, member, 2)
    assert _queries(big, member, 4) - _queries(big, member, 2) <= 4  # one per extra layer


@pytest.fixture
def restricted_setup(organization, org_admin, member, viewer, project, models_registry):
    """The model is linked into Models; its dataset into a restricted registry; runs in `mnist`."""
    dataset = make_version(project, member, "secret-data", "dataset")
    model = make_version(project, member, "resnet")
    train = run(project, "train")
    uses(train, dataset)
    logs(train, model)
    restricted = make_registry(organization, org_admin, "Vault", visibility=Visibility.RESTRICTED,
                               artifact_types=["dataset"])  # fmt: skip
    make_link(dataset, restricted, org_admin, collection="vault-data")
    make_link(model, models_registry, member, collection="classifier")
    return {"dataset": dataset, "model": model, "train": train, "vault": restricted}


def shown(graph) -> dict[int, list[tuple[str, bool]]]:
    return {layer: [(n.label, n.hidden) for n in nodes] for layer, nodes in graph.layers.items()}


def test_a_viewer_outside_the_team_sees_registry_versions_and_placeholders(
    restricted_setup, viewer
):
    graph = build_graph(restricted_setup["model"], viewer, depth=2)
    assert shown(graph) == {
        -2: [("Hidden", True)],  # the dataset: neither its project nor its registry is theirs
        -1: [("Hidden", True)],  # the run: its project is not theirs
        0: [("classifier:v0", False)],  # named by its link, not by the project
    }
    assert all(not node.url for node in graph.layers[-1] + graph.layers[-2])
    assert "secret" not in " ".join(" ".join(n.details) for n in graph.layers[-2])


def test_a_team_member_sees_the_project_and_a_restricted_grant_reveals_the_dataset(
    restricted_setup, member, viewer, organization
):
    assert shown(build_graph(restricted_setup["model"], member, depth=2))[-2] == [
        ("secret-data:v0", False)
    ]
    grant(restricted_setup["vault"], RegistryRole.RESTRICTED_VIEWER, user=viewer)
    dataset_node = build_graph(restricted_setup["model"], viewer, depth=2).layers[-2][0]
    assert dataset_node.label == "vault-data:v0" and "/vault/vault-data/v0/" in dataset_node.url


def test_an_organization_admin_sees_everything(restricted_setup, org_admin):
    graph = build_graph(restricted_setup["model"], org_admin, depth=2)
    assert not any(node.hidden for nodes in graph.layers.values() for node in nodes)


def test_a_team_viewer_sees_runs_of_their_team(project, member, viewer):
    project.team.add_member(viewer, TeamRole.VIEWER)
    model = make_version(project, member, "resnet")
    logs(run(project, "train"), model)
    assert shown(build_graph(model, viewer, depth=1))[-1] == [("train", False)]
