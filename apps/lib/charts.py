"""Server-drawn SVG charts: the geometry in Python, the markup in two template partials.

`bar_chart` and `line_chart` return everything `includes/bar_chart.html` and
`includes/line_chart.html` draw, already placed and rounded, so the templates do no arithmetic
and a chart of 500 points renders in a few milliseconds. Text widths are estimated from the
number of characters, as the server cannot measure the browser's font.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Container, Sequence
from dataclasses import dataclass

NICE_STEPS = (1, 2, 2.5, 5, 10)
WIDTH = 720
LINE_HEIGHT = 260
ROW_HEIGHT = 24
BAR_HEIGHT = 16
CHAR_WIDTH = 7  # a generous average for 12px system fonts, digits included
PAD = 8  # between the drawing and the edge of the SVG
GAP = 6  # between a bar or an axis and its text
AXIS_ROOM = 28  # under the bottom axis, for its labels
TEXT_BELOW_AXIS = 18  # from the bottom axis to the baseline of its labels
MAX_LABEL_CHARS = 16  # longer labels are cut with "…" on the axis; tooltips keep them whole
MAX_X_LABELS = 10
POINT_RADIUS = 3
DENSE_POINT_RADIUS = 1.5  # when points are closer than three radii, so they don't merge
HIGHLIGHT_RADIUS = 5
POINT_ROOM = 12  # keeps the largest circle inside the SVG at the edges of the plot


@dataclass
class Tick:
    position: float  # x on a horizontal axis, y on a vertical one
    text: str


@dataclass
class BarRow:
    label: str
    value_text: str  # "—" when there is no value
    title: str  # the tooltip: label, value and marks, so colour is not the only cue
    css_class: str  # the marks, e.g. "baseline best"
    x: float
    y: float
    width: float  # 0 when there is no value
    height: float
    center_y: float
    text_x: float
    text_anchor: str  # "start" after a bar, "end" before a negative one


@dataclass
class BarChart:
    width: int
    height: int
    rows: list[BarRow]
    ticks: list[Tick]
    label_x: float  # row labels end here
    plot_left: float
    plot_right: float
    plot_top: float
    axis_y: float
    tick_text_y: float
    zero_x: float
    has_values: bool


@dataclass
class LinePoint:
    x: float
    y: float
    label: str
    value_text: str
    highlighted: bool
    radius: float


@dataclass
class LineChart:
    width: int
    height: int
    path: str  # "M…L…" through the values; each None lifts the pen, leaving a gap
    points: list[LinePoint]  # those with a value, in order but highlighted last, drawn on top
    x_labels: list[Tick]
    y_ticks: list[Tick]
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    y_label_x: float  # y tick labels end here
    x_label_y: float
    has_values: bool


def format_number(value: float) -> str:
    """A number as people read it: floats to four significant digits, integers whole."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round values about `count` steps apart, from at or below `low` to at or above `high`.

    A step is 1, 2, 2.5 or 5 times a power of ten. Needs low ≤ high; a span of zero is widened
    around the value so the axis still has a scale.
    """
    if high == low:
        pad = abs(low) / 10 or 1.0
        low, high = low - pad, high + pad
    raw_step = (high - low) / count
    exponent = math.floor(math.log10(raw_step))
    step = next(n * 10.0**exponent for n in NICE_STEPS if n * 10.0**exponent >= raw_step)
    # The tolerance keeps 0.6 / 0.2 = 2.9999999999999996 from adding a tick below 0.6.
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    # One decimal more than the step's power of ten, for steps of 2.5; rounding also turns
    # 3 * 0.1 = 0.30000000000000004 back into 0.3.
    return [round(index * step, 1 - exponent) for index in range(first, last + 1)]


def bar_chart(
    bars: Sequence[tuple[str, float | None, Collection[str]]], *, unit_label: str = ""
) -> BarChart:
    """Horizontal bars, one row per (label, value, marks), measured from a zero line.

    `unit_label` follows each value, e.g. "ms". Marks such as "best" and "baseline" become the
    row's CSS classes and are named in its tooltip.
    """
    values = [value for _, value, _ in bars if value is not None]
    low, high = min([0, *values]), max([0, *values])
    tick_values = nice_ticks(low, high if high > low else 1)
    tick_texts = _tick_texts(tick_values)
    unit = f" {unit_label}" if unit_label else ""
    texts = ["—" if value is None else format_number(value) + unit for _, value, _ in bars]
    labels = [_shorten(label) for label, _, _ in bars]

    # Values are written past the end of their bar, so the plot leaves room for the longest
    # on each side of zero, and for the outer tick labels, which are centred on their tick.
    left_texts, right_texts = [], []
    for text, (_, value, _) in zip(texts, bars, strict=True):
        (left_texts if _is_negative(value) else right_texts).append(text)
    label_x = PAD + _text_width(max(labels, key=len, default=""))
    plot_left = max(
        label_x + GAP + max((_text_width(text) + GAP for text in left_texts), default=0),
        PAD + _text_width(tick_texts[0]) / 2,
    )
    plot_right = WIDTH - max(
        PAD + max((_text_width(text) + GAP for text in right_texts), default=0),
        PAD + _text_width(tick_texts[-1]) / 2,
    )
    x_of = _scale(tick_values[0], tick_values[-1], plot_left, plot_right)
    zero_x = x_of(0)

    rows = []
    for index, ((label, value, marks), shown, text) in enumerate(
        zip(bars, labels, texts, strict=True)
    ):
        top = PAD + index * ROW_HEIGHT
        end_x = zero_x if value is None else x_of(value)
        negative = _is_negative(value)
        marks_note = f" ({', '.join(sorted(marks))})" if marks else ""
        rows.append(
            BarRow(
                label=shown,
                value_text=text,
                title=f"{label}: {'no value' if value is None else text}{marks_note}",
                css_class=" ".join(sorted(marks)),
                x=min(zero_x, end_x),
                y=top + (ROW_HEIGHT - BAR_HEIGHT) / 2,
                width=round(abs(end_x - zero_x), 1),
                height=BAR_HEIGHT,
                center_y=top + ROW_HEIGHT / 2,
                text_x=round(end_x - GAP if negative else end_x + GAP, 1),
                text_anchor="end" if negative else "start",
            )
        )
    axis_y = PAD + len(bars) * ROW_HEIGHT
    return BarChart(
        width=WIDTH,
        height=axis_y + AXIS_ROOM,
        rows=rows,
        ticks=[Tick(x_of(v), text) for v, text in zip(tick_values, tick_texts, strict=True)],
        label_x=label_x,
        plot_left=round(plot_left, 1),
        plot_right=round(plot_right, 1),
        plot_top=PAD,
        axis_y=axis_y,
        tick_text_y=axis_y + TEXT_BELOW_AXIS,
        zero_x=zero_x,
        has_values=bool(values),
    )


def line_chart(
    points: Sequence[tuple[str, float | None]], *, highlight: Container[str] = frozenset()
) -> LineChart:
    """A line through the values, evenly spaced in the order given, with a gap at each None.

    Points whose label is in `highlight` are drawn larger. The y axis covers the values only,
    without reaching down to zero, so small differences between versions stay visible.
    """
    values = [value for _, value in points if value is not None]
    tick_values = nice_ticks(min(values), max(values)) if values else nice_ticks(0, 1)
    tick_texts = _tick_texts(tick_values)
    labelled = _evenly_spread(len(points), MAX_X_LABELS)
    x_texts = [_shorten(points[index][0]) for index in labelled]

    # The y tick labels sit left of the plot; the first and last x labels are centred on the
    # plot's edges and must not spill out of the SVG.
    plot_left = PAD + max(
        _text_width(max(tick_texts, key=len)) + GAP,
        _text_width(x_texts[0]) / 2 if x_texts else 0,
        POINT_ROOM,
    )
    plot_right = WIDTH - PAD - max(_text_width(x_texts[-1]) / 2 if x_texts else 0, POINT_ROOM)
    plot_top, plot_bottom = POINT_ROOM, LINE_HEIGHT - AXIS_ROOM
    y_of = _scale(tick_values[0], tick_values[-1], plot_bottom, plot_top)
    xs = _x_positions(len(points), plot_left, plot_right)
    spacing = xs[1] - xs[0] if len(xs) > 1 else plot_right - plot_left
    radius = POINT_RADIUS if spacing >= 3 * POINT_RADIUS else DENSE_POINT_RADIUS

    path, drawn, pen_down = [], [], False
    for (label, value), x in zip(points, xs, strict=True):
        if value is None:
            pen_down = False
            continue
        y = y_of(value)
        path.append(f"{'L' if pen_down else 'M'}{x:g},{y:g}")
        pen_down = True
        highlighted = label in highlight
        drawn.append(
            LinePoint(
                x=x,
                y=y,
                label=label,
                value_text=format_number(value),
                highlighted=highlighted,
                radius=HIGHLIGHT_RADIUS if highlighted else radius,
            )
        )
    drawn.sort(key=lambda point: point.highlighted)
    return LineChart(
        width=WIDTH,
        height=LINE_HEIGHT,
        path="".join(path),
        points=drawn,
        x_labels=[Tick(xs[index], text) for index, text in zip(labelled, x_texts, strict=True)],
        y_ticks=[Tick(y_of(v), text) for v, text in zip(tick_values, tick_texts, strict=True)],
        plot_left=round(plot_left, 1),
        plot_right=round(plot_right, 1),
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        y_label_x=round(plot_left - GAP, 1),
        x_label_y=plot_bottom + TEXT_BELOW_AXIS,
        has_values=bool(values),
    )


def _tick_texts(ticks: list[float]) -> list[str]:
    """Tick labels as `format_number` writes them, with more digits only where four would
    write two ticks alike (0.91341 and 0.91342 are both 0.9134)."""
    for digits in range(4, 16):
        texts = [f"{tick:.{digits}g}" for tick in ticks]
        if len(set(texts)) == len(texts):
            break
    return texts


def _is_negative(value: float | None) -> bool:
    return value is not None and value < 0


def _shorten(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _text_width(text: str) -> float:
    return CHAR_WIDTH * len(text)


def _scale(low: float, high: float, start: float, end: float) -> Callable[[float], float]:
    """Maps [low, high] onto [start, end], rounded to a tenth of a pixel."""
    factor = (end - start) / (high - low)
    return lambda value: round(start + (value - low) * factor, 1)


def _x_positions(count: int, left: float, right: float) -> list[float]:
    if count == 1:
        return [round((left + right) / 2, 1)]
    return [round(left + index * (right - left) / (count - 1), 1) for index in range(count)]


def _evenly_spread(count: int, most: int) -> list[int]:
    """At most `most` of the indices 0 … count - 1, evenly apart, always the first and last."""
    if count <= most:
        return list(range(count))
    return [round(step * (count - 1) / (most - 1)) for step in range(most)]
