from __future__ import annotations

import pytest

from apps.registries.comparison import default_direction, difference, metric_rows, sort_rows
from apps.registries.models import Direction
from tests.factories import make_link, make_version


@pytest.mark.parametrize(
    ("metric", "direction"),
    [
        ("accuracy", Direction.HIGHER),
        ("f1", Direction.HIGHER),
        ("bleu", Direction.HIGHER),
        ("loss", Direction.LOWER),
        ("val_loss", Direction.LOWER),
        ("eval/error_rate", Direction.LOWER),
        ("top1Err", Direction.LOWER),
        ("logloss", Direction.LOWER),
        ("p95-latency-ms", Direction.LOWER),
        ("perplexity", Direction.LOWER),
        ("RMSE", Direction.LOWER),
        ("glossary_size", Direction.HIGHER),  # "loss" inside another word is not a loss
    ],
)
def test_the_direction_follows_the_words_of_the_name(metric, direction):
    assert default_direction(metric) == direction


@pytest.fixture
def three(member, project, models_registry):
    """v0, v1, v2 of a collection with known metrics."""
    metrics = [
        {"accuracy": 0.80, "loss": 0.50, "epochs": 10},
        {"accuracy": 0.90, "loss": 0.30, "epochs": 10, "f1": 0.7},
        {"accuracy": 0.85, "loss": 0.40, "epochs": 10},
    ]
    return [
        make_link(make_version(project, member, metrics=values), models_registry, member)
        for values in metrics
    ]


def by_metric(rows):
    return {row.metric: row for row in rows}


def test_rows_hold_the_union_of_metrics_with_blanks_where_absent(three):
    rows = by_metric(metric_rows(three, three[0], {}))
    assert list(rows) == ["accuracy", "epochs", "f1", "loss"]
    assert [cell.value for cell in rows["f1"].cells] == [None, 0.7, None]


def test_the_best_of_each_row_is_marked_by_its_direction(three):
    rows = by_metric(metric_rows(three, three[0], {}))
    assert [cell.is_best for cell in rows["accuracy"].cells] == [False, True, False]
    assert [cell.is_best for cell in rows["loss"].cells] == [False, True, False]
    # Equal everywhere: nothing to single out.
    assert not any(cell.is_best for cell in rows["epochs"].cells)
    assert not rows["epochs"].differs and rows["f1"].differs


def test_deltas_are_against_the_baseline_and_say_better_or_worse(three):
    rows = by_metric(metric_rows(three, three[2], {}))
    accuracy, loss = rows["accuracy"].cells, rows["loss"].cells
    assert accuracy[0].delta == pytest.approx(-0.05) and accuracy[0].change == "worse"
    assert accuracy[1].delta == pytest.approx(0.05) and accuracy[1].change == "better"
    assert accuracy[1].relative == pytest.approx(0.05 / 0.85)
    assert accuracy[2].is_baseline and accuracy[2].delta is None
    assert loss[1].delta == pytest.approx(-0.1) and loss[1].change == "better"
    assert rows["epochs"].cells[0].change == "same"
    # No baseline value, no delta.
    assert rows["f1"].cells[1].delta is None


def test_a_set_direction_wins_over_the_name(three):
    rows = by_metric(metric_rows(three, three[0], {"loss": Direction.HIGHER}))
    assert rows["loss"].is_set and rows["loss"].direction == Direction.HIGHER
    assert [cell.is_best for cell in rows["loss"].cells] == [True, False, False]
    assert rows["loss"].cells[1].change == "worse"


def test_rows_sort_by_name_or_by_a_versions_values_with_blanks_last(three):
    rows = metric_rows(three, three[0], {})
    numbers = [link.number for link in three]
    assert [row.metric for row in sort_rows(rows, "-name", numbers)] == [
        "loss", "f1", "epochs", "accuracy",
    ]  # fmt: skip
    assert [row.metric for row in sort_rows(rows, "-v1", numbers)] == [
        "epochs", "accuracy", "f1", "loss",
    ]  # fmt: skip
    assert [row.metric for row in sort_rows(rows, "v0", numbers)] == [
        "loss", "accuracy", "epochs", "f1",
    ]  # fmt: skip
    assert sort_rows(rows, "v99", numbers) == sort_rows(rows, "name", numbers)


@pytest.mark.parametrize(
    ("value", "base", "delta"),
    [
        (0.9, 0.95, -0.05),  # not the float's -0.050000000000000044
        (0.8, 0.85, -0.05),
        (0.123456, 0.1, 0.023456),
        (3, 1, 2),
        (1e-07, 3e-07, -2e-07),
        (1200.0, 0.5, 1199.5),
    ],
)
def test_differences_keep_the_places_of_their_values(value, base, delta):
    assert difference(value, base) == delta
    assert repr(difference(value, base)) == repr(delta)
