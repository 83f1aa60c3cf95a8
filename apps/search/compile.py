"""A query tree as SQL, for each kind of result: registries, collections, linked versions.

Each condition means what it can for a kind and nothing otherwise: `alias:production` holds of
versions (and of the collections holding such a version), never of a registry; `NOT` of a
condition a kind cannot meet holds of every row of that kind. Conditions on tags, aliases and
types go through subqueries, so that negation and repeats mean what they say on rows that have
many of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IsNull,
    LessThan,
    LessThanOrEqual,
    Regex,
)

from apps.artifacts.models import VersionTag
from apps.registries.models import (
    Alias,
    Collection,
    CollectionTag,
    Link,
    LinkTag,
    Registry,
    RegistryArtifactType,
    metric_value,
)
from apps.search.query import And, Not, Or, Term

KINDS = ("registry", "collection", "version")
NOTHING = Q(pk__in=[])
ORDERED = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "eq": "exact"}
NUMERIC_LOOKUPS = {
    "gt": GreaterThan,
    "gte": GreaterThanOrEqual,
    "lt": LessThan,
    "lte": LessThanOrEqual,
    "eq": Exact,
}


def condition(node: Any, kind: str) -> Q:
    """The tree as one Q over the kind's model (Registry, Collection or Link)."""
    if isinstance(node, Term):
        return _term(node, kind)
    if isinstance(node, Not):
        return ~condition(node.node, kind)
    if isinstance(node, And):
        return _joined(node.nodes, kind, Q.AND, Q())
    if isinstance(node, Or):
        return _joined(node.nodes, kind, Q.OR, NOTHING)
    raise TypeError(f"{node!r} is not a query node")


def _joined(nodes: tuple, kind: str, connector: str, empty: Q) -> Q:
    combined = None
    for node in nodes:
        part = condition(node, kind)
        combined = part if combined is None else combined._combine(part, connector)
    return empty if combined is None else combined


def positive_terms(node: Any) -> Iterator[Term]:
    """The conditions a row may have matched (those not under a NOT), to say why it matched."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, And | Or):
        for child in node.nodes:
            yield from positive_terms(child)


def words(node: Any) -> list[str]:
    """The bare words and name conditions, which ranking compares names with."""
    return [
        term.value
        for term in positive_terms(node)
        if (term.field is None or term.field == "name") and term.op == "contains"
    ]


# What each field means for each kind ----------------------------------------------------------


def _text(lookup_prefix: str, op: str, value: Any) -> Q:
    """A text column compared as the op says, case-insensitively where a person types it."""
    if op == "exists":  # every row has these columns
        return Q() if value else NOTHING
    lookup = {
        "contains": "icontains",
        "eq": "iexact",
        "ne": "iexact",
        "regex": "regex",
        "gt": "gt",
        "gte": "gte",
        "lt": "lt",
        "lte": "lte",
    }[op]
    found = Q(**{f"{lookup_prefix}__{lookup}": value})
    return ~found if op == "ne" else found


def _among(queryset: QuerySet, column: str, field: str, op: str, value: Any) -> Q:
    """Rows with a related row (a tag, an alias, a type) whose `field` matches: `pk__in` a
    subquery of `column`. `ne` is "has none equal to", `exists` "has any"."""
    if op == "exists":
        found = Q(pk__in=queryset.values(column))
        return found if value else ~found
    if op == "ne":
        return ~Q(pk__in=queryset.filter(_text(field, "eq", value)).values(column))
    return Q(pk__in=queryset.filter(_text(field, op, value)).values(column))


def _moment(column: str, op: str, value: Any) -> Q:
    if op == "exists":
        return Q() if value else NOTHING
    if op == "ne":
        return ~Q(**{column: value})
    if op not in ORDERED:
        return NOTHING
    return Q(**{f"{column}__{ORDERED[op]}": value})


def _metric(term: Term) -> Q:
    value = metric_value(term.key)
    if term.op == "exists":
        found = Q(IsNull(value, False))
        return found if term.value else ~found
    if term.op == "ne":
        return ~Q(Exact(value, Value(float(term.value))))
    lookup = NUMERIC_LOOKUPS.get(term.op)
    if lookup is None:
        return NOTHING
    return Q(lookup(value, Value(float(term.value))))


def _metadata(term: Term) -> Q:
    value = KeyTextTransform(term.key, "version__metadata")
    if term.op == "exists":
        found = Q(IsNull(value, False))
        return found if term.value else ~found
    text = str(term.value)
    if term.op in ("eq", "ne"):
        found = Q(Exact(value, Value(text)))
        return ~found if term.op == "ne" else found
    if term.op == "contains":
        return Q(IContains(value, Value(text)))
    if term.op == "regex":
        return Q(Regex(value, Value(text)))
    return NOTHING


def _registry_term(term: Term) -> Q:
    field, op, value = term.field, term.op, term.value
    if field is None:
        return _text("name", op, value) | _text("slug", op, value) | _text("description", op, value)
    if field in ("name", "description"):
        return _text(field, op, value)
    if field == "registry":
        return _text("slug", op, value) | _text("name", op, value)
    if field == "type":
        return _among(RegistryArtifactType.objects, "registry_id", "name", op, value)
    if field in ("created", "updated"):
        return _moment(f"{field}_at", op, value)
    return NOTHING


def _collection_term(term: Term) -> Q:
    field, op, value = term.field, term.op, term.value
    tags = CollectionTag.objects
    if field is None:
        return (
            _text("name", op, value)
            | _text("description", op, value)
            | _among(tags, "collection_id", "name", op, value)
        )
    if field in ("name", "description"):
        return _text(field, op, value)
    if field == "collection":
        return _text("name", op, value)
    if field == "tag":
        return _among(tags, "collection_id", "name", op, value)
    if field == "alias":
        return _among(Alias.objects, "collection_id", "name", op, value)
    if field == "type":
        return _text("artifact_type", op, value)
    if field == "registry":
        return _text("registry__slug", op, value) | _text("registry__name", op, value)
    if field in ("created", "updated"):
        return _moment(f"{field}_at", op, value)
    return NOTHING


def _version_term(term: Term) -> Q:
    """A linked version: its collection's name and type, its aliases, its tags (the source
    version's and the link's own), its metadata and metrics."""
    field, op, value = term.field, term.op, term.value
    if field is None:
        return (
            _text("collection__name", op, value)
            | _text("version__description", op, value)
            | _among(Alias.objects, "link_id", "name", op, value)
            | _version_tags(op, value)
        )
    if field == "name" or field == "collection":
        return _text(
            "collection__name", "eq" if field == "collection" and op == "contains" else op, value
        )
    if field == "description":
        return _text("version__description", op, value)
    if field == "tag":
        return _version_tags(op, value)
    if field == "alias":
        return _among(Alias.objects, "link_id", "name", op, value)
    if field == "type":
        return _text("collection__artifact_type", op, value)
    if field == "registry":
        return _text("collection__registry__slug", op, value) | _text(
            "collection__registry__name", op, value
        )
    if field == "created":
        return _moment("linked_at", op, value)
    if field == "updated":
        return _moment("version__updated_at", op, value)
    if field == "metric":
        return _metric(term)
    if field == "metadata":
        return _metadata(term)
    return NOTHING


def _version_tags(op: str, value: Any) -> Q:
    """A linked version's tags: its source version's, and the link's own (migrated ones)."""
    if op in ("ne", "exists") and not (op == "exists" and value):
        # "has none" must hold of both sets of tags.
        return _among(VersionTag.objects, "version__links", "name", op, value) & _among(
            LinkTag.objects, "link_id", "name", op, value
        )
    return _among(VersionTag.objects, "version__links", "name", op, value) | _among(
        LinkTag.objects, "link_id", "name", op, value
    )


TERMS: dict[str, Callable[[Term], Q]] = {
    "registry": _registry_term,
    "collection": _collection_term,
    "version": _version_term,
}
MODELS = {"registry": Registry, "collection": Collection, "version": Link}


def _term(term: Term, kind: str) -> Q:
    return TERMS[kind](term)
