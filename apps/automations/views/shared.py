"""What the automations pages share: finding what a URL names (the same 404 for what the user
may not see as for what does not exist), and the table of automations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from apps.accounts.models import Team
from apps.accounts.policy import Action, not_found
from apps.artifacts.lookups import visible
from apps.automations.forms import AutomationFilterForm
from apps.automations.models import Automation, Execution
from apps.automations.services import scope_of
from apps.lib.pagination import keyset_page, pager

AUTOMATIONS_PER_PAGE = 50
# Sorting by last triggered puts the never triggered last: a keyset cursor holds no null.
NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def automation_for(user: Any, org: str, pk: int) -> Automation:
    """The automation with what its page reads, or 404 for anyone who may not see its scope;
    403 for those who see it but may not manage automations there."""
    found = (
        Automation.objects.select_related(
            "organization",
            "registry__organization",
            "collection__registry__organization",
            "webhook__team",
            "webhook__access_token",
            "webhook__signing_secret",
            "created_by",
        )
        .filter(organization__slug=org, pk=pk)
        .first()
    )
    asked = f"{org}/automations/{pk}"
    if found is None:
        raise not_found(asked)
    visible(user, scope_of(found), asked, Action.MANAGE_AUTOMATIONS)
    return found


def team_for(user: Any, org: str, slug: str) -> Team:
    """The team, or 404 for anyone outside it; 403 for its members who are not its admins."""
    found = Team.objects.select_related("organization").filter(organization__slug=org, slug=slug)
    asked = f"{org}/teams/{slug}/integrations"
    return visible(user, found.first(), asked, Action.MANAGE_INTEGRATIONS)


@dataclass
class AutomationRow:
    automation: Automation
    last_at: datetime | None
    last_status: str | None
    inherited: bool  # watches this place from a wider scope
    can_open: bool


def automation_table(
    request: HttpRequest,
    automations: QuerySet[Automation],
    *,
    inherited: Any = None,
    can_open_org_wide: bool = True,
) -> dict:
    """The context of `automations/includes/automation_table.html`: one keyset page of the
    automations, searched by name and sorted by name or last triggered, each with its last
    execution. `inherited(automation)` says which watch from a wider scope."""
    filters = AutomationFilterForm(request.GET)
    filters.is_valid()
    data = filters.cleaned_data
    latest = Execution.objects.filter(automation=OuterRef("pk")).order_by("-created_at", "-id")
    automations = (
        automations.select_related("registry", "collection", "webhook__team")
        .annotate(
            last_at=Subquery(latest.values("created_at")[:1]),
            last_status=Subquery(latest.values("status")[:1]),
        )
        .annotate(last_triggered=Coalesce("last_at", Value(NEVER, DateTimeField())))
    )
    if query := data.get("q"):
        automations = automations.filter(name__icontains=query)
    field, descending = filters.ordering()
    page = keyset_page(
        automations,
        field=field,
        descending=descending,
        cursor=data.get("cursor"),
        size=AUTOMATIONS_PER_PAGE,
        count=True,
    )
    rows = [
        AutomationRow(
            automation=automation,
            last_at=automation.last_at,
            last_status=automation.last_status,
            inherited=bool(inherited and inherited(automation)),
            can_open=automation.registry_id is not None or can_open_org_wide,
        )
        for automation in page.items
    ]
    return {
        "filters": filters,
        "rows": rows,
        "pager": pager(request, page),
    }
