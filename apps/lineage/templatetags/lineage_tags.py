from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


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
            '<rect width="210" height="46"></rect>'
            f'<text x="14" y="19" class="kind">{escape(node.caption)}</text>'
            f'<text x="14" y="36" class="name">{escape(node.name)}</text></g></a>'
        )
    return mark_safe("\n".join(parts))
