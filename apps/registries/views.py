"""The Registry pages. Permissions are decided here, through the policy, never in templates.

Every write works as a plain form post (redirect after success) and in place with htmx (the
changed fragment re-rendered from fresh data).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, FloatField, Max, Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Organization
from apps.accounts.policy import (
    Action,
    can,
    check,
    effective_role,
    registry_members,
    role_allows,
    visible_projects,
    visible_registries,
    visible_teams,
)
from apps.artifacts.diffs import (
    PREVIEW_MAX_BYTES,
    is_previewable,
    manifest_changes,
    metadata_changes,
    text_diffs,
)
from apps.artifacts.downloads import blob_response, zip_response
from apps.artifacts.storage import open_blob
from apps.legacy.models import LegacyMigration, LegacyRegisteredModel
from apps.lib.charts import BarChart, LineChart, bar_chart, line_chart
from apps.lib.csv_export import csv_response
from apps.lib.pagination import keyset_page
from apps.lib.validators import parse_whole_number
from apps.lineage.models import AuditEvent, RunInput
from apps.lineage.views import lineage_context
from apps.registries import services
from apps.registries.comparison import Cell, Row, metric_rows, sort_rows
from apps.registries.forms import (
    AcceptedTypesForm,
    AccessForm,
    AliasForm,
    CollectionFilterForm,
    CollectionForm,
    ConfirmNameForm,
    DescriptionForm,
    GrantRoleForm,
    LinkVersionForm,
    MemberForm,
    MetricRangeForm,
    ProtectedAliasForm,
    RegistryDetailsForm,
    RegistryForm,
    SearchForm,
    TagForm,
    TeamGrantForm,
    add_service_error,
)
from apps.registries.lookups import collection_for, link_for, organization_for, registry_for
from apps.registries.models import (
    Alias,
    Collection,
    CollectionTag,
    Direction,
    Link,
    Registry,
    RegistryRole,
    Star,
    tag_names,
)
from apps.registries.templatetags.registry_tags import metric as metric_text

COLLECTIONS_PER_PAGE = 50


def next_page_query(request: HttpRequest, cursor: str | None) -> str | None:
    """This page's query string with the cursor of the next page, or None on the last page."""
    if not cursor:
        return None
    params = request.GET.copy()
    params["cursor"] = cursor
    return params.urlencode()


def is_fragment_request(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


# Landing


SEARCH_LIMIT = 20


def _search(registries, query: str) -> dict:
    """Registries, collections, aliases and tags by name, among what the user may see."""
    collections = Collection.objects.filter(registry__in=registries).select_related("registry")
    links = Link.objects.live().filter(collection__registry__in=registries)
    return {
        "registries": registries.filter(name__icontains=query)[:SEARCH_LIMIT],
        "collections": collections.filter(
            Q(name__icontains=query) | Q(tags__name__icontains=query)
        ).distinct()[:SEARCH_LIMIT],
        "aliases": Alias.objects.filter(collection__registry__in=registries, name__icontains=query)
        .select_related("link", "collection__registry")
        .order_by("collection__name", "name")[:SEARCH_LIMIT],
        "tagged_versions": links.filter(
            Q(version__tags__name__icontains=query) | Q(tags__name__icontains=query)
        )
        .select_related("collection__registry")
        .distinct()[:SEARCH_LIMIT],
    }


PROJECTS_ON_LANDING = 20
# After the last of a user's teams is migrated, the banner says where models went for this long,
# then leaves the landing page: by then old bookmarks and paths have been followed or fixed.
LEGACY_NOTE_DAYS = 30


def _legacy_banner(request: HttpRequest, organization: Organization) -> dict | None:
    """What the legacy Model Registry banner says to this user, or None for no banner."""
    teams = visible_teams(request.user, organization)
    counts = LegacyRegisteredModel.objects.filter(team__in=teams).aggregate(
        total=Count("pk"),
        waiting=Count("pk", filter=Q(migrated_at__isnull=True)),
        last_migrated=Max("migrated_at"),
    )
    if not counts["total"]:
        return None
    if counts["waiting"]:
        waiting_teams = teams.filter(legacy_models__migrated_at__isnull=True).distinct()
        return {
            "waiting": counts["waiting"],
            "can_migrate": any(
                can(request.user, Action.MIGRATE_LEGACY, team) for team in waiting_teams[:20]
            ),
        }
    if counts["last_migrated"] < timezone.now() - timedelta(days=LEGACY_NOTE_DAYS):
        return None
    migrated_to = LegacyMigration.objects.filter(team__in=teams).values("registry_id")
    return {
        "total": counts["total"],
        "registries": visible_registries(request.user, organization)
        .filter(pk__in=migrated_to)
        .order_by("name")[:10],
    }


def _landing_context(request: HttpRequest, organization: Organization) -> dict:
    visible = visible_registries(request.user, organization)
    registries = list(visible.for_landing_page().annotate(collection_count=Count("collections")))
    starred_ids = set(
        Star.objects.filter(user=request.user, registry__organization=organization).values_list(
            "registry_id", flat=True
        )
    )
    for registry in registries:
        registry.is_starred = registry.pk in starred_ids
    search = SearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    return {
        "organization": organization,
        "starred": [r for r in registries if r.is_starred],
        "core": [r for r in registries if r.is_core and not r.is_starred],
        "custom": [r for r in registries if not r.is_core and not r.is_starred],
        "recent": Collection.objects.filter(registry__in=visible)
        .select_related("registry")
        .order_by("-updated_at")[:8],
        "search": search,
        "query": query,
        "results": _search(visible, query) if query else None,
        "can_create_registry": can(request.user, Action.CREATE_REGISTRY, organization),
        "can_view_audit_log": can(request.user, Action.VIEW_AUDIT_LOG, organization),
        "projects": visible_projects(request.user, organization)
        .select_related("team")
        .order_by("team__slug", "name")[:PROJECTS_ON_LANDING],
        "legacy": _legacy_banner(request, organization),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def landing(request: HttpRequest, org: str) -> HttpResponse:
    """Starred registries first, then core and custom ones; search; create a registry (POST)."""
    organization = organization_for(request.user, org)
    form = RegistryForm()
    if request.method == "POST":
        check(request.user, Action.CREATE_REGISTRY, organization)
        form = RegistryForm(request.POST)
        if form.is_valid():
            try:
                registry = services.create_registry(
                    actor=request.user, organization=organization, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_error(form, error, "name")
            else:
                messages.success(request, f"Created registry {registry.name}.")
                return redirect("registries:registry", org=org, registry=registry.slug)
    context = _landing_context(request, organization)
    context["registry_form"] = form
    template = "registries/landing.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#search-results" if "q" in request.GET else "#registry-list"
    return render(request, template, context, status=400 if form.errors else 200)


@require_POST
def registry_star(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Star (starred=true) or unstar (starred=false) a registry for the signed-in user."""
    target = registry_for(request.user, org, registry)
    if request.POST.get("starred") == "true":
        services.star(actor=request.user, registry=target)
    else:
        services.unstar(actor=request.user, registry=target)
    if request.htmx:
        context = _landing_context(request, target.organization)
        return render(request, "registries/landing.html#registry-list", context)
    return redirect("registries:landing", org=org)


# Registry page


@dataclass
class CollectionRow:
    """One row of a registry's table of collections, ready to print."""

    name: str
    url: str
    artifact_type: str
    tag_names: list[str]
    version_count: int
    updated_at: datetime


def _collections_context(request: HttpRequest, registry: Registry) -> dict:
    filters = CollectionFilterForm(request.GET)
    filters.is_valid()
    data = filters.cleaned_data
    collections = registry.collections.for_registry_page()
    if query := data.get("q"):
        collections = collections.filter(name__icontains=query)
    if tag := data.get("tag"):
        collections = collections.filter(
            pk__in=CollectionTag.objects.filter(name=tag).values("collection_id")
        )
    if artifact_type := data.get("type"):
        collections = collections.filter(artifact_type=artifact_type)
    field, descending = filters.ordering()
    page = keyset_page(
        collections,
        field=field,
        descending=descending,
        cursor=data.get("cursor"),
        size=COLLECTIONS_PER_PAGE,
    )
    organization = registry.organization
    return {
        "registry": registry,
        "organization": organization,
        "filters": filters,
        "collections": [
            CollectionRow(
                name=row["name"],
                url=reverse(
                    "registries:collection",
                    kwargs={
                        "org": organization.slug,
                        "registry": registry.slug,
                        "collection": row["name"],
                    },
                ),
                artifact_type=row["artifact_type"],
                tag_names=sorted(row["tag_names"] or []),
                version_count=row["version_count"],
                updated_at=row["updated_at"],
            )
            for row in page.items
        ],
        "next_query": next_page_query(request, page.next_cursor),
        "types": sorted(registry.collections.artifact_types()),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def registry_detail(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """The collections of a registry, filtered and sorted; POST creates a collection."""
    target = registry_for(request.user, org, registry)
    accepted = None if target.accepts_all_types else target.accepted_type_names()
    form = CollectionForm(accepted_types=accepted)
    if request.method == "POST":
        check(request.user, Action.CREATE_COLLECTION, target)
        form = CollectionForm(request.POST, accepted_types=accepted)
        if form.is_valid():
            try:
                collection = services.create_collection(
                    actor=request.user, registry=target, **form.cleaned_data
                )
            except ValidationError as error:
                add_service_error(form, error, "name" if error.code == "duplicate_name" else None)
            else:
                messages.success(request, f"Created collection {collection.name}.")
                return redirect(collection_url(collection))
    context = _collections_context(request, target)
    context["accepted_types"] = accepted
    context["form"] = form
    context["can_create"] = can(request.user, Action.CREATE_COLLECTION, target)
    template = "registries/registry_detail.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#collection-table"
    return render(request, template, context, status=400 if form.errors else 200)


def collection_url(collection: Collection) -> str:
    registry = collection.registry
    return reverse(
        "registries:collection",
        kwargs={
            "org": registry.organization.slug,
            "registry": registry.slug,
            "collection": collection.name,
        },
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def link_version(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Link a version: choosing a project narrows the artifacts, an artifact its versions."""
    target = registry_for(request.user, org, registry)
    check(request.user, Action.LINK, target)
    accepted = None if target.accepts_all_types else target.accepted_type_names()
    projects = visible_projects(request.user, target.organization)
    # A GET only narrows the choices (project, then artifact, then version), so it is unbound.
    form = LinkVersionForm(
        request.POST if request.method == "POST" else None,
        initial=request.GET.dict(),
        projects=projects,
        accepted_types=accepted,
    )
    if request.method == "POST" and form.is_valid():
        try:
            link = services.link_version(
                actor=request.user,
                version=form.cleaned_data["version"],
                registry=target,
                collection_name=form.cleaned_data["collection"],
                aliases=form.cleaned_data["aliases"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, f"Linked {link.version} as {link.collection.name}:{link.label}."
            )
            return redirect(collection_url(link.collection))
    context = {
        "registry": target,
        "organization": target.organization,
        "form": form,
        "collections": target.collections.values_list("name", flat=True)[:500],
    }
    template = "registries/link_version.html"
    if request.method == "GET" and is_fragment_request(request):
        template += "#link-form"
    return render(request, template, context, status=400 if form.errors else 200)


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


# Collection page

LINKS_PER_PAGE = 50
# Missing metrics sort after every real value, whichever the direction.
MISSING_METRIC = 1e300


def metric_value(name: str) -> Cast:
    """A link's version's value of one metric, as a number (NULL where it has none)."""
    return Cast(KeyTextTransform(name, "version__metrics"), FloatField())


def _links_page(request: HttpRequest, collection: Collection, metric_range: MetricRangeForm):
    """One page of live links, by number or by a metric, in a metric's range if one is asked,
    as the rows of `for_versions_table`."""
    links = collection.links.live().for_versions_table()
    if metric_range.is_valid() and metric_range.cleaned_data["metric"]:
        name, low, high = (metric_range.cleaned_data[key] for key in ("metric", "min", "max"))
        links = links.annotate(range_value=metric_value(name)).filter(range_value__isnull=False)
        if low is not None:
            links = links.filter(range_value__gte=low)
        if high is not None:
            links = links.filter(range_value__lte=high)
    sort = request.GET.get("sort", "-number")
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    field = "number"
    if key.startswith("metric:") and len(key) > len("metric:"):
        missing = -MISSING_METRIC if descending else MISSING_METRIC
        links = links.annotate(
            metric_value=Coalesce(metric_value(key.removeprefix("metric:")), Value(missing))
        )
        field = "metric_value"
    else:
        sort = "-number" if descending else "number"
    return sort, keyset_page(
        links,
        field=field,
        descending=descending,
        cursor=request.GET.get("cursor"),
        size=LINKS_PER_PAGE,
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
                source=f"{row['project_name']}/{row['artifact_name']}:v{row['version_number']}",
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
    protected = set(registry.protected_aliases.values_list("name", flat=True))
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
        "next_query": next_page_query(request, page.next_cursor),
        "sort": sort,
        "show_metrics": show_metrics,
        "metric_names": metric_names,
        "metric_range": metric_range,
        "filter_query": metric_range.query,
        "protected": protected,
        "tags": list(collection.tags.values_list("name", flat=True)),
        "history": AuditEvent.objects.filter(collection=collection)[:20],
        "can_edit": role_allows(role, Action.EDIT_COLLECTION),
        "can_link": role_allows(role, Action.LINK),
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


HISTORY_PER_PAGE = 50


@require_GET
def collection_history(request: HttpRequest, org: str, registry: str, collection: str):
    """Every change to a collection and its versions, newest first, in keyset pages."""
    target = collection_for(request.user, org, registry, collection)
    page = history_page(request, AuditEvent.objects.filter(collection=target))
    context = {
        "organization": target.registry.organization,
        "registry": target.registry,
        "collection": target,
        "events": page.items,
        "next_cursor": page.next_cursor,
    }
    return render(request, "registries/collection_history.html", context)


def history_page(request: HttpRequest, events):
    return keyset_page(
        events, field="created_at", descending=True, cursor=request.GET.get("cursor"),
        size=HISTORY_PER_PAGE,
    )  # fmt: skip


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
    target = collection_for(request.user, org, registry, collection)
    link = get_object_or_404(target.links.live(), number=number)
    services.unlink(actor=request.user, link=link)
    messages.success(request, f"Unlinked {link.label} from {target.name}.")
    return _after_collection_write(request, target, "versions")


# Version page

FILES_PER_PAGE = 200


def _version_context(request: HttpRequest, link: Link, tab: str) -> dict:
    collection = link.collection
    registry = collection.registry
    role = effective_role(request.user, registry)
    protected = set(registry.protected_aliases.values_list("name", flat=True))
    aliases = sorted(a.name for a in link.aliases.all())
    org = registry.organization
    context = {
        "organization": org,
        "registry": registry,
        "collection": collection,
        "link": link,
        "version": link.version,
        "tab": tab,
        "path": f"{org.slug}/{registry.slug}/{collection.name}:v{link.number}",
        "aliases": aliases,
        "protected": protected,
        "version_tags": link.tag_names(),
        "can_edit": role_allows(role, Action.EDIT_COLLECTION),
        "can_set_aliases": role_allows(role, Action.SET_ALIAS),
        "can_set_protected": role_allows(role, Action.SET_ALIAS, protected=True),
        "can_download": role_allows(role, Action.DOWNLOAD),
        "can_view_project": can(request.user, Action.VIEW_PROJECT, link.version),
        "alias_form": AliasForm(),
        "tag_form": TagForm(),
    }
    if tab == "overview":
        context["previous_number"] = (
            collection.links.live()
            .filter(number__lt=link.number)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
    elif tab == "metadata":
        context["metrics"] = sorted(link.version.metrics.items())
        context["metadata_json"] = json.dumps(link.version.metadata, indent=2, sort_keys=True)
    elif tab == "files":
        page = keyset_page(
            link.version.files.select_related("blob"),
            field="path",
            descending=False,
            cursor=request.GET.get("cursor"),
            size=FILES_PER_PAGE,
        )
        context["files"] = [_file_row(entry) for entry in page.items]
        context["next_cursor"] = page.next_cursor
        if context["can_download"] and (preview := request.GET.get("preview")):
            context["preview"] = _preview(link, preview)
    elif tab == "lineage":
        context.update(lineage_context(request, link.version))
    elif tab == "history":
        # The version's changes wherever it is linked, in the registries the viewer sees.
        events = AuditEvent.objects.filter(
            version=link.version, registry__in=visible_registries(request.user, org)
        )
        page = history_page(request, events)
        context["events"], context["next_cursor"] = page.items, page.next_cursor
    elif tab == "usage":
        uses = (
            RunInput.objects.filter(version=link.version)
            .select_related("run__project__team", "run__created_by")
            .order_by("-created_at")[:100]
        )
        shown = set(visible_projects(request.user, org).values_list("pk", flat=True))
        context["used_by"] = [(use, use.run.project_id in shown) for use in uses]
    return context


def _file_row(entry) -> dict:
    folder, _, name = entry.path.rpartition("/")
    previewable = is_previewable(entry.path) and entry.size <= PREVIEW_MAX_BYTES
    return {"entry": entry, "folder": folder, "name": name, "previewable": previewable}


def _preview(link: Link, path: str) -> dict:
    """The first bytes of a small text file, or why it is not shown."""
    entry = link.version.files.filter(path=path).select_related("blob").first()
    if entry is None:
        return {"path": path, "error": "No such file in this version."}
    if not is_previewable(path):
        return {"path": path, "error": "Only text, Markdown, JSON, CSV and YAML files preview."}
    if entry.size > PREVIEW_MAX_BYTES:
        return {"path": path, "error": "Too large to preview; download it instead."}
    with open_blob(entry.blob) as stream:
        text = stream.read(PREVIEW_MAX_BYTES).decode("utf-8", errors="replace")
    if path.lower().endswith(".csv"):
        return {"path": path, "rows": list(csv.reader(io.StringIO(text)))[:200]}
    return {"path": path, "text": text}


@require_GET
@vary_on_headers("HX-Request")
def version_detail(
    request: HttpRequest, org: str, registry: str, collection: str, number: int, tab: str
):
    """A linked version: overview, metadata and metrics, files, and the runs that used it."""
    link = link_for(request.user, org, registry, collection, number)
    template = "registries/version_detail.html"
    if is_fragment_request(request):
        template += "#tab-panel"
    return render(request, template, _version_context(request, link, tab))


def _after_version_write(request: HttpRequest, link: Link, context_updates: dict | None = None):
    if request.htmx or context_updates:
        context = _version_context(request, link, "overview")
        context.update(context_updates or {})
        template = "registries/version_detail.html"
        if request.htmx:
            template += "#labels"
        return render(request, template, context, status=400 if context_updates else 200)
    return redirect(version_url(link))


def version_url(link: Link) -> str:
    collection = link.collection
    return reverse(
        "registries:version",
        kwargs={
            "org": collection.registry.organization.slug,
            "registry": collection.registry.slug,
            "collection": collection.name,
            "number": link.number,
        },
    )


@require_POST
def version_aliases(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """Add an alias (moving it here if another version holds it) or remove one (`remove`)."""
    link = link_for(request.user, org, registry, collection, number)
    check(request.user, Action.SET_ALIAS, link)
    remove = request.POST.get("remove")
    form = AliasForm({"alias": remove} if remove else request.POST)
    if form.is_valid():
        name = form.cleaned_data["alias"]
        try:
            if remove:
                services.remove_alias(actor=request.user, link=link, name=name)
            else:
                services.set_alias(actor=request.user, link=link, name=name)
        except ValidationError as error:
            add_service_error(form, error, "alias")
        else:
            return _after_version_write(request, link)
    return _after_version_write(request, link, {"alias_form": form})


@require_POST
def version_tags(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """Add tags to the source version (field `tags`) or remove one (`remove`)."""
    link = link_for(request.user, org, registry, collection, number)
    if remove := request.POST.get("remove"):
        services.remove_version_tag(actor=request.user, link=link, tag=remove)
        return _after_version_write(request, link)
    check(request.user, Action.EDIT_COLLECTION, link)
    form = TagForm(request.POST)
    if form.is_valid():
        services.add_version_tags(actor=request.user, link=link, tags=form.cleaned_data["tags"])
        return _after_version_write(request, link)
    return _after_version_write(request, link, {"tag_form": form})


@require_GET
def version_file(
    request: HttpRequest, org: str, registry: str, collection: str, number: int, path: str
):
    """Download one file of a linked version (viewers and above)."""
    link = link_for(request.user, org, registry, collection, number)
    check(request.user, Action.DOWNLOAD, link)
    entry = get_object_or_404(link.version.files.select_related("blob"), path=path)
    services.record_download(actor=request.user, link=link, path=path)
    return blob_response(request, entry.blob, path.rsplit("/", 1)[-1])


@require_GET
def version_zip(request: HttpRequest, org: str, registry: str, collection: str, number: int):
    """Download every file of a linked version as one zip, streamed as it is built."""
    link = link_for(request.user, org, registry, collection, number)
    services.record_download(actor=request.user, link=link)
    entries = link.version.files.select_related("blob").order_by("path")
    return zip_response(entries.iterator(), f"{collection}-v{number}.zip")


# Registry settings


def _settings_forms(registry: Registry, data=None, which: str = "") -> dict:
    """Every settings form; only the one posted (`which`) is bound to the data."""
    organization = registry.organization

    def bound(name: str):
        return data if which == name else None

    return {
        "details_form": RegistryDetailsForm(
            bound("details"), initial={"name": registry.name, "description": registry.description}
        ),
        "access_form": AccessForm(
            bound("access"),
            initial={"visibility": registry.visibility, "baseline_role": registry.baseline_role},
        ),
        "types_form": AcceptedTypesForm(bound("types")),
        "protected_form": ProtectedAliasForm(bound("protected")),
        "member_form": MemberForm(bound("member"), organization=organization),
        "team_form": TeamGrantForm(bound("team"), organization=organization),
        "delete_form": ConfirmNameForm(bound("delete"), expected=registry.name),
    }


def _settings_context(request: HttpRequest, registry: Registry, forms: dict) -> dict:
    role = effective_role(request.user, registry)
    return {
        "organization": registry.organization,
        "registry": registry,
        "members": registry_members(registry),
        "team_grants": registry.grants.filter(team__isnull=False).select_related("team"),
        "protected": registry.protected_aliases.all(),
        "role_choices": RegistryRole.choices,
        "can_admin": role_allows(role, Action.EDIT_REGISTRY),
        "can_delete": can(request.user, Action.DELETE_REGISTRY, registry),
        **forms,
    }


def _apply_settings_form(request: HttpRequest, registry: Registry, which: str, forms: dict):
    """Carry out one posted settings form; returns the form whose errors to show, or None."""
    actor = request.user
    if which == "role":
        form = GrantRoleForm(request.POST)
        if form.is_valid():
            grant = get_object_or_404(registry.grants, pk=form.cleaned_data["grant"])
            services.set_grant(
                actor=actor,
                registry=registry,
                role=form.cleaned_data["role"],
                user=grant.user,
                team=grant.team,
            )
        return None
    if which == "remove":
        grant = get_object_or_404(registry.grants, pk=request.POST.get("grant"))
        services.remove_grant(actor=actor, grant=grant)
        return None
    if which == "unprotect":
        services.remove_protected_alias(
            actor=actor, registry=registry, name=request.POST.get("alias", "")
        )
        return None
    form = forms.get(f"{which}_form")
    if form is None:
        raise Http404("No such settings form.")
    if not form.is_valid():
        return form
    data = form.cleaned_data
    try:
        if which == "details":
            services.update_registry_details(actor=actor, registry=registry, **data)
        elif which == "access":
            services.set_visibility(actor=actor, registry=registry, visibility=data["visibility"])
            services.set_baseline_role(actor=actor, registry=registry, role=data["baseline_role"])
        elif which == "types":
            services.add_accepted_types(actor=actor, registry=registry, **data)
        elif which == "protected":
            services.add_protected_alias(actor=actor, registry=registry, name=data["alias"])
        elif which == "member":
            services.set_grant(actor=actor, registry=registry, role=data["role"], user=data["who"])
        elif which == "team":
            services.set_grant(actor=actor, registry=registry, role=data["role"], team=data["team"])
        elif which == "delete":
            services.delete_registry(actor=actor, registry=registry)
    except ValidationError as error:
        add_service_error(form, error)
        return form
    return None


@require_http_methods(["GET", "POST"])
def registry_settings(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """Everyone who sees the registry sees its settings; its admins change them."""
    target = registry_for(request.user, org, registry)
    if request.method == "GET":
        return render(
            request,
            "registries/registry_settings.html",
            _settings_context(request, target, _settings_forms(target)),
        )
    which = request.POST.get("form", "")
    if which != "delete":
        check(request.user, Action.EDIT_REGISTRY, target)
    forms = _settings_forms(target, request.POST, which)
    failed = _apply_settings_form(request, target, which, forms)
    if failed is None:
        if which == "delete":
            messages.success(request, f"Deleted registry {target.name}.")
            return redirect("registries:landing", org=org)
        messages.success(request, "Settings saved.")
        target.refresh_from_db()
        return redirect("registries:settings", org=org, registry=target.slug)
    context = _settings_context(request, target, forms)
    return render(request, "registries/registry_settings.html", context, status=400)


# Compare

COMPARE_MAX = 50
COMPARE_DEFAULT = 3
CHARTS_MAX = 4
TREND_MAX = 500
PRODUCTION = "production"


@dataclass
class Selection:
    """The versions a compare URL names, oldest first, and the roles it gives them."""

    links: list[Link]
    baseline: Link | None
    against: Link | None  # whose changes from the baseline are shown
    notices: list[str]


def _compare_selection(request: HttpRequest, collection: Collection) -> Selection:
    """Read `v` (repeated; `3` or `v3`), `baseline` and `against` from the query string.

    Without `v`, the three newest versions. What cannot be shown is left out with a notice
    rather than refused, so a shared link keeps working after a version is unlinked.
    """
    notices, asked = [], []
    for raw in request.GET.getlist("v"):
        try:
            number = parse_whole_number(raw.strip().lower().removeprefix("v"), "A version")
        except ValidationError:
            notices.append(f"{raw[:30]!r} is not a version such as v3, so it is left out.")
            continue
        if number not in asked:
            asked.append(number)
    if len(asked) > COMPARE_MAX:
        notices.append(
            f"At most {COMPARE_MAX} versions compare at once: the first {COMPARE_MAX} of the "
            f"{len(asked)} chosen are shown."
        )
        asked = asked[:COMPARE_MAX]
    live = collection.links.live().select_related("version__artifact").prefetch_related("aliases")
    if asked:
        links = list(live.filter(number__in=asked).order_by("number"))
        missing = sorted(set(asked) - {link.number for link in links})
        if missing:
            listed = ", ".join(f"v{number}" for number in missing)
            notices.append(f"{listed}: not linked in this collection, so left out.")
    else:
        links = sorted(live.order_by("-number")[:COMPARE_DEFAULT], key=lambda link: link.number)
    for link in links:
        link.alias_names = sorted(alias.name for alias in link.aliases.all())
    baseline = (
        _chosen(links, request.GET.get("baseline"))
        or next((link for link in links if PRODUCTION in link.alias_names), None)
        or (links[0] if links else None)
    )
    others = [link for link in links if link is not baseline]
    against = _chosen(others, request.GET.get("against")) or (others[-1] if others else None)
    return Selection(links=links, baseline=baseline, against=against, notices=notices)


def _chosen(links: list[Link], raw: str | None) -> Link | None:
    number = (raw or "").strip().lower().removeprefix("v")
    return next((link for link in links if str(link.number) == number), None)


@dataclass
class Chart:
    metric: str
    direction: Direction
    bars: BarChart
    trend: LineChart
    trend_cut: int | None  # how many of the newest versions the trend shows, when not all


def _charts(collection: Collection, selection: Selection, rows: list[Row], asked: list[str]):
    """The charts of the metrics asked for (by default the first that differs): a bar per
    selected version, and the trend across the collection's versions in link order."""
    by_name = {row.metric: row for row in rows}
    names = [name for name in dict.fromkeys(asked) if name in by_name][:CHARTS_MAX]
    if not asked:
        names = [row.metric for row in rows if row.differs][:1]
    charts = []
    for name in names:
        row = by_name[name]
        bars = [
            (link.label, cell.value, _marks(cell))
            for link, cell in zip(selection.links, row.cells, strict=True)
        ]
        newest = list(
            collection.links.live()
            .annotate(value=metric_value(name))
            .order_by("-number")
            .values_list("number", "value")[: TREND_MAX + 1]
        )
        shown = newest[:TREND_MAX][::-1]
        charts.append(
            Chart(
                metric=name,
                direction=row.direction,
                bars=bar_chart(bars),
                trend=line_chart(
                    [(f"v{number}", value) for number, value in shown],
                    highlight={link.label for link in selection.links},
                ),
                trend_cut=TREND_MAX if len(newest) > TREND_MAX else None,
            )
        )
    return charts


def _marks(cell: Cell) -> set[str]:
    return {mark for mark, on in (("best", cell.is_best), ("baseline", cell.is_baseline)) if on}


def _production_hint(collection: Collection, selection: Selection) -> dict | None:
    """Where `production` sits when it is not among the selected versions, to add it."""
    if any(PRODUCTION in link.alias_names for link in selection.links):
        return None
    alias = collection.aliases.filter(name=PRODUCTION).select_related("link").first()
    if alias is None:
        return None
    numbers = [link.number for link in selection.links] + [alias.link.number]
    return {
        "text": f"production is on v{alias.link.number}, which is not selected.",
        "query": urlencode({"v": numbers}, doseq=True),
    }


def _compare_context(request: HttpRequest, collection: Collection) -> dict:
    registry = collection.registry
    role = effective_role(request.user, registry)
    selection = _compare_selection(request, collection)
    directions = {
        metric: Direction(direction)
        for metric, direction in collection.metric_directions.values_list("metric", "direction")
    }
    rows = metric_rows(selection.links, selection.baseline, directions) if selection.links else []
    only_differences = request.GET.get("only") == "differences"
    shown = [row for row in rows if row.differs] if only_differences else rows
    sort = request.GET.get("sort", "name")
    shown = sort_rows(shown, sort, [link.number for link in selection.links])
    asked_charts = request.GET.getlist("chart")
    charts = _charts(collection, selection, rows, asked_charts)
    context = {
        "organization": registry.organization,
        "registry": registry,
        "collection": collection,
        "links": selection.links,
        "baseline": selection.baseline,
        "against": selection.against,
        "notices": selection.notices,
        "production_hint": _production_hint(collection, selection),
        "rows": shown,
        "sort": sort,
        "only_differences": only_differences,
        "charts": charts,
        "charted": {chart.metric for chart in charts},
        "can_edit": role_allows(role, Action.EDIT_COLLECTION),
        "query": _compare_query(request),
        "query_without_sort": _compare_query(request, without="sort"),
    }
    if selection.against is not None:
        context["changes"] = _changes(selection, can_read_files=role_allows(role, Action.DOWNLOAD))
    return context


def _compare_query(request: HttpRequest, without: str = "") -> str:
    params = request.GET.copy()
    for key in ("format", without):
        params.pop(key, None)
    return params.urlencode()


def _changes(selection: Selection, *, can_read_files: bool) -> dict:
    """What changed from the baseline to the other version: metadata, files and, for those
    who may read file contents, the lines of small text files."""
    old, new = selection.baseline, selection.against
    files = manifest_changes(old.version, new.version)
    changes = {
        "metadata": metadata_changes(old.version.metadata, new.version.metadata),
        "files": files,
        "can_read_files": can_read_files,
    }
    if can_read_files:
        changes["text_diffs"] = text_diffs(files.changed, old_label=old.label, new_label=new.label)
    return changes


@require_GET
@vary_on_headers("HX-Request")
def collection_compare(request: HttpRequest, org: str, registry: str, collection: str):
    """Selected versions side by side: metrics with the best marked and deltas against a
    baseline, charts, and what changed between two of them. `?format=csv` exports the table."""
    target = collection_for(request.user, org, registry, collection)
    context = _compare_context(request, target)
    if request.GET.get("format") == "csv":
        return _compare_csv(target, context)
    template = "registries/compare.html"
    if is_fragment_request(request):
        template += "#comparison"
    return render(request, template, context)


def _compare_csv(collection: Collection, context: dict) -> HttpResponse:
    """The metrics table as CSV: a value and a delta column per version, in the table's order."""
    baseline = context["baseline"]
    header = ["metric", "better", "best"]
    for link in context["links"]:
        header += [link.label, f"{link.label} delta vs {baseline.label}"]
    rows = [header]
    for row in context["rows"]:
        line = [row.metric, row.direction.value, row.best]
        for cell in row.cells:
            line += [cell.value, cell.delta]
        rows.append(line)
    return csv_response(rows, f"{collection.name}-compare.csv")


@require_POST
def collection_metric_direction(request: HttpRequest, org: str, registry: str, collection: str):
    """Set which way is better for one metric of the collection, then go back to the page."""
    target = collection_for(request.user, org, registry, collection)
    metric = request.POST.get("metric", "")
    try:
        services.set_metric_direction(
            actor=request.user,
            collection=target,
            metric=metric,
            direction=request.POST.get("direction", ""),
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"Saved which way is better for {metric}.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse(
            "registries:compare",
            kwargs={"org": org, "registry": registry, "collection": collection},
        )
    return redirect(back)
