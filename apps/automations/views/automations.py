"""The automations pages: the organization's list, the Automations tab of a registry and of a
collection, create and edit, an automation with its history, and one execution of it."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from apps.accounts.models import Organization
from apps.accounts.policy import (
    Action,
    can,
    check,
    not_found,
    registries_allowing,
    teams_allowing,
)
from apps.automations import delivery, services
from apps.automations.forms import AutomationForm, HistoryFilterForm, add_error_in_place
from apps.automations.models import Automation, Execution, Webhook
from apps.automations.payloads import (
    EVENT_VARIABLES,
    GITHUB_DISPATCH_EXAMPLE,
    METADATA_PREFIX,
    SAMPLE_CONTEXT,
)
from apps.automations.views.shared import automation_for, automation_table
from apps.lib.http import is_fragment_request
from apps.lib.pagination import keyset_page, pager
from apps.registries.lookups import collection_for, organization_for, registry_for
from apps.registries.models import Collection, Registry

EXECUTIONS_PER_PAGE = 50
# Where an automation watches: an organization, a registry (and its collections), a collection.
Scope = Organization | Registry | Collection


def _render_list(request: HttpRequest, context: dict) -> HttpResponse:
    template = "automations/automation_list.html"
    if is_fragment_request(request):
        template += "#automation-table"
    return render(request, template, context)


@require_GET
@vary_on_headers("HX-Request")
def automation_list(request: HttpRequest, org: str) -> HttpResponse:
    """Every automation in the organization that the user may manage: organization-wide ones
    for its admins, and those of the registries (and their collections) where they are a
    member or admin."""
    organization = organization_for(request.user, org)
    is_admin = can(request.user, Action.MANAGE_AUTOMATIONS, organization)
    automations = organization.automations.all()
    if not is_admin:
        managed = registries_allowing(request.user, organization, Action.MANAGE_AUTOMATIONS)
        automations = automations.filter(registry__in=managed)
    teams = teams_allowing(request.user, organization, Action.MANAGE_INTEGRATIONS)
    context = {
        "organization": organization,
        "can_create": is_admin,
        "new_url": reverse("automations:create", kwargs={"org": org}),
        "teams": teams.order_by("name")[:50],
        **automation_table(request, automations),
    }
    return _render_list(request, context)


@require_GET
@vary_on_headers("HX-Request")
def registry_automations(request: HttpRequest, org: str, registry: str) -> HttpResponse:
    """A registry's Automations tab: its own, its collections', and the organization's, which
    watch it too."""
    target = registry_for(request.user, org, registry)
    check(request.user, Action.MANAGE_AUTOMATIONS, target)
    automations = target.organization.automations.filter(
        Q(registry=target) | Q(registry__isnull=True)
    )
    context = {
        "organization": target.organization,
        "registry": target,
        "new_url": _new_url(target),
        **automation_table(
            request,
            automations,
            inherited=lambda automation: automation.registry_id is None,
            can_open_org_wide=can(request.user, Action.MANAGE_AUTOMATIONS, target.organization),
        ),
    }
    return _render_list(request, context)


@require_GET
@vary_on_headers("HX-Request")
def collection_automations(
    request: HttpRequest, org: str, registry: str, collection: str
) -> HttpResponse:
    """A collection's Automations tab: every automation that watches it, its own and those of
    its registry and organization (marked)."""
    target = collection_for(request.user, org, registry, collection)
    check(request.user, Action.MANAGE_AUTOMATIONS, target)
    organization = target.registry.organization
    automations = Automation.objects.watching(
        organization_id=organization.pk, registry_id=target.registry_id, collection_id=target.pk
    )
    context = {
        "organization": organization,
        "registry": target.registry,
        "collection": target,
        "new_url": _new_url(target),
        **automation_table(
            request,
            automations,
            inherited=lambda automation: automation.collection_id is None,
            can_open_org_wide=can(request.user, Action.MANAGE_AUTOMATIONS, organization),
        ),
    }
    return _render_list(request, context)


def _parts(scope: Scope) -> tuple[Organization, Registry | None, Collection | None]:
    """A scope's organization, registry and collection (None above the scope)."""
    if isinstance(scope, Collection):
        return scope.registry.organization, scope.registry, scope
    if isinstance(scope, Registry):
        return scope.organization, scope, None
    return scope, None, None


def _new_url(scope: Scope) -> str:
    """The create form, its scope preset to where it is opened from."""
    organization, registry, collection = _parts(scope)
    query = {"registry": registry.slug} if registry else {}
    if collection:
        query["collection"] = collection.name
    return reverse("automations:create", kwargs={"org": organization.slug}, query=query)


def _scope_from_query(request: HttpRequest, org: str) -> Scope:
    registry, collection = request.GET.get("registry"), request.GET.get("collection")
    if registry and collection:
        return collection_for(request.user, org, registry, collection)
    if registry:
        return registry_for(request.user, org, registry)
    return organization_for(request.user, org)


def scope_url(scope: Scope) -> str:
    """The list of automations in a scope: a collection's or registry's tab, or the
    organization's list."""
    organization, registry, collection = _parts(scope)
    kwargs = {"org": organization.slug}
    if collection:
        kwargs |= {"registry": registry.slug, "collection": collection.name}
        return reverse("automations:collection", kwargs=kwargs)
    if registry:
        return reverse("automations:registry", kwargs=kwargs | {"registry": registry.slug})
    return reverse("automations:list", kwargs=kwargs)


def scope_label(scope: Scope) -> str:
    if isinstance(scope, Collection):
        return f"Collection {scope.name} in registry {scope.registry.name}"
    if isinstance(scope, Registry):
        return f"Registry {scope.name}: every collection in it, later ones included"
    return f"Organization {scope.name}: every registry in it"


def detail_url(automation: Automation) -> str:
    return reverse(
        "automations:detail", kwargs={"org": automation.organization.slug, "pk": automation.pk}
    )


def usable_webhooks(user: Any, organization: Organization) -> QuerySet[Webhook]:
    """The webhooks the user may send to: their teams' (every team's, for organization admins)."""
    teams = teams_allowing(user, organization, Action.USE_INTEGRATIONS)
    return (
        Webhook.objects.filter(team__in=teams)
        .select_related("team", "access_token", "signing_secret")
        .order_by("team__name", "name")
    )


def slack_example() -> str:
    """The message a Slack destination gets, as the sample event would send it."""
    sample = Automation(name="Deploy on production")
    return json.dumps(json.loads(delivery.slack_message(sample, SAMPLE_CONTEXT)), indent=2)


def _variable(name: str) -> str:
    return f"${{{name}}}"


def _form_context(form: AutomationForm, scope: Scope, organization: Organization) -> dict:
    webhooks = list(form.fields["webhook"].queryset)
    return {
        "form": form,
        "scope_label": scope_label(scope),
        "list_url": scope_url(scope),
        "organization": organization,
        "variables": [(_variable(name), help) for name, help in EVENT_VARIABLES.items()],
        "metadata_variable": _variable(f"{METADATA_PREFIX}<key>"),
        "webhook_secrets": [
            (webhook, [_variable(name) for name in sorted(services.secret_names(webhook))])
            for webhook in webhooks
        ],
        "github_example": GITHUB_DISPATCH_EXAMPLE,
        "slack_example": slack_example(),
    }


def _may_send_to(request: HttpRequest, form: AutomationForm) -> bool:
    """Whether the user may send to the chosen webhook (its team's members may); says why in
    place when not, rather than the service's 404 for a team they are not in."""
    webhook = form.cleaned_data["webhook"]
    if can(request.user, Action.USE_INTEGRATIONS, webhook.team):
        return True
    form.add_error(
        "webhook",
        f"{webhook.name} belongs to team {webhook.team.name}, which you are not in: choose a "
        "webhook of one of your teams.",
    )
    return False


@require_http_methods(["GET", "POST"])
def automation_create(request: HttpRequest, org: str) -> HttpResponse:
    """A new automation in the scope the page was opened from (`?registry=…&collection=…`)."""
    scope = _scope_from_query(request, org)
    check(request.user, Action.MANAGE_AUTOMATIONS, scope)
    organization, registry, collection = _parts(scope)
    form = AutomationForm(
        request.POST if request.method == "POST" else None,
        webhooks=usable_webhooks(request.user, organization),
    )
    if request.method == "POST" and form.is_valid() and _may_send_to(request, form):
        try:
            automation = services.create_automation(
                actor=request.user,
                organization=organization,
                registry=registry,
                collection=collection,
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_error_in_place(form, error)
        else:
            messages.success(request, f"Created automation {automation.name}.")
            return redirect(detail_url(automation))
    context = _form_context(form, scope, organization)
    context["cancel_url"] = scope_url(scope)
    return render(
        request, "automations/automation_form.html", context, status=400 if form.errors else 200
    )


EDITABLE_FIELDS = [
    "name",
    "description",
    "event",
    "alias_regex",
    "tag_regex",
    "payload",
    "rate_limit_per_hour",
    "cooldown_seconds",
]


@require_http_methods(["GET", "POST"])
def automation_edit(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """The create form, filled in; the scope stays."""
    automation = automation_for(request.user, org, pk)
    initial = {field: getattr(automation, field) for field in EDITABLE_FIELDS}
    initial["webhook"] = automation.webhook_id
    # The current webhook stays a choice even if the user is not in its team: the form shows
    # what is set, and says so if it is kept.
    webhooks = usable_webhooks(request.user, automation.organization) | Webhook.objects.filter(
        pk=automation.webhook_id
    )
    form = AutomationForm(
        request.POST if request.method == "POST" else None,
        webhooks=webhooks,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid() and _may_send_to(request, form):
        try:
            services.update_automation(
                actor=request.user, automation=automation, **form.cleaned_data
            )
        except ValidationError as error:
            add_error_in_place(form, error)
            automation.refresh_from_db()  # the service set the refused values on it
        else:
            messages.success(request, f"Saved automation {automation.name}.")
            return redirect(detail_url(automation))
    context = _form_context(form, services.scope_of(automation), automation.organization)
    context["automation"] = automation
    context["cancel_url"] = detail_url(automation)
    return render(
        request, "automations/automation_form.html", context, status=400 if form.errors else 200
    )


@require_GET
@vary_on_headers("HX-Request")
def automation_detail(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """An automation's settings and its history: executions newest first, by status, in
    keyset pages."""
    automation = automation_for(request.user, org, pk)
    filters = HistoryFilterForm(request.GET)
    filters.is_valid()
    executions = automation.executions.defer("payload", "response_excerpt")
    if status := filters.cleaned_data.get("status"):
        executions = executions.filter(status=status)
    page = keyset_page(
        executions,
        field="created_at",
        descending=True,
        cursor=filters.cleaned_data.get("cursor"),
        size=EXECUTIONS_PER_PAGE,
        count=True,
    )
    context = {
        "organization": automation.organization,
        "automation": automation,
        "scope_url": scope_url(services.scope_of(automation)),
        "filters": filters,
        "executions": page.items,
        "pager": pager(request, page),
    }
    template = "automations/automation_detail.html"
    if is_fragment_request(request):
        template += "#history"
    return render(request, template, context)


@require_POST
def automation_pause(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """Pause (`paused=true`) or resume (`paused=false`): said outright, so that sending the form
    twice does not undo it."""
    automation = automation_for(request.user, org, pk)
    paused = request.POST.get("paused") == "true"
    services.set_paused(actor=request.user, automation=automation, paused=paused)
    messages.success(request, f"{'Paused' if paused else 'Resumed'} automation {automation.name}.")
    return redirect(detail_url(automation))


@require_http_methods(["GET", "POST"])
def automation_delete(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """Delete an automation, with its history, once confirmed."""
    automation = automation_for(request.user, org, pk)
    if request.method == "POST":
        back = scope_url(services.scope_of(automation))
        services.delete_automation(actor=request.user, automation=automation)
        messages.success(request, f"Deleted automation {automation.name}.")
        return redirect(back)
    context = {"organization": automation.organization, "automation": automation}
    return render(request, "automations/automation_delete.html", context)


def _execution_for(automation: Automation, org: str, uid: Any) -> Execution:
    execution = automation.executions.select_related("replay_of").filter(uid=uid).first()
    if execution is None:
        raise not_found(f"{org}/automations/{automation.pk}/executions/{uid}")
    execution.automation = automation  # loaded with what replay and the page read
    return execution


@require_GET
def execution_detail(request: HttpRequest, org: str, pk: int, uid: Any) -> HttpResponse:
    """One execution: what set it off, the payload sent (secrets by name), and the answer or
    the error."""
    automation = automation_for(request.user, org, pk)
    execution = _execution_for(automation, org, uid)
    context = {
        "organization": automation.organization,
        "automation": automation,
        "execution": execution,
        "replays": execution.replays.order_by("-created_at", "-id")[:20],
    }
    return render(request, "automations/execution_detail.html", context)


@require_POST
def execution_replay(request: HttpRequest, org: str, pk: int, uid: Any) -> HttpResponse:
    """Send an execution's payload again, as a new execution."""
    automation = automation_for(request.user, org, pk)
    execution = _execution_for(automation, org, uid)
    delivery.replay(actor=request.user, execution=execution)
    messages.success(request, "Replayed: a new execution is pending, and the worker sends it.")
    return redirect(detail_url(automation))
