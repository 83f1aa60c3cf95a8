"""Comparing linked versions of a collection: each metric side by side, its best, its deltas."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from apps.registries.models import Direction, Link

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
                cell.delta = value - base
                cell.relative = cell.delta / abs(base) if base else None
                cell.change = _change(cell.delta, direction)
            cells.append(cell)
        row = Row(metric=name, direction=direction, is_set=name in directions, cells=cells)
        if row.differs:
            for cell in cells:
                cell.is_best = cell.value is not None and cell.value == row.best
        rows.append(row)
    return rows


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
