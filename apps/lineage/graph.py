"""The lineage of a version: the runs and versions upstream and downstream of it, in layers.

The graph is bipartite and directed from producer to consumer: a run points to the versions it
logged, a version to the runs that used it. Walking it costs one query per layer (each layer is
fetched for the whole frontier at once), plus a fixed few for visibility and labels, so the
query count grows with the depth and never with the number of nodes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.urls import reverse

from apps.accounts.policy import visible_registries
from apps.artifacts.lookups import visible_projects
from apps.artifacts.models import ArtifactVersion, Project
from apps.lineage.models import Run, RunInput, RunOutput, RunState
from apps.registries.lookups import visible_version_ids
from apps.registries.models import Alias, Link

MAX_DEPTH = 5
DEFAULT_DEPTH = 2
# A layer with this many nodes or more is drawn as one cluster until it is expanded.
CLUSTER_AT = 5
# A node's tooltip names this many of the collections its version is linked into.
LINKS_PER_NODE = 3


@dataclass
class LinkRef:
    """Where a version is linked: enough to name and address it, without loading models."""

    registry: str
    collection: str
    number: int
    total: int  # how many visible links the version has in all
    aliases: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.registry}/{self.collection}:v{self.number}"


@dataclass(eq=False)
class Node:
    """A run or an artifact version. Its name is known at once, since layers are sorted and
    searched by it; its address and tooltip are worked out only for the nodes drawn."""

    key: str  # "run:<pk>" or "version:<pk>"
    kind: str  # "run" or "version"
    layer: int  # 0 is the version the graph is about; negative upstream, positive downstream
    org: str
    row: dict  # the run's or the version's columns
    hidden: bool = False
    label: str = ""
    kind_label: str = ""  # the job type of a run, the artifact type of a version
    project: str | None = None  # "<team>/<project>", when the viewer may see the project
    links: list[LinkRef] = field(default_factory=list)  # a version's first visible links

    @cached_property
    def url(self) -> str:
        if self.hidden:
            return ""
        row = self.row
        if self.kind == "run":
            team, project = self.project.split("/")
            return reverse(
                "lineage:run",
                kwargs={"org": self.org, "team": team, "project": project, "run_id": row["run_id"]},
            )
        if self.links:
            link = self.links[0]
            return reverse(
                "registries:version",
                kwargs={
                    "org": self.org,
                    "registry": link.registry,
                    "collection": link.collection,
                    "number": link.number,
                },
            )
        team, project = self.project.split("/")
        return (
            reverse("lineage:project", kwargs={"org": self.org, "team": team, "project": project})
            + f"#version-{row['uid']}"
        )

    @cached_property
    def details(self) -> list[str]:
        row = self.row
        if self.hidden:
            what = "run" if self.kind == "run" else "artifact version"
            return [f"A {what} in a project or registry you may not see."]
        if self.kind == "run":
            state = RunState(row["state"]).label.lower()
            return [
                f"Run {row['name']} ({row['run_id']})",
                f"Project {self.project}",
                f"Job type: {row['job_type'] or '—'}; state: {state}",
                f"Started {row['started_at']:%Y-%m-%d %H:%M} by {row['user'] or 'unknown'}",
            ]
        if self.project:
            lines = [f"Artifact {self.label}", f"Project {self.project}"]
        else:
            lines = [f"Artifact version {self.label}"]
        lines += [f"Type: {row['type']}", f"Created {row['created_at']:%Y-%m-%d %H:%M}"]
        lines += [
            f"Linked as {link.path}" + "".join(f" @{alias}" for alias in link.aliases)
            for link in self.links
        ]
        if self.links and self.links[0].total > len(self.links):
            lines.append(f"and in {self.links[0].total - len(self.links)} more collections")
        return lines

    @property
    def css_class(self) -> str:
        hidden = " node-hidden" if self.hidden else ""
        focus = " node-focus" if self.layer == 0 else ""
        return f"node node-{self.kind}{hidden}{focus}"

    @property
    def tooltip(self) -> str:
        return "\n".join(self.details)

    @property
    def caption(self) -> str:
        """The small line above the name: what kind of node this is."""
        if self.hidden:
            return f"hidden {'run' if self.kind == 'run' else 'version'}"
        return _fit(self.kind_label, 28)

    @property
    def name(self) -> str:
        return _fit(self.label, 26)


def _fit(text: str, width: int) -> str:
    """Text cut to the characters a node's box has room for."""
    return text if len(text) <= width else text[: width - 1] + "…"


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

    @property
    def name(self) -> str:
        count = len(self.nodes)
        return f"{count} runs" if self.kind == "run" else f"{count} artifact versions"


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
    layer_of = {f"version:{version.pk}": 0}
    edges: set[tuple[str, str]] = set()
    for direction in (-1, 1):
        kind, frontier = "version", {version.pk}
        for step in range(1, depth + 1):
            if not frontier:
                break
            kind, frontier = _walk_one_layer(kind, frontier, direction * step, layer_of, edges)
    nodes = _describe(layer_of, viewer, version)
    layers: dict[int, list[Node]] = defaultdict(list)
    for node in sorted(nodes, key=lambda node: (node.hidden, node.label.lower(), node.key)):
        layers[node.layer].append(node)
    focus = next(node for node in layers[0] if node.key == f"version:{version.pk}")
    return Graph(focus=focus, depth=depth, layers=dict(sorted(layers.items())), edges=edges)


def _walk_one_layer(kind: str, frontier: set[int], layer: int, layer_of: dict, edges: set):
    """Take one step from the frontier, in one query, recording the edges crossed.

    From versions: upstream to the runs that logged them, downstream to the runs that used
    them; from runs: upstream to what they used, downstream to what they logged. Returns the
    kind and ids of the nodes reached for the first time, placed on `layer`.
    """
    upstream = layer < 0
    model = RunOutput if (kind == "version") == upstream else RunInput
    reached_kind = "run" if kind == "version" else "version"
    reached = set()
    rows = model.objects.filter(**{f"{kind}_id__in": frontier}).values_list("run_id", "version_id")
    for run_id, version_id in rows:
        run_key, version_key = f"run:{run_id}", f"version:{version_id}"
        # A run points to the versions it logged (RunOutput); a version to its users (RunInput).
        edges.add((run_key, version_key) if model is RunOutput else (version_key, run_key))
        key, pk = (run_key, run_id) if reached_kind == "run" else (version_key, version_id)
        if key not in layer_of:
            layer_of[key] = layer
            reached.add(pk)
    return reached_kind, reached


def _describe(layer_of: dict[str, int], viewer: Any, focus: ArtifactVersion) -> list[Node]:
    """Label each node, or hide it as the policy says, in a fixed number of queries. A version
    the viewer sees only through a registry is named by its link there, not by its project."""
    ids: dict[str, list[int]] = {"run": [], "version": []}
    for key in layer_of:
        kind, pk = key.split(":")
        ids[kind].append(int(pk))
    # Rows, not models, and only what labels and tooltips show: at hundreds of nodes, building
    # model instances (and decoding run configs and version metadata) would cost the most.
    runs = {
        row["pk"]: row
        for row in Run.objects.filter(pk__in=ids["run"]).values(
            "pk", "project_id", "run_id", "name", "job_type", "state", "started_at",
            user=F("created_by__username"),
        )
    }  # fmt: skip
    versions = {
        row["pk"]: row
        for row in ArtifactVersion.objects.filter(pk__in=ids["version"]).values(
            "pk", "uid", "number", "created_at", project_id=F("artifact__project_id"),
            artifact_name=F("artifact__name"), type=F("artifact__artifact_type"),
        )
    }  # fmt: skip
    project_ids = {row["project_id"] for row in [*runs.values(), *versions.values()]}
    projects = {
        pk: f"{team}/{name}"
        for pk, team, name in Project.objects.filter(pk__in=project_ids).values_list(
            "pk", "team__slug", "name"
        )
    }
    organization = focus.artifact.project.team.organization
    shown_projects = set(visible_projects(viewer, organization).values_list("pk", flat=True))
    shown_versions = visible_version_ids(viewer, organization, versions)
    links = _links_by_version(viewer, organization, shown_versions)
    org = organization.slug
    nodes = []
    for pk, run in runs.items():
        node = Node(key=f"run:{pk}", kind="run", layer=layer_of[f"run:{pk}"], org=org, row=run)
        if run["project_id"] in shown_projects:
            node.label, node.kind_label = run["name"], run["job_type"] or "run"
            node.project = projects[run["project_id"]]
        else:
            node.hidden, node.label = True, "Hidden"
        nodes.append(node)
    for pk, version in versions.items():
        key = f"version:{pk}"
        node = Node(key=key, kind="version", layer=layer_of[key], org=org, row=version)
        if pk in shown_versions:
            node.kind_label, node.links = version["type"], links.get(pk, [])
            if version["project_id"] in shown_projects:
                node.project = projects[version["project_id"]]
                node.label = f"{version['artifact_name']}:v{version['number']}"
            else:  # seen through a registry only: named by its link there
                node.label = f"{node.links[0].collection}:v{node.links[0].number}"
        else:
            node.hidden, node.label = True, "Hidden"
        nodes.append(node)
    return nodes


def _links_by_version(viewer, organization, version_ids) -> dict[int, list[LinkRef]]:
    """The first LINKS_PER_NODE links of each version in registries the viewer sees, in two
    queries (links, then their aliases) however many links there are."""
    order = ["collection__registry__name", "collection__name", "number"]
    rows = (
        Link.objects.live()
        .filter(
            version_id__in=version_ids,
            collection__registry__in=visible_registries(viewer, organization),
        )
        .annotate(
            rank=Window(RowNumber(), partition_by="version_id", order_by=order),
            total=Window(Count("pk"), partition_by="version_id"),
        )
        .filter(rank__lte=LINKS_PER_NODE)
        .order_by("version_id", "rank")
        .values_list(
            "pk", "version_id", "collection__registry__slug", "collection__name", "number", "total"
        )
    )
    by_pk = {}
    by_version: dict[int, list[LinkRef]] = defaultdict(list)
    for pk, version_id, registry, collection, number, total in rows:
        by_pk[pk] = LinkRef(registry, collection, number, total)
        by_version[version_id].append(by_pk[pk])
    aliases = Alias.objects.filter(link_id__in=by_pk).order_by("name")
    for link_id, name in aliases.values_list("link_id", "name"):
        by_pk[link_id].aliases.append(name)
    return by_version


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

    @property
    def node_boxes(self) -> list[Box]:
        return [box for box in self.boxes if not box.is_cluster]

    @property
    def cluster_boxes(self) -> list[Box]:
        return [box for box in self.boxes if box.is_cluster]

    @property
    def clusters(self) -> list[Cluster]:
        return [box.item for box in self.cluster_boxes]


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
    return Layout(boxes=boxes, paths=sorted(paths), width=width, height=height)
