from __future__ import annotations

from django import template
from django.utils.http import urlencode

register = template.Library()


@register.simple_tag
def lineage_query(options: dict, expand: int | None) -> str:
    """The query string of the same graph with one more layer expanded, or none when None."""
    layers = [] if expand is None else sorted({*options["expand"], expand})
    params = {"depth": options["depth"], "expand": layers}
    if options["find"]:
        params["find"] = options["find"]
    return urlencode(params, doseq=True)
