from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from apps.artifacts.lookups import visible_projects
from apps.lineage.graph import NODE_HEIGHT, NODE_WIDTH
from apps.lineage.models import RunInput
from apps.lineage.panel import lineage_context

register = template.Library()

USES_SHOWN = 100


@register.inclusion_tag("lineage/includes/graph.html", takes_context=True)
def lineage_graph(context, version) -> dict:
    """A version's lineage graph as the query string asks, drawn into a page of another app
    (a registry version's lineage tab) without that page's view reading lineage itself."""
    return {**context.flatten(), **lineage_context(context["request"], version)}


@register.simple_tag(takes_context=True)
def runs_that_used(context, version) -> list[tuple[RunInput, bool]]:
    """The newest runs that used the version, each with whether the viewer may see its
    project (a hidden one is shown as such, never named)."""
    uses = RunInput.objects.filter(version=version).newest_with_runs()[:USES_SHOWN]
    viewer, organization = context["request"].user, context["organization"]
    shown = set(visible_projects(viewer, organization).values_list("pk", flat=True))
    return [(use, use.run.project_id in shown) for use in uses]


@register.simple_tag
def lineage_query(options: dict, expand: int | None) -> str:
    """The query string of the same graph with one more layer expanded, or none when None."""
    layers = [] if expand is None else sorted({*options["expand"], expand})
    params = {"depth": options["depth"], "expand": layers}
    if options["find"]:
        params["find"] = options["find"]
    return urlencode(params, doseq=True)


@register.simple_tag
def lineage_nodes(boxes) -> SafeString:
    """The SVG of the graph's node boxes.

    A graph may draw hundreds of nodes, so they are written with plain string formatting, not
    a template loop or `format_html` per node, which would be most of the page's time. What
    comes from users (names, tooltips, addresses) is escaped; the rest is numbers and fixed
    words.
    """
    parts = []
    for box in boxes:
        node = box.item
        href = f' href="{escape(node.url)}"' if node.url else ""
        parts.append(
            f'<a{href} class="{node.css_class}" data-node="{node.key}">'
            f'<g transform="translate({box.x} {box.y})"><title>{escape(node.tooltip)}</title>'
            f"{_rect(node.kind)}"
            f'<text x="14" y="19" class="kind">{escape(node.caption)}</text>'
            f'<text x="14" y="36" class="name">{escape(node.name)}</text></g></a>'
        )
    return mark_safe("\n".join(parts))


@register.simple_tag
def lineage_cluster_rects(kind: str) -> SafeString:
    """A cluster's box: a node's, with a dashed one offset over it, as of a stack of cards."""
    return mark_safe(_rect(kind) + _rect(kind, ' class="stack" x="4" y="4"'))


def _rect(kind: str, attributes: str = "") -> str:
    """A node's box at the size the layout places it: runs round-ended, versions square."""
    corner = NODE_HEIGHT // 2 if kind == "run" else 4
    return f'<rect{attributes} width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="{corner}"></rect>'
