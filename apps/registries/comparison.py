"""Comparing linked versions of a collection: which versions, each metric side by side with its
best and its deltas, the charts, and what changed from the baseline to another version."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.http import urlencode

from apps.artifacts.diffs import manifest_changes, metadata_changes, text_diffs
from apps.lib.charts import BarChart, LineChart, bar_chart, line_chart
from apps.lib.validators import parse_whole_number
from apps.registries.models import Collection, Direction, Link

# Metric names whose words say that lower is better; every other metric is better higher.
LOWER_IS_BETTER = {
    "loss", "error", "err", "mse", "mae", "rmse", "mape", "perplexity", "ppl", "latency",
    "wer", "cer", "fpr", "fnr", "time", "duration",
}  # fmt: skip


def default_direction(metric: str) -> Direction:
    """Lower is better for losses, errors, latencies and the like; higher for the rest.

    Words are read from snake_case, kebab-case, paths and camelCase: `val_loss`, `eval/error`,
    `top1Err` and `logloss` are all lower-is-better.
    """
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", metric).lower()
    words = [word for word in re.split(r"[^a-z0-9]+", spaced) if word]
    lower = any(word in LOWER_IS_BETTER or word.endswith(("loss", "error")) for word in words)
    return Direction.LOWER if lower else Direction.HIGHER


@dataclass
class Cell:
    value: float | None
    delta: float | None = None  # value minus the baseline's value
    relative: float | None = None  # the delta as a fraction of the baseline's value
    is_best: bool = False
    is_baseline: bool = False
    change: str = ""  # "better", "worse" or "same" than the baseline, as the direction reads


@dataclass
class Row:
    metric: str
    direction: Direction
    is_set: bool  # the direction was set for this collection, not guessed from the name
    cells: list[Cell]

    @property
    def differs(self) -> bool:
        """Whether any two selected versions disagree, a missing value counting as one."""
        return len({cell.value for cell in self.cells}) > 1

    @property
    def best(self) -> float | None:
        values = [cell.value for cell in self.cells if cell.value is not None]
        if not values:
            return None
        return min(values) if self.direction == Direction.LOWER else max(values)


def metric_rows(
    links: Sequence[Link], baseline: Link, directions: dict[str, Direction]
) -> list[Row]:
    """One row per metric any of the links' versions has, by name: values, best and deltas.

    `directions` holds the collection's set directions; other metrics go by their names.
    The best of a row is marked only where the versions disagree, so a row of equal values
    does not shout.
    """
    names = sorted({name for link in links for name in link.version.metrics})
    rows = []
    for name in names:
        direction = directions.get(name) or default_direction(name)
        base = baseline.version.metrics.get(name)
        cells = []
        for link in links:
            value = link.version.metrics.get(name)
            cell = Cell(value=value, is_baseline=link.pk == baseline.pk)
            if value is not None and base is not None and not cell.is_baseline:
                cell.delta = difference(value, base)
                cell.relative = cell.delta / abs(base) if base else None
                cell.change = _change(cell.delta, direction)
            cells.append(cell)
        row = Row(metric=name, direction=direction, is_set=name in directions, cells=cells)
        if row.differs:
            for cell in cells:
                cell.is_best = cell.value is not None and cell.value == row.best
        rows.append(row)
    return rows


def difference(value: float, base: float) -> float:
    """`value - base` to as many decimal places as the finer of the two is written with, so
    that 0.9 - 0.95 reads -0.05 and not the float's -0.050000000000000044."""
    return round(value - base, max(_decimal_places(value), _decimal_places(base)))


def _decimal_places(number: float) -> int:
    """How many decimal places the shortest spelling of `number` has (repr's: 0.95 has 2,
    1e-07 has 7, 1200.0 has 0)."""
    exponent = Decimal(repr(number)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _change(delta: float, direction: Direction) -> str:
    if delta == 0:
        return "same"
    improved = delta > 0 if direction == Direction.HIGHER else delta < 0
    return "better" if improved else "worse"


def sort_rows(rows: list[Row], key: str, columns: Iterable[int]) -> list[Row]:
    """Rows by metric name (`name`, `-name`) or by one version's values (`v3`, `-v3`).

    A version's missing values go last in either order. An unknown key sorts by name.
    """
    descending = key.startswith("-")
    field = key.lstrip("-")
    numbers = list(columns)
    if field.startswith("v") and field[1:].isdigit() and int(field[1:]) in numbers:
        index = numbers.index(int(field[1:]))
        present = [row for row in rows if row.cells[index].value is not None]
        missing = [row for row in rows if row.cells[index].value is None]
        present.sort(key=lambda row: row.cells[index].value, reverse=descending)
        return present + missing
    return sorted(rows, key=lambda row: row.metric.lower(), reverse=descending)


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


def select_versions(
    collection: Collection, asked: list[str], *, baseline: str | None, against: str | None
) -> Selection:
    """The versions `asked` (`3` or `v3`, as the URL repeats `v`), and which of them are the
    `baseline` and the `against`.

    Without `v`, the three newest versions. What cannot be shown is left out with a notice
    rather than refused, so a shared link keeps working after a version is unlinked.
    """
    notices, numbers = [], []
    for raw in asked:
        try:
            number = parse_whole_number(raw.strip().lower().removeprefix("v"), "A version")
        except ValidationError:
            notices.append(f"{raw[:30]!r} is not a version such as v3, so it is left out.")
            continue
        if number not in numbers:
            numbers.append(number)
    if len(numbers) > COMPARE_MAX:
        notices.append(
            f"At most {COMPARE_MAX} versions compare at once: the first {COMPARE_MAX} of the "
            f"{len(numbers)} chosen are shown."
        )
        numbers = numbers[:COMPARE_MAX]
    live = collection.links.for_compare()
    if numbers:
        links = list(live.filter(number__in=numbers).order_by("number"))
        missing = sorted(set(numbers) - {link.number for link in links})
        if missing:
            listed = ", ".join(f"v{number}" for number in missing)
            notices.append(f"{listed}: not linked in this collection, so left out.")
    else:
        links = sorted(live.order_by("-number")[:COMPARE_DEFAULT], key=lambda link: link.number)
    for link in links:
        link.alias_names = sorted(alias.name for alias in link.aliases.all())
    baseline_link = (
        _chosen(links, baseline)
        or next((link for link in links if PRODUCTION in link.alias_names), None)
        or (links[0] if links else None)
    )
    others = [link for link in links if link is not baseline_link]
    against_link = _chosen(others, against) or (others[-1] if others else None)
    return Selection(links=links, baseline=baseline_link, against=against_link, notices=notices)


def _chosen(links: list[Link], raw: str | None) -> Link | None:
    number = (raw or "").strip().lower().removeprefix("v")
    return next((link for link in links if str(link.number) == number), None)


def selection_rows(collection: Collection, selection: Selection) -> list[Row]:
    """The metric rows of the selected versions, each metric going the way set for it in the
    collection or, where none is set, the way its name says."""
    directions = {
        metric: Direction(direction)
        for metric, direction in collection.metric_directions.values_list("metric", "direction")
    }
    if not selection.links:
        return []
    return metric_rows(selection.links, selection.baseline, directions)


def table_rows(
    rows: list[Row], selection: Selection, *, only_differences: bool, sort: str
) -> list[Row]:
    """The rows as the table shows them: only those that differ when asked, in the asked order
    (see `sort_rows`)."""
    shown = [row for row in rows if row.differs] if only_differences else rows
    return sort_rows(shown, sort, [link.number for link in selection.links])


@dataclass
class Chart:
    metric: str
    direction: Direction
    bars: BarChart
    trend: LineChart
    trend_cut: int | None  # how many of the newest versions the trend shows, when not all


def metric_charts(collection: Collection, selection: Selection, rows: list[Row], asked: list[str]):
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
        newest = list(collection.links.live().metric_by_number(name)[: TREND_MAX + 1])
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


def production_hint(collection: Collection, selection: Selection) -> dict | None:
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


def version_changes(selection: Selection, *, can_read_files: bool) -> dict:
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
