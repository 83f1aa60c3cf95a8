"""The compare page of a collection and where its metric directions are set."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.policy import Action, effective_role, role_allows
from apps.lib.csv_export import csv_response
from apps.lib.http import is_fragment_request
from apps.registries import services
from apps.registries.comparison import (
    metric_charts,
    production_hint,
    select_versions,
    selection_rows,
    table_rows,
    version_changes,
)
from apps.registries.lookups import collection_for
from apps.registries.models import Collection


def _compare_context(request: HttpRequest, collection: Collection) -> dict:
    registry = collection.registry
    role = effective_role(request.user, registry)
    selection = select_versions(
        collection,
        request.GET.getlist("v"),
        baseline=request.GET.get("baseline"),
        against=request.GET.get("against"),
    )
    rows = selection_rows(collection, selection)
    only_differences = request.GET.get("only") == "differences"
    sort = request.GET.get("sort", "name")
    charts = metric_charts(collection, selection, rows, request.GET.getlist("chart"))
    context = {
        "organization": registry.organization,
        "registry": registry,
        "collection": collection,
        "links": selection.links,
        "baseline": selection.baseline,
        "against": selection.against,
        "notices": selection.notices,
        "production_hint": production_hint(collection, selection),
        "rows": table_rows(rows, selection, only_differences=only_differences, sort=sort),
        "sort": sort,
        "only_differences": only_differences,
        "charts": charts,
        "charted": {chart.metric for chart in charts},
        "can_edit": role_allows(role, Action.EDIT_COLLECTION),
        "query": _compare_query(request),
        "query_without_sort": _compare_query(request, without="sort"),
    }
    if selection.against is not None:
        context["changes"] = version_changes(
            selection, can_read_files=role_allows(role, Action.DOWNLOAD)
        )
    return context


def _compare_query(request: HttpRequest, without: str = "") -> str:
    params = request.GET.copy()
    for key in ("format", without):
        params.pop(key, None)
    return params.urlencode()


@require_GET
@vary_on_headers("HX-Request")
def collection_compare(request: HttpRequest, org: str, registry: str, collection: str):
    """Selected versions side by side: metrics with the best marked and deltas against a
    baseline, charts, and what changed between two of them. `?format=csv` exports the table."""
    target = collection_for(request.user, org, registry, collection)
    context = _compare_context(request, target)
    if request.GET.get("format") == "csv":
        return _compare_csv(target, context)
    template = "registries/compare.html"
    if is_fragment_request(request):
        template += "#comparison"
    return render(request, template, context)


def _compare_csv(collection: Collection, context: dict) -> HttpResponse:
    """The metrics table as CSV: a value and a delta column per version, in the table's order."""
    baseline = context["baseline"]
    header = ["metric", "better", "best"]
    for link in context["links"]:
        header += [link.label, f"{link.label} delta vs {baseline.label}"]
    rows = [header]
    for row in context["rows"]:
        line = [row.metric, row.direction.value, row.best]
        for cell in row.cells:
            line += [cell.value, cell.delta]
        rows.append(line)
    return csv_response(rows, f"{collection.name}-compare.csv")


@require_POST
def collection_metric_direction(request: HttpRequest, org: str, registry: str, collection: str):
    """Set which way is better for one metric of the collection, then go back to the page."""
    target = collection_for(request.user, org, registry, collection)
    metric = request.POST.get("metric", "")
    try:
        services.set_metric_direction(
            actor=request.user,
            collection=target,
            metric=metric,
            direction=request.POST.get("direction", ""),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Saved which way is better for {metric}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse(
            "registries:compare",
            kwargs={"org": org, "registry": registry, "collection": collection},
        )
    return redirect(back)
