"""A linked version's page, its tabs, its aliases and tags, and its downloads."""

from __future__ import annotations

import csv
import io
import json

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.policy import (
    Action,
    can,
    check,
    effective_role,
    role_allows,
    visible_registries,
)
from apps.artifacts.diffs import PREVIEW_MAX_BYTES, is_previewable
from apps.artifacts.downloads import blob_response, zip_response
from apps.artifacts.storage import open_blob
from apps.audit.models import AuditEvent
from apps.lib.http import is_fragment_request
from apps.lib.pagination import keyset_page, pager
from apps.registries import services
from apps.registries.forms import AliasForm, TagForm, add_service_error
from apps.registries.lookups import link_for
from apps.registries.models import Link
from apps.registries.paths import version_path
from apps.registries.views.shared import history_page

FILES_PER_PAGE = 200


def _version_context(request: HttpRequest, link: Link, tab: str) -> dict:
    collection = link.collection
    registry = collection.registry
    role = effective_role(request.user, registry)
    protected = registry.protected_alias_names()
    aliases = sorted(a.name for a in link.aliases.all())
    org = registry.organization
    context = {
        "organization": org,
        "registry": registry,
        "collection": collection,
        "link": link,
        "version": link.version,
        "tab": tab,
        "path": version_path(org.slug, registry.slug, collection.name, link.number),
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
        context["previous_number"] = collection.links.live().number_before(link.number)
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
            count=True,
        )
        context["files"] = [_file_row(entry) for entry in page.items]
        context["pager"] = pager(request, page)
        if context["can_download"] and (preview := request.GET.get("preview")):
            context["preview"] = _preview(link, preview)
    elif tab == "history":
        # The version's changes wherever it is linked, in the registries the viewer sees.
        events = AuditEvent.objects.changes().filter(
            version=link.version, registry__in=visible_registries(request.user, org)
        )
        page = history_page(request, events)
        context["events"], context["pager"] = page.items, pager(request, page)
    # The lineage and usage tabs are lineage's: its template tags read and draw them.
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
