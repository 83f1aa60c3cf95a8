"""Bad input is refused when saved, with a message that says what is wrong and how to fix it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.accounts.models import OrganizationRole, TeamRole
from apps.audit.models import AuditAction, AuditEvent
from apps.automations import services
from apps.automations.models import Automation, Event, TeamSecret, Webhook
from tests.factories import make_member


@pytest.mark.parametrize(
    ("changes", "code", "says"),
    [
        ({"alias_regex": "^(prod"}, "invalid_regex", "does not compile: missing ), unterminated"),
        ({"payload": '{"v": "${artifact_versoin}"}'}, "unknown_variable", "${artifact_versoin}"),
        ({"payload": '{"alias": ${alias}}'}, "invalid_json", "inside a string"),
        ({"payload": ""}, "required", "payload is required"),
        ({"event": Event.LINK, "alias_regex": "x"}, "regex_not_applicable", "alias events only"),
        ({"tag_regex": "x"}, "regex_not_applicable", "tag events only"),
        ({"event": "SOMETHING"}, "invalid_event", "LINK_ARTIFACT"),
        ({"rate_limit_per_hour": 0}, "invalid_rate_limit", "pause the automation instead"),
        ({"name": " "}, "required", "name is required"),
    ],
)
def test_a_bad_automation_is_refused_and_nothing_is_saved(
    make_automation, models_registry, changes, code, says
):
    with pytest.raises(ValidationError) as caught:
        make_automation(registry=models_registry, **changes)
    assert caught.value.code == code and says in caught.value.messages[0]
    assert not Automation.objects.exists()


def test_a_secret_of_the_webhook_may_be_named_in_the_payload(make_automation, models_registry):
    make_automation(registry=models_registry, payload='{"t": "${CI_TOKEN}", "s": "${SIGNING}"}')


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://ci.example/hook", "invalid_url"),
        ("not a url", "invalid_url"),
        ("https://user:pass@ci.example/hook", "credentials_in_url"),
        ("http://127.0.0.1:9/hook", "private_address"),
        ("http://10.1.2.3/hook", "private_address"),
        ("http://169.254.169.254/latest/meta-data", "private_address"),
        ("http://[::1]/hook", "private_address"),
    ],
)
def test_a_bad_or_private_endpoint_is_refused(team, team_admin, url, code):
    with pytest.raises(ValidationError) as caught:
        services.create_webhook(actor=team_admin, team=team, name="ci", url=url)
    assert caught.value.code == code
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("name", ["lower", "1ST", "ACCESS_TOKEN", "WITH-DASH", ""])
def test_a_secret_name_must_be_usable_in_a_payload(team, team_admin, name):
    with pytest.raises(ValidationError, match="cannot name a secret"):
        services.create_secret(actor=team_admin, team=team, name=name, value="v")
    assert not TeamSecret.objects.exists()


def test_what_is_in_use_cannot_be_deleted(webhook, team_admin, make_automation, models_registry):
    make_automation(registry=models_registry, name="deploy")
    with pytest.raises(ValidationError, match="used by automation deploy"):
        services.delete_webhook(actor=team_admin, webhook=webhook)
    with pytest.raises(ValidationError, match="used by webhook ci"):
        services.delete_secret(actor=team_admin, secret=webhook.access_token)


def test_team_admins_configure_webhooks_and_members_use_them(
    team, webhook, organization, models_registry
):
    tom = make_member(organization, "tom")
    team.add_member(tom, TeamRole.MEMBER)
    with pytest.raises(PermissionDenied, match="need the admin role in the team; you are a member"):
        services.create_secret(actor=tom, team=team, name="OTHER", value="v")
    services.create_automation(
        actor=tom, organization=organization, name="mine", event=Event.LINK,
        webhook=webhook, registry=models_registry, payload="{}",
    )  # fmt: skip
    stranger = make_member(organization, "sam")
    with pytest.raises(Http404):
        services.create_automation(
            actor=stranger, organization=organization, name="x", event=Event.LINK,
            webhook=webhook, registry=organization.registries.get(slug="model"),
            payload="{}",
        )  # fmt: skip


def test_organization_wide_automations_are_for_its_admins(organization, member, webhook):
    with pytest.raises(PermissionDenied, match="Organization-wide automations"):
        services.create_automation(
            actor=member, organization=organization, name="x", event=Event.LINK,
            webhook=webhook, payload="{}",
        )  # fmt: skip


def test_a_registry_viewer_may_not_make_automations(organization, webhook, models_registry):
    viewer = make_member(organization, "vera", OrganizationRole.VIEWER)
    with pytest.raises(PermissionDenied, match="Managing automations here needs the member role"):
        services.create_automation(
            actor=viewer, organization=organization, name="x", event=Event.LINK,
            webhook=webhook, registry=models_registry, payload="{}",
        )  # fmt: skip


def test_every_change_is_audited_without_its_secret(
    team, team_admin, make_automation, models_registry
):
    automation = make_automation(registry=models_registry, name="deploy")
    services.update_automation(actor=team_admin, automation=automation, alias_regex="^prod$")
    services.set_paused(actor=team_admin, automation=automation, paused=True)
    services.delete_automation(actor=team_admin, automation=automation)
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-5:] == [
        AuditAction.WEBHOOK_CREATE,
        AuditAction.AUTOMATION_CREATE,
        AuditAction.AUTOMATION_UPDATE,
        AuditAction.AUTOMATION_UPDATE,
        AuditAction.AUTOMATION_DELETE,
    ]
    assert AuditEvent.objects.filter(action=AuditAction.SECRET_SET).count() == 2
    assert not AuditEvent.objects.filter(data__icontains="tok-123").exists()
