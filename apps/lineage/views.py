"""Lineage and history pages: the lineage graph, runs, projects, the organization's audit log."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.accounts.policy import Action, check, not_found, visible_registries
from apps.artifacts.lookups import project_for
from apps.artifacts.models import ArtifactVersion
from apps.audit.models import AuditEvent
from apps.lib.csv_export import csv_response
from apps.lib.pagination import keyset_page, pager
from apps.lineage.forms import AuditFilterForm
from apps.lineage.models import Run
from apps.lineage.panel import lineage_context
from apps.registries.lookups import organization_for, visible_version_ids
from apps.registries.models import Link

EVENTS_PER_PAGE = 50
VERSIONS_PER_PAGE = 50


@require_GET
def version_lineage(request: HttpRequest, org: str, uid: str):
    """A version's lineage on its own page, for versions seen through a project or a registry."""
    organization = organization_for(request.user, org)
    version = (
        ArtifactVersion.objects.committed()
        .select_related("artifact__project__team__organization")
        .filter(uid=uid, artifact__project__team__organization=organization)
        .first()
    )
    if version is None or not visible_version_ids(request.user, organization, [version.pk]):
        raise not_found(f"version {uid} of {org}")
    context = {"organization": organization, "version": version}
    context.update(lineage_context(request, version))
    return render(request, "lineage/version_lineage.html", context)


@require_GET
def run_detail(request: HttpRequest, org: str, team: str, project: str, run_id: str):
    """A run: what it was, and the versions it used and logged (hidden ones as placeholders)."""
    found_project = project_for(request.user, org, team, project)
    run = get_object_or_404(
        Run.objects.select_related("created_by"), project=found_project, run_id=run_id
    )
    inputs = list(
        run.inputs.select_related("version__artifact__project__team").order_by(
            "version__artifact__name"
        )
    )
    outputs = list(
        run.outputs.select_related("version__artifact__project__team").order_by(
            "version__artifact__name"
        )
    )
    organization = found_project.team.organization
    shown = visible_version_ids(
        request.user, organization, [edge.version_id for edge in inputs + outputs]
    )
    context = {
        "organization": organization,
        "project": found_project,
        "run": run,
        "inputs": [(edge.version, edge.version_id in shown) for edge in inputs],
        "outputs": [(edge.version, edge.version_id in shown) for edge in outputs],
        "summary": sorted(run.summary.items()),
        "config": sorted(run.config.items()),
    }
    return render(request, "lineage/run_detail.html", context)


@require_GET
def project_detail(request: HttpRequest, org: str, team: str, project: str):
    """A project's artifact versions, newest first, each with where it is linked; recent runs."""
    found_project = project_for(request.user, org, team, project)
    organization = found_project.team.organization
    versions = ArtifactVersion.objects.committed().filter(artifact__project=found_project)
    artifact = request.GET.get("artifact", "")
    if artifact:
        versions = versions.filter(artifact__name=artifact)
    page = keyset_page(
        versions.select_related("artifact", "created_by"),
        field="created_at",
        descending=True,
        cursor=request.GET.get("cursor"),
        size=VERSIONS_PER_PAGE,
        count=True,
    )
    links: dict[int, list[Link]] = {}
    for link in (
        Link.objects.live()
        .filter(
            version__in=page.items,
            collection__registry__in=visible_registries(request.user, organization),
        )
        .select_related("collection__registry")
        .order_by("collection__registry__name", "collection__name")
    ):
        links.setdefault(link.version_id, []).append(link)
    context = {
        "organization": organization,
        "project": found_project,
        "artifacts": found_project.artifacts.order_by("name"),
        "artifact": artifact,
        "versions": [(version, links.get(version.pk, [])) for version in page.items],
        "pager": pager(request, page),
        "runs": found_project.runs.select_related("created_by")[:20],
    }
    return render(request, "lineage/project_detail.html", context)


@require_GET
def audit_log(request: HttpRequest, org: str):
    """Every change in the organization's registries and every download, for its admins."""
    organization = organization_for(request.user, org)
    check(request.user, Action.VIEW_AUDIT_LOG, organization)
    form = AuditFilterForm(request.GET, organization=organization)
    events = AuditEvent.objects.filter(organization=organization)
    events = _filtered(events, form.cleaned_data) if form.is_valid() else events.none()
    if request.GET.get("format") == "csv":
        return _csv_response(events, organization.slug)
    page = keyset_page(
        events, field="created_at", descending=True, cursor=request.GET.get("cursor"),
        size=EVENTS_PER_PAGE, count=True,
    )  # fmt: skip
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "organization": organization,
        "form": form,
        "events": page.items,
        "pager": pager(request, page),
        "filter_query": query.urlencode(),
    }
    return render(request, "lineage/audit_log.html", context)


def _filtered(events, filters: dict[str, Any]):
    if filters["actor"]:
        events = events.filter(actor_name=filters["actor"])
    if filters["registry"]:
        events = events.filter(registry=filters["registry"])
    if filters["collection"]:
        events = events.filter(collection__name=filters["collection"])
    if filters["action"]:
        events = events.filter(action=filters["action"])
    zone = timezone.get_current_timezone()
    if filters["since"]:
        events = events.filter(created_at__gte=datetime.combine(filters["since"], time(), zone))
    if filters["until"]:
        # The whole of the last day.
        end = datetime.combine(filters["until"] + timedelta(days=1), time(), zone)
        events = events.filter(created_at__lt=end)
    return events


def _csv_response(events, org: str) -> StreamingHttpResponse:
    header = ["time", "actor", "action", "target", "registry_id", "collection_id", "details"]

    def rows():
        yield header
        for event in events.order_by("-created_at", "-id").iterator(chunk_size=2000):
            yield [
                event.created_at.isoformat(),
                event.actor_name or "system",
                event.action,
                event.target,
                event.registry_id,
                event.collection_id,
                _details(event.data),
            ]

    return csv_response(rows(), f"{org}-audit-log.csv")


def _details(data: dict) -> str:
    return "; ".join(f"{key}={value}" for key, value in sorted(data.items()))
