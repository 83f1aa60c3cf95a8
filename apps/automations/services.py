"""Every change to automations, webhooks and team secrets: checked by the policy, validated so
that bad input fails here and never at delivery, written with its audit event."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q

from apps.accounts.models import Organization, Team
from apps.accounts.policy import Action, check
from apps.audit.models import AuditAction, AuditEvent
from apps.automations.addresses import check_url
from apps.automations.models import (
    ALIAS_EVENTS,
    TAG_EVENTS,
    Automation,
    Event,
    TeamSecret,
    Webhook,
    WebhookKind,
)
from apps.automations.payloads import validate_payload
from apps.registries.models import Collection, Registry
from apps.registries.paths import collection_path, registry_path

SECRET_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
RESERVED_SECRET_NAMES = {"ACCESS_TOKEN"}  # the webhook's access token, whatever its own name
MAX_SECRET_BYTES = 8192


def _audit_team(action: AuditAction, *, actor: Any, team: Team, what: str, **data: Any) -> None:
    AuditEvent.record(
        action,
        organization=team.organization,
        actor=actor,
        target=f"{team.organization.slug}/teams/{team.slug}/{what}",
        **data,
    )


def _required(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError(f"{what} is required.", code="required")
    return value


# Team secrets -----------------------------------------------------------------------------


def _validate_secret(name: str, value: str) -> None:
    if not SECRET_NAME.fullmatch(name) or name in RESERVED_SECRET_NAMES:
        raise ValidationError(
            f"{name!r} cannot name a secret: use capitals, digits and underscores, starting "
            "with a capital (e.g. GITHUB_TOKEN), and not ACCESS_TOKEN, which payloads use for "
            "the webhook's access token.",
            code="invalid_secret_name",
        )
    if not value:
        raise ValidationError("A secret needs a value.", code="required")
    if len(value.encode()) > MAX_SECRET_BYTES or "\x00" in value:
        raise ValidationError(
            f"A secret is at most {MAX_SECRET_BYTES} bytes of text.", code="invalid_secret"
        )


@transaction.atomic
def create_secret(*, actor: Any, team: Team, name: str, value: str) -> TeamSecret:
    check(actor, Action.MANAGE_INTEGRATIONS, team)
    name = name.strip()
    _validate_secret(name, value)
    if team.secrets.filter(name=name).exists():
        raise ValidationError(
            f"Team {team.name} has a secret {name} already; change its value instead.",
            code="duplicate",
        )
    secret = TeamSecret.objects.create(team=team, name=name, value=value, created_by=actor)
    _audit_team(AuditAction.SECRET_SET, actor=actor, team=team, what=f"secrets/{name}")
    return secret


@transaction.atomic
def update_secret(*, actor: Any, secret: TeamSecret, value: str) -> TeamSecret:
    check(actor, Action.MANAGE_INTEGRATIONS, secret.team)
    _validate_secret(secret.name, value)
    secret.value = value
    secret.save(update_fields=["value", "updated_at"])
    _audit_team(
        AuditAction.SECRET_SET, actor=actor, team=secret.team, what=f"secrets/{secret.name}"
    )
    return secret


@transaction.atomic
def delete_secret(*, actor: Any, secret: TeamSecret) -> None:
    check(actor, Action.MANAGE_INTEGRATIONS, secret.team)
    using = Webhook.objects.filter(Q(access_token=secret) | Q(signing_secret=secret))
    if users := list(using.values_list("name", flat=True)):
        raise ValidationError(
            f"Secret {secret.name} is used by webhook {', '.join(users)}: change "
            "or delete those first.",
            code="in_use",
        )
    secret.delete()
    _audit_team(
        AuditAction.SECRET_REMOVE, actor=actor, team=secret.team, what=f"secrets/{secret.name}"
    )


# Webhooks ---------------------------------------------------------------------------------


def _validate_webhook(webhook: Webhook) -> None:
    webhook.name = _required(webhook.name, "A webhook's name")
    if webhook.kind not in WebhookKind.values:
        raise ValidationError(
            f"{webhook.kind!r} is not a kind of webhook: use webhook or slack.", code="invalid_kind"
        )
    check_url(webhook.url)
    for secret in (webhook.access_token, webhook.signing_secret):
        if secret is not None and secret.team_id != webhook.team_id:
            raise ValidationError(
                f"Secret {secret.name} belongs to another team; use one of team "
                f"{webhook.team.name}.",
                code="foreign_secret",
            )
    if webhook.kind == WebhookKind.SLACK and (webhook.access_token or webhook.signing_secret):
        raise ValidationError(
            "A Slack incoming webhook takes no access token or signing secret: its URL is "
            "its credential.",
            code="slack_secret",
        )


@transaction.atomic
def create_webhook(
    *,
    actor: Any,
    team: Team,
    name: str,
    url: str,
    kind: str = WebhookKind.WEBHOOK,
    access_token: TeamSecret | None = None,
    signing_secret: TeamSecret | None = None,
) -> Webhook:
    check(actor, Action.MANAGE_INTEGRATIONS, team)
    webhook = Webhook(
        team=team,
        name=name,
        kind=kind,
        url=url.strip(),
        access_token=access_token,
        signing_secret=signing_secret,
        created_by=actor,
    )
    _validate_webhook(webhook)
    if team.webhooks.filter(name=webhook.name).exists():
        raise ValidationError(
            f"Team {team.name} has a webhook named {webhook.name} already.", code="duplicate"
        )
    webhook.save()
    _audit_team(AuditAction.WEBHOOK_CREATE, actor=actor, team=team, what=f"webhooks/{webhook.name}")
    return webhook


@transaction.atomic
def update_webhook(*, actor: Any, webhook: Webhook, **changes: Any) -> Webhook:
    """Change a webhook's name, url, access token or signing secret (kind stays)."""
    check(actor, Action.MANAGE_INTEGRATIONS, webhook.team)
    allowed = {"name", "url", "access_token", "signing_secret"}
    if unknown := set(changes) - allowed:
        raise TypeError(f"A webhook has no field {', '.join(sorted(unknown))} to change.")
    for field, value in changes.items():
        setattr(webhook, field, value.strip() if isinstance(value, str) else value)
    _validate_webhook(webhook)
    if webhook.team.webhooks.exclude(pk=webhook.pk).filter(name=webhook.name).exists():
        raise ValidationError(
            f"Team {webhook.team.name} has a webhook named {webhook.name} already.",
            code="duplicate",
        )
    for automation in webhook.automations.all():
        validate_payload(automation.payload, secret_names(webhook))
    webhook.save()
    _audit_team(
        AuditAction.WEBHOOK_UPDATE,
        actor=actor,
        team=webhook.team,
        what=f"webhooks/{webhook.name}",
        fields=sorted(changes),
    )
    return webhook


@transaction.atomic
def delete_webhook(*, actor: Any, webhook: Webhook) -> None:
    check(actor, Action.MANAGE_INTEGRATIONS, webhook.team)
    if names := list(webhook.automations.values_list("name", flat=True)):
        raise ValidationError(
            f"Webhook {webhook.name} is used by automation {', '.join(names)}: delete those or "
            "point them elsewhere first.",
            code="in_use",
        )
    webhook.delete()
    _audit_team(
        AuditAction.WEBHOOK_DELETE, actor=actor, team=webhook.team, what=f"webhooks/{webhook.name}"
    )


def secret_names(webhook: Webhook) -> set[str]:
    """The ${NAMES} a payload sent to this webhook may use for its secrets."""
    names = set()
    if webhook.access_token is not None:
        names |= {"ACCESS_TOKEN", webhook.access_token.name}
    if webhook.signing_secret is not None:
        names.add(webhook.signing_secret.name)
    return names


# Automations ------------------------------------------------------------------------------


def scope_of(automation: Automation) -> Organization | Registry | Collection:
    """What the policy judges an automation by: its collection, registry or organization."""
    return automation.collection or automation.registry or automation.organization


def automation_path(automation: Automation) -> str:
    scope = scope_of(automation)
    if isinstance(scope, Collection):
        where = collection_path(scope)
    elif isinstance(scope, Registry):
        where = registry_path(scope)
    else:
        where = scope.slug
    return f"{where}/automations/{automation.name}"


def _validate_regex(pattern: str, what: str) -> None:
    try:
        re.compile(pattern)
    except re.error as error:
        raise ValidationError(
            f"The {what} regex {pattern!r} does not compile: {error.msg} at position {error.pos}.",
            code="invalid_regex",
        ) from None


def _validate_automation(automation: Automation, actor: Any) -> None:
    automation.name = _required(automation.name, "An automation's name")
    if automation.event not in Event.values:
        raise ValidationError(
            f"{automation.event!r} is not an event; choose one of {', '.join(Event.values)}.",
            code="invalid_event",
        )
    if automation.alias_regex and automation.event not in ALIAS_EVENTS:
        raise ValidationError(
            "An alias regex applies to alias events only.", code="regex_not_applicable"
        )
    if automation.tag_regex and automation.event not in TAG_EVENTS:
        raise ValidationError(
            "A tag regex applies to tag events only.", code="regex_not_applicable"
        )
    _validate_regex(automation.alias_regex, "alias")
    _validate_regex(automation.tag_regex, "tag")
    webhook = automation.webhook
    if webhook.team.organization_id != automation.organization_id:
        raise ValidationError(
            "The webhook belongs to another organization.", code="foreign_webhook"
        )
    # Sending to a team's webhook is for that team's members (its admins configured it).
    check(actor, Action.USE_INTEGRATIONS, webhook.team)
    if webhook.kind == WebhookKind.WEBHOOK:
        automation.payload = _required(automation.payload, "A webhook automation's payload")
        validate_payload(automation.payload, secret_names(webhook))
    else:
        automation.payload = ""
    if automation.collection_id and automation.collection.registry_id != automation.registry_id:
        raise ValidationError("The collection is in another registry.", code="wrong_registry")
    if automation.rate_limit_per_hour < 1:
        raise ValidationError(
            "The rate limit is at least one execution an hour; pause the automation instead.",
            code="invalid_rate_limit",
        )
    _validate_sizes(automation)


# What the columns hold, PostgreSQL's integer included: past it, a save would fail, not refuse.
MAX_SETTING = 2**31 - 1


def _validate_sizes(automation: Automation) -> None:
    for field in ("name", "alias_regex", "tag_regex"):
        limit = Automation._meta.get_field(field).max_length
        if len(getattr(automation, field)) > limit:
            raise ValidationError(
                f"An automation's {field.replace('_', ' ')} is at most {limit} characters.",
                code="too_long",
            )
    if automation.cooldown_seconds < 0:
        raise ValidationError("The cooldown is 0 seconds or more.", code="out_of_range")
    for field in ("rate_limit_per_hour", "cooldown_seconds"):
        if getattr(automation, field) > MAX_SETTING:
            raise ValidationError(
                f"An automation's {field.replace('_', ' ')} is at most {MAX_SETTING}.",
                code="out_of_range",
            )


@transaction.atomic
def create_automation(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    event: str,
    webhook: Webhook,
    registry: Registry | None = None,
    collection: Collection | None = None,
    payload: str = "",
    alias_regex: str = "",
    tag_regex: str = "",
    description: str = "",
    rate_limit_per_hour: int = 60,
    cooldown_seconds: int = 0,
) -> Automation:
    """An automation at organization scope, or on a registry (with its future collections),
    or on one collection."""
    if collection is not None:
        registry = collection.registry
    automation = Automation(
        organization=organization,
        registry=registry,
        collection=collection,
        name=name,
        description=description,
        event=event,
        webhook=webhook,
        payload=payload,
        alias_regex=alias_regex,
        tag_regex=tag_regex,
        rate_limit_per_hour=rate_limit_per_hour,
        cooldown_seconds=cooldown_seconds,
        created_by=actor,
    )
    check(actor, Action.MANAGE_AUTOMATIONS, scope_of(automation))
    _validate_automation(automation, actor)
    if organization.automations.filter(name=automation.name).exists():
        raise ValidationError(
            f"Organization {organization.name} has an automation named {automation.name} already.",
            code="duplicate",
        )
    try:
        with transaction.atomic():
            automation.save()
    except IntegrityError:
        raise ValidationError(
            f"An automation named {automation.name} was just made; choose another name.",
            code="duplicate",
        ) from None
    _audit_automation(AuditAction.AUTOMATION_CREATE, actor, automation, event=automation.event)
    return automation


EDITABLE = {
    "name",
    "description",
    "event",
    "webhook",
    "payload",
    "alias_regex",
    "tag_regex",
    "rate_limit_per_hour",
    "cooldown_seconds",
}


@transaction.atomic
def update_automation(*, actor: Any, automation: Automation, **changes: Any) -> Automation:
    """Change what an automation watches or sends; its scope stays."""
    check(actor, Action.MANAGE_AUTOMATIONS, scope_of(automation))
    if unknown := set(changes) - EDITABLE:
        raise TypeError(f"An automation has no field {', '.join(sorted(unknown))} to change.")
    for field, value in changes.items():
        setattr(automation, field, value)
    _validate_automation(automation, actor)
    same_name = automation.organization.automations.filter(name=automation.name)
    if same_name.exclude(pk=automation.pk).exists():
        raise ValidationError(
            f"Organization {automation.organization.name} has an automation named "
            f"{automation.name} already.",
            code="duplicate",
        )
    automation.save()
    _audit_automation(AuditAction.AUTOMATION_UPDATE, actor, automation, fields=sorted(changes))
    return automation


@transaction.atomic
def set_paused(*, actor: Any, automation: Automation, paused: bool) -> Automation:
    """A paused automation records nothing for the events it would match; resumed, it takes up
    events from then on."""
    check(actor, Action.MANAGE_AUTOMATIONS, scope_of(automation))
    if automation.paused != paused:
        automation.paused = paused
        automation.save(update_fields=["paused", "updated_at"])
        _audit_automation(
            AuditAction.AUTOMATION_UPDATE,
            actor,
            automation,
            field="paused" if paused else "resumed",
        )
    return automation


@transaction.atomic
def delete_automation(*, actor: Any, automation: Automation) -> None:
    check(actor, Action.MANAGE_AUTOMATIONS, scope_of(automation))
    _audit_automation(AuditAction.AUTOMATION_DELETE, actor, automation)
    automation.delete()


def _audit_automation(action: AuditAction, actor: Any, automation: Automation, **data: Any) -> None:
    AuditEvent.record(
        action,
        organization=automation.organization,
        actor=actor,
        target=automation_path(automation),
        registry=automation.registry,
        collection=automation.collection,
        **data,
    )
