"""A collection's page: its versions table, card, tags and history, and its writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.policy import Action, check, effective_role, role_allows
from apps.artifacts.models import source_version_path
from apps.audit.models import AuditEvent
from apps.lib.http import is_fragment_request
from apps.lib.pagination import keyset_page, pager
from apps.registries import services
from apps.registries.forms import ConfirmNameForm, DescriptionForm, MetricRangeForm, TagForm
from apps.registries.lookups import collection_for, link_for
from apps.registries.models import Collection, tag_names
from apps.registries.templatetags.registry_tags import metric as metric_text
from apps.registries.views.shared import (
    collection_url,
    history_page,
)

LINKS_PER_PAGE = 50


def _links_page(request: HttpRequest, collection: Collection, metric_range: MetricRangeForm):
    """One page of live links, by number or by a metric, in a metric's range if one is asked,
    as the rows of `for_versions_table`."""
    links = collection.links.live().for_versions_table()
    if metric_range.is_valid() and metric_range.cleaned_data["metric"]:
        name, low, high = (metric_range.cleaned_data[key] for key in ("metric", "min", "max"))
        links = links.with_metric_between(name, low, high)
    sort = request.GET.get("sort", "-number")
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    field = "number"
    if key.startswith("metric:") and len(key) > len("metric:"):
        links = links.with_metric_sort_value(key.removeprefix("metric:"), descending=descending)
        field = "metric_value"
    else:
        sort = "-number" if descending else "number"
    return sort, keyset_page(
        links,
        field=field,
        descending=descending,
        cursor=request.GET.get("cursor"),
        size=LINKS_PER_PAGE,
        count=True,
    )


@dataclass
class VersionRow:
    """One row of a collection's versions table, with what it prints worked out beforehand,
    for the `version_rows` tag: a page is 50 rows, and following relations, filters and
    `{% url %}` in every cell of every row cost more than the rest of the page."""

    number: int
    label: str
    url: str
    alias_names: list[str]
    aliases: list[tuple[str, bool]]  # (name, protected)
    tag_names: list[str]
    source: str
    linked_by: str
    linked_at: datetime
    is_protected: bool
    can_unlink: bool
    unlink_url: str
    metric_cells: list[str]


class _VersionURL:
    """One of a version's URLs in a collection, for any number: reversed once per page rather
    than for every row. Names and slugs hold no "/", so "/v0/" is where the number goes."""

    def __init__(self, name: str, collection: Collection):
        registry = collection.registry
        kwargs = {
            "org": registry.organization.slug,
            "registry": registry.slug,
            "collection": collection.name,
            "number": 0,
        }
        self.head, self.tail = reverse(name, kwargs=kwargs).rsplit("/v0/", 1)

    def __call__(self, number: int) -> str:
        return f"{self.head}/v{number}/{self.tail}"


def _version_rows(
    rows: list[dict],
    collection: Collection,
    *,
    protected: set[str],
    role,
    metric_names: list[str] | None,
) -> list[VersionRow]:
    """The table's rows from `for_versions_table` rows; metric cells only when shown."""
    version_url = _VersionURL("registries:version", collection)
    unlink_url = _VersionURL("registries:unlink", collection)
    # Whether the viewer may unlink depends only on whether the row holds a protected alias.
    may_unlink = {
        holds_protected: role_allows(role, Action.UNLINK, protected=holds_protected)
        for holds_protected in (False, True)
    }
    table = []
    for row in rows:
        alias_names = sorted(row["alias_names"] or [])
        is_protected = not protected.isdisjoint(alias_names)
        metrics = row["metrics"] or {}
        number = row["number"]
        table.append(
            VersionRow(
                number=number,
                label=f"v{number}",
                url=version_url(number),
                alias_names=alias_names,
                aliases=[(name, name in protected) for name in alias_names],
                tag_names=tag_names(row),
                source=source_version_path(
                    row["team_slug"],
                    row["project_name"],
                    row["artifact_name"],
                    f"v{row['version_number']}",
                ),
                linked_by=row["linked_by_name"] or "—",
                linked_at=row["linked_at"],
                is_protected=is_protected,
                can_unlink=may_unlink[is_protected],
                unlink_url=unlink_url(number),
                metric_cells=(
                    [metric_text(metrics.get(name)) for name in metric_names]
                    if metric_names is not None
                    else []
                ),
            )
        )
    return table


def _collection_context(request: HttpRequest, collection: Collection) -> dict:
    registry = collection.registry
    role = effective_role(request.user, registry)
    protected = registry.protected_alias_names()
    metric_range = MetricRangeForm(request.GET)
    sort, page = _links_page(request, collection, metric_range)
    show_metrics = request.GET.get("metrics") == "1"
    metric_names = sorted({name for row in page.items for name in row["metrics"] or ()})
    links = _version_rows(
        page.items,
        collection,
        protected=protected,
        role=role,
        metric_names=metric_names if show_metrics else None,
    )
    return {
        "organization": registry.organization,
        "registry": registry,
        "collection": collection,
        "links": links,
        "pager": pager(request, page),
        "sort": sort,
        "show_metrics": show_metrics,
        "metric_names": metric_names,
        "metric_range": metric_range,
        "filter_query": metric_range.query,
        "protected": protected,
        "tags": list(collection.tags.values_list("name", flat=True)),
        "history": AuditEvent.objects.changes().filter(collection=collection)[:20],
        "can_edit": role_allows(role, Action.EDIT_COLLECTION),
        "can_link": role_allows(role, Action.LINK),
        "can_automate": role_allows(role, Action.MANAGE_AUTOMATIONS),
        "can_delete": role_allows(
            role,
            Action.DELETE_COLLECTION,
            protected=collection.aliases.filter(name__in=protected).exists(),
        ),
        "description_form": DescriptionForm(initial={"description": collection.description}),
        "tag_form": TagForm(),
    }


@require_GET
@vary_on_headers("HX-Request")
def collection_detail(request: HttpRequest, org: str, registry: str, collection: str):
    """The versions of a collection, its card, its tags and its recent history."""
    target = collection_for(request.user, org, registry, collection)
    template = "registries/collection_detail.html"
    if is_fragment_request(request):
        template += "#versions"
    return render(request, template, _collection_context(request, target))


@require_GET
def collection_history(request: HttpRequest, org: str, registry: str, collection: str):
    """Every change to a collection and its versions, newest first, in keyset pages."""
    target = collection_for(request.user, org, registry, collection)
    page = history_page(request, AuditEvent.objects.changes().filter(collection=target))
    context = {
        "organization": target.registry.organization,
        "registry": target.registry,
        "collection": target,
        "events": page.items,
        "pager": pager(request, page),
    }
    return render(request, "registries/collection_history.html", context)


def _after_collection_write(request: HttpRequest, collection: Collection, fragment: str):
    """Re-render the changed fragment for htmx, or go back to the page."""
    if request.htmx:
        context = _collection_context(request, collection)
        return render(request, f"registries/collection_detail.html#{fragment}", context)
    return redirect(collection_url(collection))


@require_POST
def collection_description(request: HttpRequest, org: str, registry: str, collection: str):
    target = collection_for(request.user, org, registry, collection)
    check(request.user, Action.EDIT_COLLECTION, target)
    form = DescriptionForm(request.POST)
    if form.is_valid():
        services.update_collection_description(
            actor=request.user, collection=target, description=form.cleaned_data["description"]
        )
        target.refresh_from_db()
    return _after_collection_write(request, target, "card")


@require_POST
def collection_tags(request: HttpRequest, org: str, registry: str, collection: str):
    """Add tags (field `tags`) or remove one (field `remove`)."""
    target = collection_for(request.user, org, registry, collection)
    check(request.user, Action.EDIT_COLLECTION, target)
    if remove := request.POST.get("remove"):
        services.remove_collection_tag(actor=request.user, collection=target, tag=remove)
        return _after_collection_write(request, target, "card")
    form = TagForm(request.POST)
    if form.is_valid():
        services.add_collection_tags(
            actor=request.user, collection=target, tags=form.cleaned_data["tags"]
        )
        return _after_collection_write(request, target, "card")
    context = _collection_context(request, target)
    context["tag_form"] = form
    template = "registries/collection_detail.html"
    if request.htmx:
        template += "#card"
    return render(request, template, context, status=400)


@require_POST
def link_unlink(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    link = link_for(request.user, org, registry, collection, number)
    services.unlink(actor=request.user, link=link)
    messages.success(request, f"Unlinked {link.label} from {link.collection.name}.")
    return _after_collection_write(request, link.collection, "versions")


@require_http_methods(["GET", "POST"])
def collection_delete(request: HttpRequest, org: str, registry: str, collection: str):
    """Delete a collection after typing its name; its source versions stay."""
    target = collection_for(request.user, org, registry, collection)
    check(request.user, Action.DELETE_COLLECTION, target)
    form = ConfirmNameForm(request.POST or None, expected=target.name)
    if request.method == "POST" and form.is_valid():
        services.delete_collection(actor=request.user, collection=target)
        messages.success(request, f"Deleted collection {target.name}.")
        return redirect("registries:registry", org=org, registry=registry)
    context = {
        "collection": target,
        "registry": target.registry,
        "organization": target.registry.organization,
        "form": form,
    }
    return render(
        request, "registries/collection_delete.html", context, status=400 if form.errors else 200
    )
