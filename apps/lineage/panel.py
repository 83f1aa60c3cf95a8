"""The lineage panel: a version's graph as drawn on the lineage page and on a registry
version's lineage tab."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.artifacts.models import ArtifactVersion
from apps.lineage.forms import LineageForm
from apps.lineage.graph import CLUSTER_AT, MAX_DEPTH, build_graph, layout


def lineage_context(request: HttpRequest, version: ArtifactVersion) -> dict[str, Any]:
    """The lineage graph of a version as the query string asks: depth, expanded layers, search."""
    form = LineageForm(request.GET)
    options = form.cleaned_data if form.is_valid() else LineageForm.defaults()
    graph = build_graph(version, request.user, depth=options["depth"])
    drawing = layout(graph, expand=set(options["expand"]), find=options["find"])
    return {
        "graph": graph,
        "drawing": drawing,
        "lineage_form": form,
        "lineage": options,
        "depth_choices": range(1, MAX_DEPTH + 1),
        "cluster_at": CLUSTER_AT,
    }
