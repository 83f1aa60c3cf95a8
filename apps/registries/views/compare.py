"""The compare page of a collection and where its metric directions are set."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.policy import Action, effective_role, role_allows
from apps.artifacts.diffs import manifest_changes, metadata_changes, text_diffs
from apps.lib.charts import BarChart, LineChart, bar_chart, line_chart
from apps.lib.csv_export import csv_response
from apps.lib.http import is_fragment_request
from apps.lib.validators import parse_whole_number
from apps.registries import services
from apps.registries.comparison import Cell, Row, metric_rows, sort_rows
from apps.registries.lookups import collection_for
from apps.registries.models import Collection, Direction, Link
from apps.registries.views.shared import metric_value

COMPARE_MAX = 50
COMPARE_DEFAULT = 3
CHARTS_MAX = 4
TREND_MAX = 500
PRODUCTION = "production"


@dataclass
class Selection:
    """The versions a compare URL names, oldest first, and the roles it gives them."""

    links: list[Link]
    baseline: Link | None
    against: Link | None  # whose changes from the baseline are shown
    notices: list[str]


def _compare_selection(request: HttpRequest, collection: Collection) -> Selection:
    """Read `v` (repeated; `3` or `v3`), `baseline` and `against` from the query string.

    Without `v`, the three newest versions. What cannot be shown is left out with a notice
    rather than refused, so a shared link keeps working after a version is unlinked.
    """
    notices, asked = [], []
    for raw in request.GET.getlist("v"):
        try:
            number = parse_whole_number(raw.strip().lower().removeprefix("v"), "A version")
        except ValidationError:
            notices.append(f"{raw[:30]!r} is not a version such as v3, so it is left out.")
            continue
        if number not in asked:
            asked.append(number)
    if len(asked) > COMPARE_MAX:
        notices.append(
            f"At most {COMPARE_MAX} versions compare at once: the first {COMPARE_MAX} of the "
            f"{len(asked)} chosen are shown."
        )
        asked = asked[:COMPARE_MAX]
    live = collection.links.live().select_related("version__artifact").prefetch_related("aliases")
    if asked:
        links = list(live.filter(number__in=asked).order_by("number"))
        missing = sorted(set(asked) - {link.number for link in links})
        if missing:
            listed = ", ".join(f"v{number}" for number in missing)
            notices.append(f"{listed}: not linked in this collection, so left out.")
    else:
        links = sorted(live.order_by("-number")[:COMPARE_DEFAULT], key=lambda link: link.number)
    for link in links:
        link.alias_names = sorted(alias.name for alias in link.aliases.all())
    baseline = (
        _chosen(links, request.GET.get("baseline"))
        or next((link for link in links if PRODUCTION in link.alias_names), None)
        or (links[0] if links else None)
    )
    others = [link for link in links if link is not baseline]
    against = _chosen(others, request.GET.get("against")) or (others[-1] if others else None)
    return Selection(links=links, baseline=baseline, against=against, notices=notices)


def _chosen(links: list[Link], raw: str | None) -> Link | None:
    number = (raw or "").strip().lower().removeprefix("v")
    return next((link for link in links if str(link.number) == number), None)


@dataclass
class Chart:
    metric: str
    direction: Direction
    bars: BarChart
    trend: LineChart
    trend_cut: int | None  # how many of the newest versions the trend shows, when not all


def _charts(collection: Collection, selection: Selection, rows: list[Row], asked: list[str]):
    """The charts of the metrics asked for (by default the first that differs): a bar per
    selected version, and the trend across the collection's versions in link order."""
    by_name = {row.metric: row for row in rows}
    names = [name for name in dict.fromkeys(asked) if name in by_name][:CHARTS_MAX]
    if not asked:
        names = [row.metric for row in rows if row.differs][:1]
    charts = []
    for name in names:
        row = by_name[name]
        bars = [
            (link.label, cell.value, _marks(cell))
            for link, cell in zip(selection.links, row.cells, strict=True)
        ]
        newest = list(
            collection.links.live()
            .annotate(value=metric_value(name))
            .order_by("-number")
            .values_list("number", "value")[: TREND_MAX + 1]
        )
        shown = newest[:TREND_MAX][::-1]
        charts.append(
            Chart(
                metric=name,
                direction=row.direction,
                bars=bar_chart(bars),
                trend=line_chart(
                    [(f"v{number}", value) for number, value in shown],
                    highlight={link.label for link in selection.links},
                ),
                trend_cut=TREND_MAX if len(newest) > TREND_MAX else None,
            )
        )
    return charts


def _marks(cell: Cell) -> set[str]:
    return {mark for mark, on in (("best", cell.is_best), ("baseline", cell.is_baseline)) if on}


def _production_hint(collection: Collection, selection: Selection) -> dict | None:
    """Where `production` sits when it is not among the selected versions, to add it."""
    if any(PRODUCTION in link.alias_names for link in selection.links):
        return None
    alias = collection.aliases.filter(name=PRODUCTION).select_related("link").first()
    if alias is None:
        return None
    numbers = [link.number for link in selection.links] + [alias.link.number]
    return {
        "text": f"production is on v{alias.link.number}, which is not selected.",
        "query": urlencode({"v": numbers}, doseq=True),
    }


def _compare_context(request: HttpRequest, collection: Collection) -> dict:
    registry = collection.registry
    role = effective_role(request.user, registry)
    selection = _compare_selection(request, collection)
    directions = {
        metric: Direction(direction)
        for metric, direction in collection.metric_directions.values_list("metric", "direction")
    }
    rows = metric_rows(selection.links, selection.baseline, directions) if selection.links else []
    only_differences = request.GET.get("only") == "differences"
    shown = [row for row in rows if row.differs] if only_differences else rows
    sort = request.GET.get("sort", "name")
    shown = sort_rows(shown, sort, [link.number for link in selection.links])
    asked_charts = request.GET.getlist("chart")
    charts = _charts(collection, selection, rows, asked_charts)
    context = {
        "organization": registry.organization,
        "registry": registry,
        "collection": collection,
        "links": selection.links,
        "baseline": selection.baseline,
        "against": selection.against,
        "notices": selection.notices,
        "production_hint": _production_hint(collection, selection),
        "rows": shown,
        "sort": sort,
        "only_differences": only_differences,
        "charts": charts,
        "charted": {chart.metric for chart in charts},
        "can_edit": role_allows(role, Action.EDIT_COLLECTION),
        "query": _compare_query(request),
        "query_without_sort": _compare_query(request, without="sort"),
    }
    if selection.against is not None:
        context["changes"] = _changes(selection, can_read_files=role_allows(role, Action.DOWNLOAD))
    return context


def _compare_query(request: HttpRequest, without: str = "") -> str:
    params = request.GET.copy()
    for key in ("format", without):
        params.pop(key, None)
    return params.urlencode()


def _changes(selection: Selection, *, can_read_files: bool) -> dict:
    """What changed from the baseline to the other version: metadata, files and, for those
    who may read file contents, the lines of small text files."""
    old, new = selection.baseline, selection.against
    files = manifest_changes(old.version, new.version)
    changes = {
        "metadata": metadata_changes(old.version.metadata, new.version.metadata),
        "files": files,
        "can_read_files": can_read_files,
    }
    if can_read_files:
        changes["text_diffs"] = text_diffs(files.changed, old_label=old.label, new_label=new.label)
    return changes


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
