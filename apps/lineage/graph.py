"""The lineage of a version: the runs and versions upstream and downstream of it, in layers.

The graph is bipartite and directed from producer to consumer: a run points to the versions it
logged, a version to the runs that used it. Walking it costs one query per layer (each layer is
fetched for the whole frontier at once), plus a fixed few for visibility and labels, so the
query count grows with the depth and never with the number of nodes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from apps.accounts.policy import visible_projects, visible_registries, visible_version_ids
from apps.artifacts.models import ArtifactVersion
from apps.lineage.models import Run, RunInput, RunOutput
from apps.registries.models import Link

MAX_DEPTH = 5
DEFAULT_DEPTH = 2
# A layer with this many nodes or more is drawn as one cluster until it is expanded.
CLUSTER_AT = 5


@dataclass
class Node:
    key: str  # "run:<pk>" or "version:<pk>"
    kind: str  # "run" or "version"
    layer: int  # 0 is the version the graph is about; negative upstream, positive downstream
    hidden: bool = False
    label: str = ""
    kind_label: str = ""  # the job type of a run, the artifact type of a version
    details: list[str] = field(default_factory=list)
    url: str = ""


@dataclass
class Cluster:
    layer: int
    nodes: list[Node]
    key: str = ""

    def __post_init__(self) -> None:
        self.key = f"cluster:{self.layer}"

    @property
    def kind(self) -> str:
        return self.nodes[0].kind


@dataclass
class Graph:
    focus: Node
    depth: int
    layers: dict[int, list[Node]]
    edges: set[tuple[str, str]]  # (producer key, consumer key)

    @property
    def node_count(self) -> int:
        return sum(len(nodes) for nodes in self.layers.values())


def build_graph(version: ArtifactVersion, viewer: Any, depth: int = DEFAULT_DEPTH) -> Graph:
    """Walk `depth` steps upstream and downstream of `version`; hide what the viewer may not see."""
    depth = max(1, min(depth, MAX_DEPTH))
    versions: dict[int, ArtifactVersion] = {version.pk: version}
    runs: dict[int, Run] = {}
    layer_of = {f"version:{version.pk}": 0}
    edges: set[tuple[str, str]] = set()
    for direction in (-1, 1):
        version_frontier, run_frontier = {version.pk}, set()
        for step in range(1, depth + 1):
            layer = direction * step
            if version_frontier:
                # Versions to runs: upstream, the run that logged them; downstream, runs using them.
                run_frontier = set()
                edge_model = RunOutput if direction < 0 else RunInput
                for edge in edge_model.objects.filter(
                    version_id__in=version_frontier
                ).select_related("run__project__team", "run__created_by"):
                    run_key, version_key = f"run:{edge.run_id}", f"version:{edge.version_id}"
                    edges.add((run_key, version_key) if direction < 0 else (version_key, run_key))
                    if run_key not in layer_of:
                        layer_of[run_key] = layer
                        runs[edge.run_id] = edge.run
                        run_frontier.add(edge.run_id)
                version_frontier = set()
            else:
                # Runs to versions: upstream, what they used; downstream, what they logged.
                edge_model = RunInput if direction < 0 else RunOutput
                for edge in edge_model.objects.filter(run_id__in=run_frontier).select_related(
                    "version__artifact__project__team"
                ):
                    run_key, version_key = f"run:{edge.run_id}", f"version:{edge.version_id}"
                    edges.add((version_key, run_key) if direction < 0 else (run_key, version_key))
                    if version_key not in layer_of:
                        layer_of[version_key] = layer
                        versions[edge.version_id] = edge.version
                        version_frontier.add(edge.version_id)
                run_frontier = set()
            if not version_frontier and not run_frontier:
                break
    nodes = _describe(versions, runs, layer_of, viewer, version)
    layers: dict[int, list[Node]] = defaultdict(list)
    for node in sorted(nodes, key=lambda node: (node.hidden, node.label.lower(), node.key)):
        layers[node.layer].append(node)
    focus = next(node for node in layers[0] if node.key == f"version:{version.pk}")
    return Graph(focus=focus, depth=depth, layers=dict(sorted(layers.items())), edges=edges)


def _describe(versions, runs, layer_of, viewer, focus: ArtifactVersion) -> list[Node]:
    """Label each node, or hide it as the policy says. A version the viewer sees only through a
    registry is named by its link there, not by its project."""
    organization = focus.artifact.project.team.organization
    project_ids = set(visible_projects(viewer, organization).values_list("pk", flat=True))
    shown_versions = visible_version_ids(viewer, organization, versions)
    links_by_version: dict[int, list[Link]] = defaultdict(list)
    for link in (
        Link.objects.live()
        .filter(
            version_id__in=shown_versions,
            collection__registry__in=visible_registries(viewer, organization),
        )
        .select_related("collection__registry")
        .prefetch_related("aliases")
        .order_by("collection__registry__name", "collection__name", "number")
    ):
        links_by_version[link.version_id].append(link)
    nodes = []
    for pk, run in runs.items():
        node = Node(key=f"run:{pk}", kind="run", layer=layer_of[f"run:{pk}"])
        if run.project_id in project_ids:
            _describe_run(node, run, organization.slug)
        else:
            _hide(node)
        nodes.append(node)
    for pk, version in versions.items():
        node = Node(key=f"version:{pk}", kind="version", layer=layer_of[f"version:{pk}"])
        if pk in shown_versions:
            in_project = version.artifact.project_id in project_ids
            _describe_version(node, version, links_by_version[pk], organization.slug, in_project)
        else:
            _hide(node)
        nodes.append(node)
    return nodes


def _hide(node: Node) -> None:
    node.hidden = True
    node.label = "Hidden"
    what = "run" if node.kind == "run" else "artifact version"
    node.details = [f"A {what} in a project or registry you may not see."]


def _describe_run(node: Node, run: Run, org: str) -> None:
    project = run.project
    node.label = run.name
    node.kind_label = run.job_type or "run"
    node.url = reverse(
        "lineage:run",
        kwargs={
            "org": org,
            "team": project.team.slug,
            "project": project.name,
            "run_id": run.run_id,
        },
    )
    node.details = [
        f"Run {run.name} ({run.run_id})",
        f"Project {project.team.slug}/{project.name}",
        f"Job type: {run.job_type or '—'}; state: {run.get_state_display().lower()}",
        f"Started {run.started_at:%Y-%m-%d %H:%M} by {run.created_by or 'unknown'}",
    ]


def _describe_version(
    node: Node, version: ArtifactVersion, links: list[Link], org: str, in_project: bool
) -> None:
    artifact = version.artifact
    node.kind_label = artifact.artifact_type
    paths = [
        f"{link.collection.registry.slug}/{link.collection.name}:v{link.number}"
        + "".join(f" @{alias.name}" for alias in link.aliases.all())
        for link in links
    ]
    if in_project:
        node.label = f"{artifact.name}:v{version.number}"
        node.details = [
            f"Artifact {artifact.name}:v{version.number}",
            f"Project {artifact.project.team.slug}/{artifact.project.name}",
        ]
    else:
        first = links[0]
        node.label = f"{first.collection.name}:v{first.number}"
        node.details = [f"Artifact version {node.label}"]
    node.details += [
        f"Type: {artifact.artifact_type}",
        f"Created {version.created_at:%Y-%m-%d %H:%M}",
    ]
    node.details += [f"Linked as {path}" for path in paths]
    if links:
        link = links[0]
        node.url = reverse(
            "registries:version",
            kwargs={
                "org": org,
                "registry": link.collection.registry.slug,
                "collection": link.collection.name,
                "number": link.number,
            },
        )
    else:
        project = artifact.project
        node.url = (
            reverse(
                "lineage:project",
                kwargs={"org": org, "team": project.team.slug, "project": project.name},
            )
            + f"#version-{version.uid}"
        )


# Layout: one column per layer, producers left, consumers right.
NODE_WIDTH, NODE_HEIGHT = 210, 46
COLUMN_GAP, ROW_GAP, MARGIN = 70, 14, 10


@dataclass
class Box:
    """A node or a cluster placed on the drawing."""

    item: Node | Cluster
    x: int
    y: int

    @property
    def is_cluster(self) -> bool:
        return isinstance(self.item, Cluster)


@dataclass
class Layout:
    boxes: list[Box]
    paths: list[str]  # SVG path data of the edges
    width: int
    height: int
    clusters: list[Cluster]


def layout(graph: Graph, expand: set[int] = frozenset(), find: str = "") -> Layout:
    """Place the graph: a layer of CLUSTER_AT nodes or more becomes one cluster unless expanded;
    nodes matching `find` are taken out of their cluster so they can be followed."""
    find = find.strip().lower()
    columns: list[list[Node | Cluster]] = []
    for layer, nodes in graph.layers.items():
        if len(nodes) < CLUSTER_AT or layer in expand:
            columns.append(list(nodes))
            continue
        found = [node for node in nodes if find and not node.hidden and find in node.label.lower()]
        rest = [node for node in nodes if node not in found]
        columns.append(found + ([Cluster(layer, rest)] if rest else []))
    rows = max(len(column) for column in columns)
    height = 2 * MARGIN + rows * NODE_HEIGHT + (rows - 1) * ROW_GAP
    boxes, where = [], {}
    for index, column in enumerate(columns):
        x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
        top = (height - (len(column) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) // 2
        for row, item in enumerate(column):
            box = Box(item, x, top + row * (NODE_HEIGHT + ROW_GAP))
            boxes.append(box)
            members = item.nodes if isinstance(item, Cluster) else [item]
            for node in members:
                where[node.key] = box
    paths = set()
    for producer, consumer in graph.edges:
        start, end = where[producer], where[consumer]
        if start is end:
            continue
        x1, y1 = start.x + NODE_WIDTH, start.y + NODE_HEIGHT // 2
        x2, y2 = end.x, end.y + NODE_HEIGHT // 2
        bend = max(COLUMN_GAP // 2, abs(x2 - x1) // 2)
        paths.add(f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}")
    width = 2 * MARGIN + len(columns) * NODE_WIDTH + (len(columns) - 1) * COLUMN_GAP
    clusters = [box.item for box in boxes if box.is_cluster]
    return Layout(boxes=boxes, paths=sorted(paths), width=width, height=height, clusters=clusters)
