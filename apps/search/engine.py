"""Search across an organization: what the user may see, matching a query, ranked, in pages.

Access is part of the query: each kind starts from what the policy lets the user see, so a
hidden row never reaches a result, its count, its rank or its page. Ranking puts an exact name
first, then a name that starts with a searched word, then the rest; on PostgreSQL trigram
similarity to the words orders each tier of registries and collections, where SQLite keeps the
newest first. Versions are ranked by their collection's name and come newest first in each tier,
on both. The results are the same on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import BooleanField, Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from apps.accounts.models import Organization
from apps.accounts.policy import visible_registries
from apps.lib.pagination import Page, keyset_page
from apps.registries.models import Collection, Link
from apps.search.compile import KINDS, condition, positive_terms, tagged_versions, words
from apps.search.query import And, Term

NAME_COLUMN = {"registry": "name", "collection": "name", "version": "collection__name"}
MAX_REASONS = 8  # conditions said per row; a longer query still matches on all of them


def visible(user: Any, organization: Organization, kind: str) -> QuerySet:
    """Every row of a kind the user may see: the registries the policy shows them, and the
    collections and live links in those."""
    registries = visible_registries(user, organization)
    if kind == "registry":
        return registries
    # The registries' ids rather than a subquery: the planner then knows how few rows a user
    # who sees part may see, and drops the hidden ones before reading anything else of them.
    shown = list(registries.values_list("pk", flat=True))
    if kind == "collection":
        return Collection.objects.filter(registry__in=shown).select_related("registry")
    # Versions are fetched for the page's links only: joined, their wide rows (metrics,
    # metadata) would be read for every link a query considers.
    return (
        Link.objects.live()
        .filter(collection_registry__in=shown)
        .select_related("collection__registry")
        .prefetch_related("version", "aliases")
    )


def matching(user: Any, organization: Organization, node: Any, kind: str) -> QuerySet:
    """The rows of a kind the user may see that the query tree matches."""
    rows = visible(user, organization, kind).filter(condition(node, kind))
    if kind == "version" and (versions := tagged_versions(node)) is not None:
        rows = rows.filter(version_id__in=versions)
    return rows


@dataclass
class Hit:
    kind: str
    row: Any
    reasons: list[str] = field(default_factory=list)


@dataclass
class Results:
    pages: dict[str, Page]  # by kind

    @property
    def empty(self) -> bool:
        return not any(page.items for page in self.pages.values())


def search(
    user: Any,
    organization: Organization,
    node: Any,
    *,
    kinds: tuple[str, ...] = KINDS,
    cursors: dict[str, str] | None = None,
    size: int = 20,
    count: bool = False,
) -> Results:
    """One page of each kind of result, best first, each row saying why it matched; with
    `count`, each page has its kind's total (a COUNT query per kind)."""
    cursors = cursors or {}
    reasons = list(dict.fromkeys(positive_terms(node)))[:MAX_REASONS]
    # A condition every match meets (reached from the top through ANDs alone) is not asked
    # again of each row: the database would evaluate its subqueries a second time.
    always = set(_required(node))
    pages = {}
    for kind in kinds:
        rows = _ranked(matching(user, organization, node, kind), kind, words(node))
        rows = rows.annotate(
            **{
                f"why_{n}": Case(
                    When(condition(term, kind), then=True),
                    default=False,
                    output_field=BooleanField(),
                )
                for n, term in enumerate(reasons)
                if term not in always
            }
        )
        page = keyset_page(
            rows, field="rank", descending=True, cursor=cursors.get(kind), size=size, count=count
        )
        page.items = [
            Hit(
                kind,
                row,
                [
                    describe(t)
                    for n, t in enumerate(reasons)
                    if t in always or getattr(row, f"why_{n}")
                ],
            )
            for row in page.items
        ]
        pages[kind] = page
    return Results(pages)


def _required(node: Any) -> Iterator[Term]:
    """The conditions every match meets: those reached from the top through ANDs alone."""
    if isinstance(node, Term):
        yield node
    elif isinstance(node, And):
        for child in node.nodes:
            yield from _required(child)


def _ranked(rows: QuerySet, kind: str, searched: list[str]) -> QuerySet:
    """`rank`: 2 for an exact name, 1 for a name starting with a searched word, else 0; plus,
    on PostgreSQL, a registry's or collection's trigram similarity to the words (0 to 1)."""
    name = NAME_COLUMN[kind]
    if not searched:
        return rows.annotate(rank=Value(0.0, output_field=FloatField()))
    exact = Q.create([(f"{name}__iexact", word) for word in searched], connector=Q.OR)
    prefix = Q.create([(f"{name}__istartswith", word) for word in searched], connector=Q.OR)
    tier = Case(When(exact, then=Value(2.0)), When(prefix, then=Value(1.0)), default=Value(0.0))
    # Not for versions: a word can match thousands of links, which share a few collection names,
    # and the similarity would be computed again for each (half the time of the whole search).
    if connection.vendor != "postgresql" or kind == "version":
        return rows.annotate(rank=tier)
    similarity = Coalesce(TrigramSimilarity(F(name), " ".join(searched)), Value(0.0))
    return rows.annotate(rank=tier + similarity)


def describe(term: Term) -> str:
    """A condition in words, for "matched because"."""
    value = term.value
    if term.field is None:
        return f"“{value}”"
    what = f"{term.field} {term.key}" if term.field in ("metric", "metadata") else term.field
    if term.op == "exists":
        return f"{what} {'present' if value else 'absent'}"
    shown = value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else value
    words_for = {
        "contains": "contains",
        "eq": "is",
        "ne": "is not",
        "gt": ">",
        "gte": "≥",
        "lt": "<",
        "lte": "≤",
        "regex": "matches",
    }
    return f"{what} {words_for[term.op]} {shown}"
