from __future__ import annotations

import itertools
import math
import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from apps.lib.charts import (
    CHAR_WIDTH,
    MAX_X_LABELS,
    WIDTH,
    bar_chart,
    format_number,
    line_chart,
    nice_ticks,
)

# Coordinates in the rendered SVG, e.g. x="12.5"; used to check where things are drawn.
COORDINATE = re.compile(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height)="([^"]*)"')


def steps_of(ticks: list[float]) -> set[float]:
    return {round(later - earlier, 12) for earlier, later in itertools.pairwise(ticks)}


def mantissa(step: float) -> float:
    return round(step / 10 ** math.floor(math.log10(step)), 9)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (0, 1),
        (0.05, 0.95),
        (-3, 7),
        (-250, -10),
        (0.91341, 0.91349),
        (1e-6, 3e-6),
        (0, 1e9),
        (2e9, 3.2e9),
    ],
)
def test_nice_ticks_cover_the_range_in_round_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    (step,) = steps_of(ticks)
    assert mantissa(step) in {1, 2, 2.5, 5}
    assert 3 <= len(ticks) <= 7


def test_nice_ticks_are_tidy_floats():
    assert nice_ticks(0, 0.3, count=3) == [0.0, 0.1, 0.2, 0.3]
    assert nice_ticks(0.6, 1.0) == [0.6, 0.7, 0.8, 0.9, 1.0]
    assert nice_ticks(-3, 7) == [-4.0, -2.0, 0.0, 2.0, 4.0, 6.0, 8.0]
    assert all(isinstance(tick, float) for tick in nice_ticks(0, 1e9))


def test_nice_ticks_give_more_ticks_when_asked():
    assert len(nice_ticks(0, 1, count=10)) > len(nice_ticks(0, 1, count=5))


@pytest.mark.parametrize("value", [0.0, 5.0, -5.0, 1e-6, 1e9])
def test_nice_ticks_widen_a_span_of_zero_around_the_value(value):
    ticks = nice_ticks(value, value)
    assert ticks[0] < value < ticks[-1]


@pytest.mark.parametrize(
    ("value", "text"),
    [(0.91344, "0.9134"), (0.1 + 0.2, "0.3"), (1e-6, "1e-06"), (1.5e9, "1.5e+09"),
     (123456.0, "1.235e+05"), (-2.5, "-2.5"), (3, "3"), (10**20, "100000000000000000000")],
)  # fmt: skip
def test_numbers_read_to_four_significant_digits_and_integers_whole(value, text):
    assert format_number(value) == text


def test_bar_widths_are_proportional_to_values():
    chart = bar_chart([("v1", 1.0, set()), ("v2", 2.0, set()), ("v3", 4.0, set())])
    one, two, four = chart.rows
    assert one.width > 0
    assert two.width == pytest.approx(2 * one.width, rel=1e-3)
    assert four.width == pytest.approx(4 * one.width, rel=1e-3)
    assert {row.x for row in chart.rows} == {chart.zero_x}
    assert chart.zero_x == chart.plot_left


def test_negative_bars_extend_left_of_zero():
    chart = bar_chart([("v1", -1.0, set()), ("v2", 3.0, set())])
    negative, positive = chart.rows
    # The axis runs -1 … 3 in steps of 0.5, so zero is a quarter of the way along.
    assert chart.zero_x == pytest.approx(
        chart.plot_left + (chart.plot_right - chart.plot_left) / 4, abs=0.1
    )
    assert [tick.position for tick in chart.ticks if tick.text == "0"] == [chart.zero_x]
    assert negative.x == chart.plot_left
    assert negative.x + negative.width == pytest.approx(chart.zero_x, abs=0.1)
    assert (negative.text_anchor, negative.text_x < negative.x) == ("end", True)
    # The value written before a negative bar clears the row labels.
    assert negative.text_x - CHAR_WIDTH * len(negative.value_text) > chart.label_x
    assert positive.x == chart.zero_x
    assert (positive.text_anchor, positive.text_x > positive.x + positive.width) == ("start", True)


def test_bar_marks_become_css_classes_and_are_named_in_tooltips():
    chart = bar_chart(
        [
            ("v1", 0.9, {"best"}),
            ("v2", 0.8, {"baseline"}),
            ("v3", 0.7, {"best", "baseline"}),
            ("v4", 0.6, set()),
        ]
    )
    assert [row.css_class for row in chart.rows] == ["best", "baseline", "baseline best", ""]
    assert [row.title for row in chart.rows] == [
        "v1: 0.9 (best)",
        "v2: 0.8 (baseline)",
        "v3: 0.7 (baseline, best)",
        "v4: 0.6",
    ]


def test_a_row_without_a_value_has_no_bar_and_shows_a_dash():
    chart = bar_chart([("v1", 2.0, set()), ("v2", None, set())])
    missing = chart.rows[1]
    assert (missing.width, missing.value_text, missing.title) == (0, "—", "v2: no value")
    assert missing.text_x > chart.zero_x
    assert chart.has_values


def test_bar_values_are_written_as_metrics_with_their_unit():
    chart = bar_chart([("v1", 0.913449, set()), ("v2", 12, set())], unit_label="ms")
    assert [row.value_text for row in chart.rows] == ["0.9134 ms", "12 ms"]


def test_bar_ticks_are_labelled_tidily_and_include_zero():
    chart = bar_chart([("v1", 0.3, set())])
    assert [tick.text for tick in chart.ticks] == ["0", "0.1", "0.2", "0.3"]
    assert chart.ticks[0].position == chart.plot_left
    assert chart.ticks[-1].position == chart.plot_right


def test_fifty_bars_each_get_their_own_row_above_the_axis():
    chart = bar_chart([(f"v{number}", float(number), set()) for number in range(1, 51)])
    tops = [row.y for row in chart.rows]
    assert tops == sorted(set(tops))
    assert chart.rows[-1].y + chart.rows[-1].height < chart.axis_y < chart.tick_text_y
    assert chart.tick_text_y < chart.height


def test_a_long_label_is_shortened_on_the_axis_but_whole_in_the_tooltip():
    label = "candidate-from-the-long-weekend-sweep"
    (row,) = bar_chart([(label, 1, set())]).rows
    assert row.label.endswith("…") and len(row.label) < len(label)
    assert row.title == f"{label}: 1"


def test_bars_of_zero_still_get_an_axis():
    chart = bar_chart([("v1", 0.0, set()), ("v2", 0, set())])
    assert [tick.text for tick in chart.ticks][:2] == ["0", "0.2"]
    assert [row.width for row in chart.rows] == [0, 0]
    assert chart.has_values


def test_a_bar_chart_of_no_values_says_so():
    chart = bar_chart([("v1", None, set()), ("v2", None, {"baseline"})])
    assert not chart.has_values
    html = render_to_string("includes/bar_chart.html", {"chart": chart, "title": "Accuracy"})
    assert "No values to chart." in html
    assert "<svg" not in html


@pytest.mark.parametrize(
    "values",
    [[1e-6, 2.5e-6], [1.5e9, 3.2e9], [-3e-6, -1e-6], [-2e9, 5e8], [7.0]],
)
def test_bars_of_any_magnitude_stay_inside_the_chart(values):
    chart = bar_chart([(f"v{index}", value, set()) for index, value in enumerate(values)])
    assert chart.ticks[0].position == chart.plot_left and chart.plot_left > 0
    assert chart.ticks[-1].position == chart.plot_right and chart.plot_right < WIDTH
    for row in chart.rows:
        assert chart.plot_left <= row.x <= row.x + row.width <= chart.plot_right + 0.1
    assert len({tick.text for tick in chart.ticks}) == len(chart.ticks)


def test_line_points_are_evenly_spaced_and_higher_values_drawn_higher():
    chart = line_chart([("v1", 0.5), ("v2", 0.7), ("v3", 0.6), ("v4", 0.9)])
    xs = [point.x for point in chart.points]
    assert xs[0] == chart.plot_left and xs[-1] == chart.plot_right
    assert max(steps_of(xs)) - min(steps_of(xs)) <= 0.2
    ys = {point.label: point.y for point in chart.points}
    assert ys["v4"] < ys["v2"] < ys["v3"] < ys["v1"]
    assert [point.value_text for point in chart.points] == ["0.5", "0.7", "0.6", "0.9"]


def test_the_y_axis_covers_the_values_without_reaching_down_to_zero():
    chart = line_chart([("v1", 0.913), ("v2", 0.951)])
    values = [float(tick.text) for tick in chart.y_ticks]
    assert 0 < values[0] <= 0.913 and values[-1] >= 0.951
    assert chart.y_ticks[0].position == chart.plot_bottom
    assert chart.y_ticks[-1].position == chart.plot_top


def test_the_line_breaks_at_missing_values():
    chart = line_chart([("v1", 1.0), ("v2", 2.0), ("v3", None), ("v4", 3.0), ("v5", 4.0)])
    segments = chart.path.split("M")[1:]
    assert [segment.count("L") for segment in segments] == [1, 1]
    assert [point.label for point in chart.points] == ["v1", "v2", "v4", "v5"]
    # The gap keeps its place: v4 is three steps from v1, not two.
    v1, v2, v4, _ = (point.x for point in chart.points)
    assert v4 - v1 == pytest.approx(3 * (v2 - v1), abs=0.2)


def test_a_missing_first_value_starts_the_line_at_the_next():
    chart = line_chart([("v1", None), ("v2", 2.0), ("v3", 3.0)])
    assert chart.path.startswith("M") and chart.path.count("M") == 1
    assert chart.path.count("L") == 1


def test_x_labels_are_thinned_but_keep_the_first_and_last():
    chart = line_chart([(f"v{number}", float(number)) for number in range(1, 501)])
    texts = [tick.text for tick in chart.x_labels]
    assert len(texts) == MAX_X_LABELS
    assert (texts[0], texts[-1]) == ("v1", "v500")
    assert chart.x_labels[0].position == chart.plot_left
    assert chart.x_labels[-1].position == chart.plot_right
    assert len(set(texts)) == len(texts)


def test_few_points_are_all_labelled():
    chart = line_chart([(f"v{number}", float(number)) for number in range(1, 8)])
    assert [tick.text for tick in chart.x_labels] == [f"v{number}" for number in range(1, 8)]


def test_highlighted_points_are_larger_and_drawn_last():
    chart = line_chart([("v1", 1.0), ("v2", 2.0), ("v3", 3.0)], highlight={"v2"})
    assert [point.label for point in chart.points] == ["v1", "v3", "v2"]
    assert [point.highlighted for point in chart.points] == [False, False, True]
    assert chart.points[-1].radius > chart.points[0].radius


def test_crowded_points_get_smaller_circles():
    few = line_chart([(f"v{number}", float(number)) for number in range(10)])
    many = line_chart([(f"v{number}", float(number)) for number in range(500)])
    assert many.points[0].radius < few.points[0].radius


def test_a_single_point_sits_in_the_middle_of_an_axis_around_it():
    chart = line_chart([("v1", 0.9134)])
    (point,) = chart.points
    assert point.x == pytest.approx((chart.plot_left + chart.plot_right) / 2, abs=0.1)
    assert chart.plot_top < point.y < chart.plot_bottom
    assert [tick.text for tick in chart.x_labels] == ["v1"]


def test_equal_values_get_an_axis_around_them():
    chart = line_chart([("v1", 1e9), ("v2", 1e9), ("v3", 1e9)])
    assert {point.y for point in chart.points} == {
        round((chart.plot_top + chart.plot_bottom) / 2, 1)
    }
    assert len(chart.y_ticks) > 1


@pytest.mark.parametrize(
    "values",
    [[-5.0, -1.0], [1e-6, 1.5e-6], [1e9, 1.2e9], [0.91341, 0.91349]],
)
def test_line_ticks_cover_any_range_with_distinct_labels(values):
    chart = line_chart([(f"v{index}", value) for index, value in enumerate(values)])
    assert chart.y_ticks[0].position == chart.plot_bottom
    assert chart.y_ticks[-1].position == chart.plot_top
    assert all(chart.plot_top <= point.y <= chart.plot_bottom for point in chart.points)
    assert len({tick.text for tick in chart.y_ticks}) == len(chart.y_ticks)


def test_tick_labels_get_more_digits_only_when_four_would_repeat():
    fine = line_chart([("v1", 0.91341), ("v2", 0.91349)])
    assert "0.91342" in [tick.text for tick in fine.y_ticks]
    coarse = line_chart([("v1", 0.25), ("v2", 0.95)])
    assert [tick.text for tick in coarse.y_ticks] == ["0.2", "0.4", "0.6", "0.8", "1"]


def test_a_line_chart_of_no_values_says_so():
    chart = line_chart([("v1", None), ("v2", None)])
    assert (chart.has_values, chart.path, chart.points) == (False, "", [])
    html = render_to_string("includes/line_chart.html", {"chart": chart, "title": "Loss"})
    assert "No values to chart." in html
    assert "<svg" not in html
    assert not line_chart([]).has_values


def test_the_bar_chart_renders_an_accessible_svg_with_escaped_labels():
    chart = bar_chart([("<script>", 0.5, {"best"}), ("v2", None, set())])
    html = render_to_string("includes/bar_chart.html", {"chart": chart, "title": 'F1 "macro" <b>'})
    assert 'role="img" aria-label="F1 &quot;macro&quot; &lt;b&gt;"' in html
    assert f'viewBox="0 0 {chart.width} {chart.height}"' in html
    assert "<script>" not in html and "<b>" not in html
    assert "<title>&lt;script&gt;: 0.5 (best)</title>" in html
    assert html.count("<rect ") == 1
    assert '<g class="chart-row best">' in html


def test_the_line_chart_renders_an_accessible_svg_with_escaped_labels():
    chart = line_chart([("<script>", 0.9134), ("v2", None), ("v3", 0.95)], highlight={"v3"})
    html = render_to_string("includes/line_chart.html", {"chart": chart, "title": "<Accuracy>"})
    assert 'role="img" aria-label="&lt;Accuracy&gt;"' in html
    assert "<script>" not in html
    assert "<title>&lt;script&gt;: 0.9134</title>" in html
    assert html.count("<circle ") == 2 and html.count('class="highlight"') == 1
    assert f'd="{chart.path}"' in html


@pytest.mark.parametrize("template", ["includes/bar_chart.html", "includes/line_chart.html"])
def test_coordinates_keep_their_decimal_point_in_any_language(template):
    values = [("v1", 0.137), ("v2", -0.421), ("v3", 0.733)]
    if template == "includes/bar_chart.html":
        chart = bar_chart([(label, value, set()) for label, value in values])
    else:
        chart = line_chart(values)
    # German writes 12.5 as "12,5", which an SVG attribute would misread.
    with translation.override("de"):
        html = render_to_string(template, {"chart": chart, "title": "Score"})
    coordinates = COORDINATE.findall(html)
    assert any("." in coordinate for coordinate in coordinates)
    assert not [coordinate for coordinate in coordinates if "," in coordinate]
