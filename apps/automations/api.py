"""The automations' JSON API: list, create, change, pause and delete an organization's
automations, read their executions and replay one.

An automation is addressed by its id, which a rename leaves alone. Reading one needs what
changing it needs (MANAGE_AUTOMATIONS on its scope), so the list holds only the automations the
caller may manage. A scope is written as a path: `acme` (the organization), `acme/model` (a
registry and its collections, later ones included) or `acme/model/classifier` (one collection);
a webhook as `<team>/<webhook name>`.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.http import HttpRequest, JsonResponse

from apps.accounts.models import Organization
from apps.accounts.policy import Action, can, check, not_found, registries_allowing
from apps.artifacts.lookups import visible
from apps.automations import services
from apps.automations.delivery import replay as replay_execution
from apps.automations.models import (
    Automation,
    Event,
    Execution,
    ExecutionStatus,
    Webhook,
    WebhookKind,
)
from apps.automations.services import scope_of
from apps.lib.api import ApiError, api_view, json_body
from apps.lib.openapi import Operation, Schema, json_content
from apps.lib.pagination import keyset_page
from apps.registries.api import NEXT, PAGE_PARAMETERS, page_size
from apps.registries.lookups import collection_for, organization_for, registry_for
from apps.registries.models import Collection, Registry
from apps.registries.paths import collection_path, registry_path

DATE_TIME = {"type": "string", "format": "date-time"}
SCOPE_KINDS = ["organization", "registry", "collection"]

AUTOMATION = Schema(
    "Automation",
    {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "scope": {
                "type": "object",
                "properties": {
                    "kind": {"enum": SCOPE_KINDS},
                    "path": {"type": "string", "example": "acme/model/classifier"},
                },
            },
            "event": {"enum": Event.values},
            "alias_regex": {"type": "string"},
            "tag_regex": {"type": "string"},
            "webhook": {
                "type": "object",
                "properties": {
                    "team": {"type": "string"},
                    "name": {"type": "string"},
                    "kind": {"enum": WebhookKind.values},
                },
            },
            "payload": {"type": "string", "description": "The JSON template (webhooks only)."},
            "paused": {"type": "boolean"},
            "rate_limit_per_hour": {"type": "integer"},
            "cooldown_seconds": {"type": "integer"},
            "created_at": DATE_TIME,
            "last_execution": {
                "type": ["object", "null"],
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "status": {"enum": ExecutionStatus.values},
                    "created_at": DATE_TIME,
                },
            },
        },
    },
)

EXECUTION = Schema(
    "Execution",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "Sent as webhook-id."},
            "event": {"enum": Event.values},
            "actor": {"type": "string"},
            "target": {"type": "string", "example": "acme/model/classifier:v3"},
            "status": {"enum": ExecutionStatus.values},
            "attempts": {"type": "integer"},
            "response_status": {"type": ["integer", "null"]},
            "response_excerpt": {"type": "string"},
            "error": {"type": "string"},
            "created_at": DATE_TIME,
            "finished_at": {"type": ["string", "null"], "format": "date-time"},
            "replay_of": {"type": ["string", "null"], "format": "uuid"},
            "payload": {"type": "string", "description": "As sent, secrets by name."},
        },
    },
)

# What a body may set, by the type it must be; `webhook` and `scope` are paths, resolved here.
TEXT_FIELDS = {"name", "description", "event", "payload", "alias_regex", "tag_regex"}
NUMBER_FIELDS = {"rate_limit_per_hour", "cooldown_seconds"}
SETTINGS = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Unique in the organization."},
        "description": {"type": "string"},
        "event": {"enum": Event.values},
        "webhook": {"type": "string", "example": "ml/github", "description": "<team>/<name>"},
        "payload": {
            "type": "string",
            "description": "For a webhook: a JSON template with ${variables} "
            '(e.g. "${artifact_version_string}") and the webhook\'s secrets by name.',
        },
        "alias_regex": {"type": "string", "description": "For alias events; searched."},
        "tag_regex": {"type": "string", "description": "For tag events; searched."},
        "rate_limit_per_hour": {"type": "integer", "minimum": 1, "default": 60},
        "cooldown_seconds": {"type": "integer", "minimum": 0, "default": 0},
    },
}
CREATE_BODY = {
    **SETTINGS,
    "required": ["name", "event", "webhook", "scope"],
    "properties": {
        **SETTINGS["properties"],
        "scope": {
            "type": "string",
            "example": "acme/model",
            "description": "<org>, <org>/<registry> or <org>/<registry>/<collection>.",
        },
    },
    "additionalProperties": False,
}
CHANGE_BODY = {
    **SETTINGS,
    "properties": {**SETTINGS["properties"], "paused": {"type": "boolean"}},
    "additionalProperties": False,
}


def scope_json(automation: Automation) -> dict[str, str]:
    scope = scope_of(automation)
    if isinstance(scope, Collection):
        return {"kind": "collection", "path": collection_path(scope)}
    if isinstance(scope, Registry):
        return {"kind": "registry", "path": registry_path(scope)}
    return {"kind": "organization", "path": scope.slug}


def described(automations: QuerySet) -> QuerySet:
    """Automations with what their JSON shows, in one query: the scope's names, the webhook
    and its team, and the last execution's id, status and time."""
    last = Execution.objects.filter(automation=OuterRef("pk")).order_by("-created_at", "-id")
    return automations.select_related(
        "organization",
        "registry__organization",
        "collection__registry__organization",
        "webhook__team",
    ).annotate(
        last_uid=Subquery(last.values("uid")[:1]),
        last_status=Subquery(last.values("status")[:1]),
        last_created_at=Subquery(last.values("created_at")[:1]),
    )


def automation_json(automation: Automation) -> dict[str, Any]:
    """One automation, from `described()`."""
    webhook = automation.webhook
    last = None
    if automation.last_uid is not None:
        last = {
            "id": str(automation.last_uid),
            "status": automation.last_status,
            "created_at": automation.last_created_at.isoformat(),
        }
    return {
        "id": automation.pk,
        "name": automation.name,
        "description": automation.description,
        "scope": scope_json(automation),
        "event": automation.event,
        "alias_regex": automation.alias_regex,
        "tag_regex": automation.tag_regex,
        "webhook": {"team": webhook.team.slug, "name": webhook.name, "kind": webhook.kind},
        "payload": automation.payload,
        "paused": automation.paused,
        "rate_limit_per_hour": automation.rate_limit_per_hour,
        "cooldown_seconds": automation.cooldown_seconds,
        "created_at": automation.created_at.isoformat(),
        "last_execution": last,
    }


def fresh_json(automation: Automation) -> dict[str, Any]:
    """One automation, read afresh (after a change, say)."""
    return automation_json(described(Automation.objects.filter(pk=automation.pk)).get())


def execution_json(execution: Execution) -> dict[str, Any]:
    """One execution, with `replay_uid` annotated (`with_replayed()`)."""
    finished = execution.finished_at
    return {
        "id": str(execution.uid),
        "event": execution.event,
        "actor": execution.actor_name,
        "target": execution.target,
        "status": execution.status,
        "attempts": execution.attempts,
        "response_status": execution.response_status,
        "response_excerpt": execution.response_excerpt,
        "error": execution.error,
        "created_at": execution.created_at.isoformat(),
        "finished_at": finished.isoformat() if finished else None,
        "replay_of": str(execution.replay_uid) if execution.replay_uid else None,
        "payload": execution.payload,
    }


def with_replayed(executions: QuerySet) -> QuerySet:
    return executions.annotate(replay_uid=F("replay_of__uid"))


def _automation_for(user: Any, org: str, pk: int) -> Automation:
    """The automation, for one who may manage it; 404 alike for a missing one and for one
    whose registry the user may not see, 403 naming the role for one they may only see."""
    asked = f"{org}/automations/{pk}"
    found = (
        Automation.objects.select_related(
            "organization", "registry__organization", "collection__registry__organization"
        )
        .filter(organization__slug=org, pk=pk)
        .first()
    )
    if found is None:
        raise not_found(asked)
    visible(user, scope_of(found), asked, Action.MANAGE_AUTOMATIONS)
    return found


def _scope(user: Any, organization: Organization, path: Any) -> dict[str, Any]:
    """The `registry` and `collection` of create_automation, from a scope path; 404 alike for
    a registry or collection that is missing or hidden."""
    parts = path.split("/", 2) if isinstance(path, str) else []
    if not parts or not all(parts):
        raise ApiError(
            400,
            "invalid_scope",
            "'scope' must be written <org>, <org>/<registry> or <org>/<registry>/<collection>, "
            f"e.g. {organization.slug}/model.",
        )
    if parts[0] != organization.slug:
        raise ApiError(
            400,
            "invalid_scope",
            f"'scope' must be in organization {organization.slug}, the one in the address.",
        )
    if len(parts) == 3:
        return {"collection": collection_for(user, *parts)}
    if len(parts) == 2:
        return {"registry": registry_for(user, *parts)}
    return {}


def _webhook(user: Any, organization: Organization, path: Any) -> Webhook:
    """The webhook `<team>/<name>` of the organization, for a member of its team; 404 alike
    for a missing one and one of a team the user is not in."""
    team, _, name = path.partition("/") if isinstance(path, str) else ("", "", "")
    if not team or not name:
        raise ApiError(
            400,
            "invalid_webhook",
            "'webhook' must be written <team>/<webhook name>, e.g. ml/github.",
        )
    found = (
        Webhook.objects.select_related("team__organization", "access_token", "signing_secret")
        .filter(team__organization=organization, team__slug=team, name=name)
        .first()
    )
    asked = f"{organization.slug}/teams/{team}/webhooks/{name}"
    if found is None:
        raise not_found(asked)
    visible(user, found.team, asked, Action.USE_INTEGRATIONS)
    return found


def _settings(data: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """The body's fields, each checked to be of its type; 400 naming any that is not, or is
    not a field here."""
    if unknown := set(data) - allowed:
        raise ApiError(
            400,
            "invalid_field",
            f"Not a field here: {', '.join(sorted(unknown))}. Send {', '.join(sorted(allowed))}.",
        )
    for field, value in data.items():
        if field in TEXT_FIELDS and not isinstance(value, str):
            raise ApiError(400, f"invalid_{field}", f"'{field}' must be a string.")
        # JSON's true is Python's 1: a flag is no number.
        if field in NUMBER_FIELDS and (not isinstance(value, int) or isinstance(value, bool)):
            raise ApiError(400, f"invalid_{field}", f"'{field}' must be a whole number.")
        if field == "paused" and not isinstance(value, bool):
            raise ApiError(400, "invalid_paused", "'paused' must be true or false.")
    return data


@api_view(
    get=Operation(
        "List automations",
        "The organization's automations the caller may manage, by name; follow `next` for "
        "more. `registry` keeps those of a registry (its collections' included), `registry` "
        "and `collection` those of one collection; both need the member role there. `name` "
        "keeps the one of that name. "
        "Organization-wide automations are listed to the organization's admins.",
        parameters=(
            {"name": "registry", "in": "query", "schema": {"type": "string"}},
            {"name": "collection", "in": "query", "schema": {"type": "string"}},
            {"name": "name", "in": "query", "schema": {"type": "string"}},
            *PAGE_PARAMETERS,
        ),
        response={
            "type": "object",
            "properties": {"automations": {"type": "array", "items": AUTOMATION}, "next": NEXT},
        },
        errors=(400, 401, 403, 404),
    ),
    post=Operation(
        "Create an automation",
        "Watch `event` in `scope` and send to `webhook` (one of a team the caller is in). "
        "Needs the member role on the registry or collection; an organization-wide one, the "
        "organization's admin role. The payload, regexes and limits are checked now, so a "
        "bad one is refused here rather than failing at delivery.",
        body=json_content(CREATE_BODY),
        response=AUTOMATION,
        status=201,
        errors=(400, 401, 403, 404),
    ),
)
def automations(request: HttpRequest, org: str) -> JsonResponse:
    organization = organization_for(request.user, org)
    if request.method == "POST":
        return _create(request, organization)
    found = _listed(request, organization)
    if (name := request.GET.get("name")) is not None:  # how the client finds one by name
        found = found.filter(name=name)
    page = keyset_page(
        described(found),
        field="name",
        descending=False,
        cursor=request.GET.get("cursor"),
        size=page_size(request),
    )
    return JsonResponse(
        {"automations": [automation_json(a) for a in page.items], "next": page.next_cursor}
    )


def _listed(request: HttpRequest, organization: Organization) -> QuerySet:
    """The automations the caller may manage; those of the registry or collection asked for,
    403 if they may not manage it."""
    user = request.user
    registry, collection = request.GET.get("registry"), request.GET.get("collection")
    automations = organization.automations.all()
    if collection is not None:
        if not registry:
            raise ApiError(
                400,
                "invalid_collection",
                "Name the collection's registry too: ?registry=model&collection=classifier.",
            )
        target = collection_for(user, organization.slug, registry, collection)
        check(user, Action.MANAGE_AUTOMATIONS, target)
        return automations.filter(collection=target)
    if registry is not None:
        target = registry_for(user, organization.slug, registry)
        check(user, Action.MANAGE_AUTOMATIONS, target)
        return automations.filter(registry=target)
    if can(user, Action.MANAGE_AUTOMATIONS, organization):  # its admins manage every one
        return automations
    return automations.filter(
        registry__in=registries_allowing(user, organization, Action.MANAGE_AUTOMATIONS)
    )


def _create(request: HttpRequest, organization: Organization) -> JsonResponse:
    data = _settings(json_body(request), set(CREATE_BODY["properties"]))
    missing = [field for field in CREATE_BODY["required"] if field not in data]
    if missing:
        raise ApiError(400, "missing_field", f"Send {', '.join(missing)} too.")
    scope = _scope(request.user, organization, data.pop("scope"))
    # A role too low is said first; only then does the webhook's existence matter.
    where = scope.get("collection") or scope.get("registry") or organization
    check(request.user, Action.MANAGE_AUTOMATIONS, where)
    webhook = _webhook(request.user, organization, data.pop("webhook"))
    automation = services.create_automation(
        actor=request.user, organization=organization, webhook=webhook, **scope, **data
    )
    return JsonResponse(fresh_json(automation), status=201)


@api_view(
    get=Operation(
        "Get an automation",
        "One automation, with its payload template and its last execution.",
        response=AUTOMATION,
        errors=(401, 403, 404),
    ),
    patch=Operation(
        "Change an automation",
        "Any of its settings, and `paused` (a paused automation records nothing; resumed, it "
        "takes up events from then on). Its scope stays: create another for another scope.",
        body=json_content(CHANGE_BODY),
        response=AUTOMATION,
        errors=(400, 401, 403, 404),
    ),
    delete=Operation(
        "Delete an automation",
        "With its history of executions.",
        response={
            "type": "object",
            "properties": {"deleted": {"type": "string"}, "id": {"type": "integer"}},
        },
        errors=(401, 403, 404),
    ),
)
def automation(request: HttpRequest, org: str, automation: int) -> JsonResponse:
    found = _automation_for(request.user, org, automation)
    if request.method == "DELETE":
        services.delete_automation(actor=request.user, automation=found)
        return JsonResponse({"deleted": found.name, "id": automation})
    if request.method == "PATCH":
        _change(request, found)
    return JsonResponse(fresh_json(found))


def _change(request: HttpRequest, found: Automation) -> None:
    body = json_body(request)
    if "scope" in body:
        raise ApiError(
            400,
            "invalid_field",
            "An automation's scope does not change: create another automation there.",
        )
    changes = _settings(body, set(CHANGE_BODY["properties"]))
    paused = changes.pop("paused", None)
    if "webhook" in changes:
        changes["webhook"] = _webhook(request.user, found.organization, changes["webhook"])
    with transaction.atomic():  # all of the change or none of it
        if changes:
            services.update_automation(actor=request.user, automation=found, **changes)
        if paused is not None:
            services.set_paused(actor=request.user, automation=found, paused=paused)


@api_view(
    get=Operation(
        "List an automation's executions",
        "Newest first; follow `next` for more. `status` keeps those pending, delivered, "
        "failed or skipped (by the rate limit or the cooldown, saying which).",
        parameters=(
            {"name": "status", "in": "query", "schema": {"enum": ExecutionStatus.values}},
            *PAGE_PARAMETERS,
        ),
        response={
            "type": "object",
            "properties": {"executions": {"type": "array", "items": EXECUTION}, "next": NEXT},
        },
        errors=(400, 401, 403, 404),
    )
)
def executions(request: HttpRequest, org: str, automation: int) -> JsonResponse:
    found = _automation_for(request.user, org, automation)
    rows = found.executions.all()
    if (status := request.GET.get("status")) is not None:
        if status not in ExecutionStatus.values:
            raise ApiError(
                400,
                "invalid_status",
                f"'status' is one of {', '.join(ExecutionStatus.values)}, not {status!r}.",
            )
        rows = rows.filter(status=status)
    page = keyset_page(
        with_replayed(rows),
        field="created_at",
        descending=True,
        cursor=request.GET.get("cursor"),
        size=page_size(request),
    )
    return JsonResponse(
        {"executions": [execution_json(e) for e in page.items], "next": page.next_cursor}
    )


@api_view(
    post=Operation(
        "Replay an execution",
        "Send its payload again as a new execution, with a new id (the receiver is asked to "
        "act again, not told of a repeat), delivered by the worker. A skipped execution sent "
        "nothing, so there is nothing to replay (409).",
        response=EXECUTION,
        status=201,
        errors=(401, 403, 404, 409),
    )
)
def replay(request: HttpRequest, org: str, automation: int, uid: Any) -> JsonResponse:
    found = _automation_for(request.user, org, automation)
    execution = found.executions.filter(uid=uid).first()
    if execution is None:
        raise not_found(f"{org}/automations/{automation}/executions/{uid}")
    if execution.status == ExecutionStatus.SKIPPED:
        raise ApiError(
            409,
            "skipped",
            f"Execution {uid} sent nothing to replay. {execution.error}",
        )
    again = replay_execution(actor=request.user, execution=execution)
    again = with_replayed(Execution.objects).get(pk=again.pk)
    return JsonResponse(execution_json(again), status=201)
