"""The search box's language and W&B's filter JSON parse to the same tree; bad input says where."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from apps.search.query import EVERYTHING, And, Not, Or, QueryError, Term, parse, parse_filter


def day(text: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(text))


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("", EVERYTHING),
        ("resnet", Term(None, "contains", "resnet")),
        ('"image net"', Term(None, "contains", "image net")),
        (
            "tag:cnn alias:production",
            And((Term("tag", "eq", "cnn"), Term("alias", "eq", "production"))),
        ),
        ("a AND b", And((Term(None, "contains", "a"), Term(None, "contains", "b")))),
        ("resnet OR bert", Or((Term(None, "contains", "resnet"), Term(None, "contains", "bert")))),
        (
            "(resnet OR bert) -tag:wip",
            And(
                (
                    Or((Term(None, "contains", "resnet"), Term(None, "contains", "bert"))),
                    Not(Term("tag", "eq", "wip")),
                )
            ),
        ),
        ("NOT alias:latest", Not(Term("alias", "eq", "latest"))),
        ('name:"res net"', Term("name", "contains", "res net")),
        ("metric.accuracy>=0.9", Term("metric", "gte", 0.9, "accuracy")),
        ("metric.loss<-0.5", Term("metric", "lt", -0.5, "loss")),
        ("metric.f1:0.8", Term("metric", "eq", 0.8, "f1")),
        ("metadata.framework:pytorch", Term("metadata", "eq", "pytorch", "framework")),
        ("created:>2026-01-01", Term("created", "gte", day("2026-01-02"))),
        ("created:<=2026-01-01", Term("created", "lt", day("2026-01-02"))),
        (
            "created:2026-01-01",
            And(
                (
                    Term("created", "gte", day("2026-01-01")),
                    Term("created", "lt", day("2026-01-02")),
                )
            ),
        ),
        (
            "resnet-50 a-b",
            And((Term(None, "contains", "resnet-50"), Term(None, "contains", "a-b"))),
        ),
    ],
)
def test_the_language(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ('"unclosed', 0, 'a closing "'),
        ("(resnet", 0, "a ) to close the ("),
        ("resnet)", 6, "a matching ("),
        ("resnet OR", 9, "a word, a field such as tag:cnn"),
        ("OR resnet", 0, "a word"),
        ("colour:red", 0, "a known field before 'colour'"),
        ("tag:", 4, "a value after the colon"),
        ("metric.accuracy>=high", 17, "a number, not 'high'"),
        ("metric>=0.9", 0, "metric.<name>"),
        ("created:>yesterday", 9, "a date written YYYY-MM-DD"),
        ("tag>=cnn", 0, "only dates and metrics compare"),
        ("metadata.framework>=1", 0, "metadata compares by equality"),
    ],
)
def test_a_malformed_query_says_where_and_what_was_expected(text, column, expected):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.column == column and expected in caught.value.message


def test_the_filter_json_parses_to_the_same_tree_as_the_language():
    either = {"$or": [{"tag": "cnn"}, {"alias": {"$eq": "production"}}]}
    assert parse_filter({**either, "metrics.accuracy": {"$gte": 0.9}}) == And((
        Or((Term("tag", "eq", "cnn"), Term("alias", "eq", "production"))),
        Term("metric", "gte", 0.9, "accuracy"),
    ))  # fmt: skip
    assert parse_filter({"$not": {"tag": "wip"}}) == parse("-tag:wip")
    assert parse_filter({"$nor": [{"tag": "a"}, {"tag": "b"}]}) == Not(
        Or((Term("tag", "eq", "a"), Term("tag", "eq", "b")))
    )


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ([], "must be an object"),
        ({"colour": "red"}, "no field 'colour'"),
        ({"name": {"$like": "x"}}, "operator '$like'"),
        ({"name": {"$regex": "("}}, "does not compile"),
        ({"metrics.acc": {"$gt": "high"}}, "takes a number"),
        ({"created_at": {"$gt": "soon"}}, "ISO 8601"),
        ({"$or": []}, "non-empty list"),
        ({"tag": {"$exists": "yes"}}, "true or false"),
    ],
)
def test_a_bad_filter_names_its_part(data, says):
    with pytest.raises(QueryError, match=None) as caught:
        parse_filter(data)
    assert says in caught.value.message


def test_nesting_is_bounded_in_both_forms():
    assert parse("(" * 20 + "a" + ")" * 20) == Term(None, "contains", "a")
    for text, column in [("(" * 21 + "a" + ")" * 21, 20), ("NOT " * 21 + "a", 80)]:
        with pytest.raises(QueryError) as caught:
            parse(text)
        assert caught.value.column == column and "at most 20 nested" in caught.value.message
    deep = {"tag": "a"}
    for _ in range(21):
        deep = {"$not": deep}
    with pytest.raises(QueryError, match="nests deeper than 20 levels"):
        parse_filter(deep)


def test_a_filter_may_be_held_to_some_fields():
    fields = ("name", "metrics")
    assert parse_filter({"metrics.acc": 1}, fields=fields) == Term("metric", "eq", 1, "acc")
    with pytest.raises(QueryError) as caught:
        parse_filter({"$or": [{"name": "a"}, {"tag": "b"}]}, fields=fields)
    assert caught.value.message == (
        "filter.$or[1].tag: no field 'tag'; filter on name, metrics.<name>"
    )
