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

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import F, FloatField, Lookup, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
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

from apps.artifacts.models import ArtifactVersion, VersionTag
from apps.registries.models import (
    Alias,
    Collection,
    CollectionTag,
    Link,
    LinkTag,
    Registry,
    RegistryArtifactType,
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


def _among(queryset: QuerySet, column: str, field: str, op: str, value: Any, on: str = "pk") -> Q:
    """Rows with a related row (a tag, an alias, a type) whose `field` matches: `on` (the
    row's key, or a foreign key) in a subquery of `column`. `ne` is "has none equal to",
    `exists` "has any"."""
    if op == "exists":
        found = Q(**{f"{on}__in": queryset.values(column)})
        return found if value else ~found
    if op == "ne":
        return ~Q(**{f"{on}__in": queryset.filter(_text(field, "eq", value)).values(column)})
    return Q(**{f"{on}__in": queryset.filter(_text(field, op, value)).values(column)})


def _any_link(parts: list[Q]) -> Q:
    """Links meeting any of `parts` (each `key IN (a subquery)`), each part planned on its own
    from its own index (a word's trigram indexes), where an OR of IN subqueries would be tested
    on every link. On PostgreSQL, an OR of `key = ANY(ARRAY(subquery))`: each subquery runs
    once and the links come from a BitmapOr of their own indexes (a prefix of 100 collections
    reads their 10,000 links by collection_id, in a hundred heap pages), where `pk IN (a union)`
    fetched each link by its primary key. Elsewhere, `pk IN (the union of each part's links)`.
    (A plain OR stays better where rows come newest first and the first page may be found
    early.)"""
    if any(not part.children for part in parts):  # one of them matches every link
        return Q()
    parts = [part for part in parts if part != NOTHING]
    if not parts:
        return NOTHING
    if connection.vendor == "postgresql" and all(_is_key_in(part) for part in parts):
        return Q.create([_any_of(part) for part in parts], connector=Q.OR)
    found = [Link.objects.filter(part).order_by().values("pk") for part in parts]
    if len(found) == 1:
        return Q(pk__in=found[0])
    return Q(pk__in=found[0].union(*found[1:], all=True))


class AnyOf(Lookup):
    """`column = ANY(array)`: with an ARRAY(subquery), a condition an index scan can take.
    Used directly, not registered on a field."""

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def _is_key_in(part: Q) -> bool:
    """Whether `part` is one `key__in=<a queryset>` and nothing else."""
    if part.negated or len(part.children) != 1 or not isinstance(part.children[0], tuple):
        return False
    lookup, rows = part.children[0]
    return lookup.endswith("__in") and isinstance(rows, QuerySet)


def _any_of(part: Q) -> Q:
    """`key__in=<a queryset>` as `key = ANY(ARRAY(the queryset))`."""
    ((lookup, rows),) = part.children
    # Without the model's ordering, which could join another table to sort a set.
    return Q(AnyOf(F(lookup.removesuffix("__in")), ArraySubquery(rows.order_by())))


def _through(key: str, model: type, found: Q) -> Q:
    """`found`, a condition on the row a link's `key` points to (its collection or version), as
    `key IN (a subquery)`: the links are then filtered by their own columns, each row the
    subquery reads is read once (not once per link), and a version's wide row is joined only
    to the links shown."""
    if found == NOTHING or not found.children:  # matches nothing, or everything
        return found
    return Q(**{f"{key}__in": model.objects.filter(found).values("pk")})


def _moment(column: str, op: str, value: Any) -> Q:
    if op == "exists":
        return Q() if value else NOTHING
    if op == "ne":
        return ~Q(**{column: value})
    if op not in ORDERED:
        return NOTHING
    return Q(**{f"{column}__{ORDERED[op]}": value})


def _metric(term: Term) -> Q:
    """On a version: its metric as a number (NULL where it has none)."""
    value = Cast(KeyTextTransform(term.key, "metrics"), FloatField())
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
    """On a version: a top-level metadata key's value, as text."""
    value = KeyTextTransform(term.key, "metadata")
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

    def collection(found: Q) -> Q:
        return _through("collection_id", Collection, found)

    def version(found: Q) -> Q:
        return _through("version_id", ArtifactVersion, found)

    if field is None:
        return _any_link(
            [
                collection(_text("name", op, value)),
                version(_text("description", op, value)),
                _among(Alias.objects, "link_id", "name", op, value),
                *_version_tags(op, value, apart=True),
            ]
        )
    if field == "name" or field == "collection":
        return collection(
            _text("name", "eq" if field == "collection" and op == "contains" else op, value)
        )
    if field == "description":
        return version(_text("description", op, value))
    if field == "tag":
        return _version_tags(op, value)
    if field == "alias":
        return _among(Alias.objects, "link_id", "name", op, value)
    if field == "type":
        return collection(_text("artifact_type", op, value))
    if field == "registry":
        return collection(_text("registry__slug", op, value) | _text("registry__name", op, value))
    if field == "created":
        return _moment("linked_at", op, value)
    if field == "updated":
        return version(_moment("updated_at", op, value))
    if field == "metric":
        return version(_metric(term))
    if field == "metadata":
        return version(_metadata(term))
    return NOTHING


def _version_tags(op: str, value: Any, apart: bool = False) -> Any:
    """A linked version's tags: its source version's, and the link's own (migrated ones); or,
    `apart`, the two conditions (either may hold), for `_any_link`."""
    shared = _among(VersionTag.objects, "version_id", "name", op, value, on="version_id")
    own = _among(LinkTag.objects, "link_id", "name", op, value)
    if apart:
        return shared, own
    if op in ("ne", "exists") and not (op == "exists" and value):
        return shared & own  # "has none" must hold of both sets of tags
    # An OR, not a union: a common tag then finds the first page among the newest links
    # without reading every link that has it.
    return shared | own


def tagged_versions(node: Any) -> QuerySet | None:
    """The source versions a matching link may point to, where the tree's tags narrow them
    (None where they do not): a link matching `tag:x` points to a version tagged x, or has x
    itself. Required of every link beside the tree's own condition, it lets PostgreSQL start
    from the tags, whose number it can estimate, where the tree's OR of a version's tags and
    the link's own would have it test every link in turn. A superset: the tree still decides."""
    if isinstance(node, Term):
        if node.field != "tag" or node.op in ("ne", "exists"):
            return None
        found = _text("name", node.op, node.value)
        own = LinkTag.objects.filter(found).order_by().values("link__version_id")
        return VersionTag.objects.filter(found).order_by().values("version_id").union(own, all=True)
    if isinstance(node, And):
        # Beside a condition on another field, which narrows the links as well, a common tag
        # read first would cost more than it saves: the tags are then tested on what is left.
        if any(isinstance(child, Term) and child.field != "tag" for child in node.nodes):
            return None
        return next(
            (found for child in node.nodes if (found := tagged_versions(child)) is not None), None
        )
    if isinstance(node, Or):  # each part must narrow
        parts = [tagged_versions(child) for child in node.nodes]
        if not parts or any(part is None for part in parts):
            return None
        return parts[0].union(*parts[1:], all=True)
    return None  # a NOT narrows nothing


TERMS: dict[str, Callable[[Term], Q]] = {
    "registry": _registry_term,
    "collection": _collection_term,
    "version": _version_term,
}
MODELS = {"registry": Registry, "collection": Collection, "version": Link}


def _term(term: Term, kind: str) -> Q:
    return TERMS[kind](term)
