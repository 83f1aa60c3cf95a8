from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def lineage_query(options: dict, expand: int | None) -> str:
    """The query string of the same graph with one more layer expanded, or none when None."""
    layers = [] if expand is None else sorted({*options["expand"], expand})
    params = {"depth": options["depth"], "expand": layers}
    if options["find"]:
        params["find"] = options["find"]
    return urlencode(params, doseq=True)


NODE_SVG = (
    '<a{} class="{}" data-node="{}"><g transform="translate({} {})"><title>{}</title>'
    '<rect width="210" height="46"></rect><text x="14" y="19" class="kind">{}</text>'
    '<text x="14" y="36" class="name">{}</text></g></a>'
)


@register.simple_tag
def lineage_nodes(boxes) -> SafeString:
    """The SVG of the graph's node boxes, escaped as a template would.

    A graph may draw hundreds of nodes; one format string renders them several times faster
    than a template loop, which would be most of the page's time.
    """
    return format_html_join(
        "\n",
        NODE_SVG,
        (
            (
                format_html(' href="{}"', box.item.url) if box.item.url else "",
                box.item.css_class,
                box.item.key,
                box.x,
                box.y,
                box.item.tooltip,
                box.item.caption,
                box.item.name,
            )
            for box in boxes
        ),
    )
