"""The query model, and the two ways to write it: the search box's language and W&B's filter JSON.

Both parse to the same tree (Term, Not, And, Or), which apps/search/compile.py turns into SQL.

The language, as the help popover shows it:

    resnet "image net"          words and phrases: in names, descriptions, tags and aliases
    name:res  tag:cnn  alias:production  type:model  registry:model  collection:classifier
    created:>2026-01-01         also >=, <, <=, and created:2026-01-01 for that day
    metadata.framework:pytorch  a top-level metadata key's value
    metric.accuracy>=0.9        also >, <, <=, = (metric.loss:0.1 is =)
    -tag:wip  NOT tag:wip       negation
    a b  a AND b                both;  a OR b  either;  (a OR b) c  grouping

A malformed query raises QueryError with the column it happened at and what was expected there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.utils import timezone

# Fields of the language, and the filter JSON's names for them (W&B's, reference §12).
TEXT_FIELDS = ("name", "tag", "alias", "type", "registry", "collection", "description")
FIELDS = (*TEXT_FIELDS, "created", "updated")
JSON_FIELDS = {
    "name": "name",
    "description": "description",
    "tag": "tag",
    "alias": "alias",
    "type": "type",
    "created_at": "created",
    "updated_at": "updated",
}
COMPARISONS = {">=": "gte", "<=": "lte", ">": "gt", "<": "lt", "=": "eq", ":": "eq"}
# Nesting deeper than this (parentheses, NOT, $and/$or/$nor/$not) is refused: no one writes it,
# and parsing and compiling recurse once per level.
MAX_DEPTH = 20


class QueryError(ValueError):
    """A query that cannot be read: `column` (0-based) is where, the message says what was
    expected there."""

    def __init__(self, message: str, column: int = 0):
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Term:
    """One condition. `field` None is a bare word or phrase; `key` names the metadata key or
    metric; `op` is contains, eq, ne, gt, gte, lt, lte, regex or exists."""

    field: str | None
    op: str
    value: Any
    key: str = ""


@dataclass(frozen=True)
class Not:
    node: Any


@dataclass(frozen=True)
class And:
    nodes: tuple


@dataclass(frozen=True)
class Or:
    nodes: tuple


EVERYTHING = And(())


# The language -----------------------------------------------------------------------------

TOKEN = re.compile(r'\s+|\(|\)|"[^"]*"?|-(?=[^\s()])|[^\s()"]+(?:"[^"]*"?)?')


@dataclass(frozen=True)
class _Token:
    text: str
    column: int


def _tokens(text: str) -> list[_Token]:
    tokens, column = [], 0
    while column < len(text):
        match = TOKEN.match(text, column)
        if match is None:  # a lone quote the pattern cannot start on
            raise QueryError('a closing " for this phrase', column)
        piece = match.group()
        if piece.count('"') % 2:
            raise QueryError(
                'a closing " for the phrase that starts here', column + piece.index('"')
            )
        if not piece.isspace():
            tokens.append(_Token(piece, column))
        column = match.end()
    return tokens


def parse(text: str) -> Any:
    """The tree of a search box query; an empty query matches everything."""
    parser = _Parser(_tokens(text), len(text))
    if not parser.tokens:
        return EVERYTHING
    node = parser.either()
    if parser.peek() is not None:
        token = parser.peek()
        what = "a matching (" if token.text == ")" else "AND, OR or the end of the query"
        raise QueryError(f"{what} before {token.text!r}", token.column)
    return node


class _Parser:
    """Recursive descent: either := both (OR both)*; both := one ((AND)? one)*;
    one := (NOT | -) one | "(" either ")" | term."""

    def __init__(self, tokens: list[_Token], end: int):
        self.tokens, self.at, self.end, self.depth = tokens, 0, end, 0

    def peek(self) -> _Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def either(self) -> Any:
        nodes = [self.both()]
        while (token := self.peek()) is not None and token.text == "OR":
            self.take()
            nodes.append(self.both())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def both(self) -> Any:
        nodes = [self.one()]
        while (token := self.peek()) is not None and token.text not in ("OR", ")"):
            if token.text == "AND":
                self.take()
            nodes.append(self.one())
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def one(self) -> Any:
        token = self.peek()
        if token is None:
            raise QueryError("a word, a field such as tag:cnn, or (", self.end)
        if token.text in (")", "OR", "AND"):
            raise QueryError(
                f"a word, a field such as tag:cnn, or ( before {token.text!r}", token.column
            )
        self.take()
        if token.text not in ("NOT", "-", "("):
            return term(token.text, token.column)
        if self.depth == MAX_DEPTH:
            raise QueryError(f"at most {MAX_DEPTH} nested NOTs and parentheses", token.column)
        self.depth += 1
        node = self.group(token) if token.text == "(" else Not(self.one())
        self.depth -= 1
        return node

    def group(self, opening: _Token) -> Any:
        node = self.either()
        closing = self.peek()
        if closing is None:
            raise QueryError("a ) to close the ( here", opening.column)
        if closing.text != ")":
            raise QueryError(f"a ) before {closing.text!r}", closing.column)
        self.take()
        return node


FIELD_TERM = re.compile(
    r"(?P<field>[a-z_]+)(?:\.(?P<key>[^\s:<>=]+))?(?P<op>>=|<=|>|<|=|:)(?P<value>.*)", re.S
)


def term(text: str, column: int) -> Term:
    """One word, phrase or field condition of the language."""
    if text.startswith('"'):
        return Term(None, "contains", _unquoted(text))
    match = FIELD_TERM.fullmatch(text)
    if match is None:
        return Term(None, "contains", text)
    field, key, op, value = match.group("field", "key", "op", "value")
    value_column = column + match.start("value")
    if field == "metric":
        return Term(
            "metric", COMPARISONS[op], _number(value, value_column), _key(key, field, column)
        )
    if field == "metadata":
        if op != ":":
            raise QueryError("metadata.<key>:<value> (metadata compares by equality)", column)
        return Term("metadata", "eq", _text(value, value_column), _key(key, field, column))
    if field not in FIELDS or key:
        raise QueryError(
            f"a known field before {field!r}: {', '.join(FIELDS)}, metadata.<key> or "
            "metric.<name> (or quote the word to search for it)",
            column,
        )
    if field in ("created", "updated"):
        if op == ":" and value[:2] in (">=", "<="):
            op, value, value_column = value[:2], value[2:], value_column + 2
        elif op == ":" and value[:1] in (">", "<"):
            op, value, value_column = value[:1], value[1:], value_column + 1
        return _day_term(field, COMPARISONS[op], value, value_column)
    if op != ":":
        raise QueryError(
            f"{field}:<value> ({field} is text; only dates and metrics compare)", column
        )
    return Term(
        field, "contains" if field in ("name", "description") else "eq", _text(value, value_column)
    )


def _key(key: str | None, field: str, column: int) -> str:
    if not key:
        raise QueryError(f"{field}.<name> before the comparison", column)
    return key


def _unquoted(text: str) -> str:
    return text[1:-1] if text.startswith('"') else text


def _text(value: str, column: int) -> str:
    value = _unquoted(value)
    if not value:
        raise QueryError("a value after the colon", column)
    return value


def _number(value: str, column: int) -> float:
    try:
        number = float(value)
    except ValueError:
        raise QueryError(f"a number, not {value!r}", column) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise QueryError(f"a finite number, not {value!r}", column)
    return number


def _day_term(field: str, op: str, value: str, column: int) -> Any:
    """A date compared by whole days: created:2026-01-01 is that day, created:>2026-01-01
    after it, in the server's time zone."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"a date written YYYY-MM-DD, not {value!r}", column) from None
    start = timezone.make_aware(datetime.combine(day, time.min))
    end = timezone.make_aware(datetime.combine(day.fromordinal(day.toordinal() + 1), time.min))
    if op == "eq":
        return And((Term(field, "gte", start), Term(field, "lt", end)))
    # After the day starts the next; up to and including it ends where the next starts.
    op, moment = {
        "gt": ("gte", end),
        "gte": ("gte", start),
        "lt": ("lt", start),
        "lte": ("lt", end),
    }[op]
    return Term(field, op, moment)


# W&B's filter JSON ------------------------------------------------------------------------

JSON_OPERATORS = {"$eq": "eq", "$ne": "ne", "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte",
                  "$regex": "regex", "$exists": "exists", "$contains": "contains"}  # fmt: skip


FILTER_FIELDS = (*JSON_FIELDS, "metadata", "metrics")  # the last two as metadata.<key>, …


def parse_filter(data: Any, where: str = "filter", fields: tuple[str, ...] = FILTER_FIELDS) -> Any:
    """The tree of a W&B-style filter: {"name": {"$regex": "^res"}}, {"$or": [...]},
    {"tag": "cnn"}, {"metadata.framework": "pytorch"}, {"metrics.accuracy": {"$gte": 0.9}}.
    `fields` are those it may name (an API list takes its kind's). Raises QueryError naming
    the part that is wrong (column 0)."""
    return _filter(data, where, fields, 0)


def _filter(data: Any, where: str, fields: tuple[str, ...], depth: int) -> Any:
    if not isinstance(data, dict):
        raise QueryError(f"{where} must be an object of fields and operators")
    if depth > MAX_DEPTH:
        raise QueryError(f"{where} nests deeper than {MAX_DEPTH} levels")
    nodes = []
    for name, condition in data.items():
        here = f"{where}.{name}"
        if name in ("$and", "$or", "$nor"):
            if not isinstance(condition, list) or not condition:
                raise QueryError(f"{here} must be a non-empty list of filters")
            parts = tuple(
                _filter(part, f"{here}[{n}]", fields, depth + 1) for n, part in enumerate(condition)
            )
            nodes.append({"$and": And, "$or": Or}.get(name, lambda p: Not(Or(p)))(parts))
        elif name == "$not":
            nodes.append(Not(_filter(condition, here, fields, depth + 1)))
        else:
            nodes.append(_field_filter(name, condition, here, fields))
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _field_filter(name: str, condition: Any, where: str, fields: tuple[str, ...]) -> Any:
    field, key = _json_field(name, where, fields)
    if not isinstance(condition, dict):
        condition = {"$eq": condition}
    if not condition:
        raise QueryError(f'{where} must name an operator, e.g. {{"$eq": ...}}')
    nodes = []
    for operator, value in condition.items():
        op = JSON_OPERATORS.get(operator)
        if op is None:
            raise QueryError(
                f"{where} has operator {operator!r}; use one of {', '.join(JSON_OPERATORS)}"
            )
        nodes.append(_checked(Term(field, op, value, key), f"{where}.{operator}"))
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def _json_field(name: str, where: str, fields: tuple[str, ...]) -> tuple[str, str]:
    prefix, _, key = name.partition(".")
    if name in JSON_FIELDS and name in fields:
        return JSON_FIELDS[name], ""
    if prefix == "metadata" and key and "metadata" in fields:
        return "metadata", key
    if prefix in ("metric", "metrics") and key and "metrics" in fields:
        return "metric", key
    named = {"metadata": "metadata.<key>", "metrics": "metrics.<name>"}
    raise QueryError(
        f"{where}: no field {name!r}; filter on "
        f"{', '.join(named.get(field, field) for field in fields)}"
    )


def _checked(term: Term, where: str) -> Term:
    """The JSON's value as the field compares it: dates for times, numbers for metrics."""
    value = term.value
    if term.op == "exists":
        if not isinstance(value, bool):
            raise QueryError(f"{where} takes true or false")
        return term
    if term.field in ("created", "updated"):
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise QueryError(f"{where} takes an ISO 8601 date or time, not {value!r}") from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return Term(term.field, term.op, moment, term.key)
    if term.field == "metric" and term.op not in ("regex", "contains"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise QueryError(f"{where} takes a number, not {value!r}")
        return term
    if not isinstance(value, str) or not value:
        raise QueryError(f"{where} takes a non-empty string, not {value!r}")
    if term.op == "regex":
        try:
            re.compile(value)
        except re.error as error:
            raise QueryError(f"{where}: the regex does not compile: {error.msg}") from None
    return term
