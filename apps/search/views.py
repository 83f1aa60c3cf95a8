"""The search page: what the header's box finds in an organization, grouped by kind, in pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Organization
from apps.lib.http import is_fragment_request
from apps.lib.pagination import pager
from apps.registries.lookups import organization_for
from apps.search.engine import Hit, search
from apps.search.forms import KIND_LABELS, SearchForm
from apps.search.query import QueryError, parse

PER_KIND = 10  # hits of each kind when all show: enough to see what the query finds
PER_PAGE = 25  # when one kind is paged through


@dataclass
class Group:
    """The hits of one kind and where more are: paged through when the search is of this kind
    alone (`pager`), else the address of the kind's own search (`more_url`, None if none)."""

    kind: str
    label: str
    hits: list[Hit]
    more_url: str | None
    pager: dict | None = None


@require_GET
@vary_on_headers("HX-Request")
def search_page(request: HttpRequest, org: str) -> HttpResponse:
    """Registries, collections and versions the user may see that the query matches; the
    results alone for an htmx swap (the header's box, typing)."""
    organization = organization_for(request.user, org)
    form = SearchForm(request.GET)
    context = {"organization": organization, "search_form": form}
    if form.is_valid() and form.cleaned_data["q"].strip():
        context.update(_results(request, organization, form))
    template = "search/search.html"
    if is_fragment_request(request):
        template += "#search-results"
    return render(request, template, context)


def _results(request: HttpRequest, organization: Organization, form: SearchForm) -> dict:
    text, kind = form.cleaned_data["q"], form.cleaned_data["kind"]
    try:
        node = parse(text)
    except QueryError as error:
        # Echoed in monospace with a caret under the column: whitespace as plain spaces, so that
        # a tab or newline does not push the caret off its place.
        echo = re.sub(r"\s", " ", text)
        return {"query": text, "error": error, "echo": echo, "caret": " " * error.column + "^"}
    kinds = form.kinds()
    results = search(
        request.user,
        organization,
        node,
        kinds=kinds,
        cursors={kind: form.cleaned_data["cursor"]} if kind else {},
        size=PER_PAGE if kind else PER_KIND,
        count=bool(kind),
    )
    url = reverse("search:search", kwargs={"org": organization.slug})
    return {
        "query": text,
        "kind": kind,
        "search_url": url,
        "all_url": f"{url}?{urlencode({'q': text})}",
        "empty": results.empty,
        "groups": [
            Group(
                kind=shown,
                label=KIND_LABELS[shown],
                hits=page.items,
                more_url=None if kind else _page_url(url, text, shown, page.next_cursor),
                pager=pager(request, page) if kind else None,
            )
            for shown, page in results.pages.items()
            if page.items or kind  # a kind asked for shows even when nothing matches
        ],
    }


def _page_url(url: str, text: str, kind: str, cursor: Any) -> str | None:
    """The next page of one kind; absolute, as the box's results show on every page."""
    if not cursor:
        return None
    return f"{url}?{urlencode({'q': text, 'kind': kind, 'cursor': cursor})}"
