from __future__ import annotations

import base64

import pytest
from django.db import connection, transaction

from apps.accounts.models import TeamRole
from apps.audit.models import AuditAction
from apps.automations import services
from apps.automations.delivery import replay, send_test
from apps.automations.models import (
    Event,
    Execution,
    ExecutionStatus,
    TeamSecret,
    Webhook,
    WebhookKind,
)
from apps.registries.services import add_collection_tags, set_alias
from tests.automations.conftest import PAYLOAD
from tests.factories import make_link, make_registry, make_version

SIGNING_KEY = base64.b64decode("c2VjcmV0LWtleS1ieXRlcw==")


@pytest.fixture
def link(project, member, models_registry):
    version = make_version(project, member, metadata={"arch": "resnet"})
    return make_link(version, models_registry, member, "classifier")


def test_a_matching_alias_is_delivered_signed_once_the_worker_runs(
    link, member, models_registry, make_automation, receiver, run_worker
):
    automation = make_automation(registry=models_registry, alias_regex="^production$")
    set_alias(actor=member, link=link, name="production")
    execution = Execution.objects.get()
    assert execution.status == ExecutionStatus.PENDING and receiver.requests == []

    run_worker()

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.DELIVERED and execution.response_status == 200
    [request] = receiver.requests
    assert request.json == {
        "event": "ADD_ARTIFACT_ALIAS",
        "version": "acme/model/classifier:v0",
        "alias": "production",
        "token": "tok-123",
        "arch": "resnet",
    }
    assert request.headers["authorization"] == "Bearer tok-123"
    assert request.headers["webhook-id"] == str(execution.uid)
    assert request.wandb_signature_valid("whsec_c2VjcmV0LWtleS1ieXRlcw==")
    assert request.standard_signature_valid(SIGNING_KEY)
    # The history keeps the payload with the secret by name, never its value.
    assert "tok-123" not in execution.payload and "${ACCESS_TOKEN}" in execution.payload
    assert automation.executions.get() == execution


def test_an_alias_the_regex_does_not_match_sets_nothing_off(
    link, member, models_registry, make_automation, receiver
):
    make_automation(registry=models_registry, alias_regex="^production$")
    set_alias(actor=member, link=link, name="staging")
    assert not Execution.objects.exists()


def test_a_change_rolled_back_leaves_no_execution_and_no_task(
    link, member, models_registry, make_automation, receiver, run_worker
):
    make_automation(registry=models_registry, alias_regex="^production$")
    with pytest.raises(RuntimeError), transaction.atomic():
        set_alias(actor=member, link=link, name="production")
        raise RuntimeError("the change fails after the alias is set")
    run_worker()
    assert not Execution.objects.exists() and receiver.requests == []


def test_failures_are_retried_under_the_same_id_until_delivered(
    link, member, models_registry, make_automation, receiver, run_worker
):
    make_automation(registry=models_registry)
    receiver.statuses = [500, 503]
    set_alias(actor=member, link=link, name="candidate")
    run_worker()
    execution = Execution.objects.get()
    assert execution.status == ExecutionStatus.DELIVERED and execution.attempts == 3
    assert receiver.ids() == [str(execution.uid)] * 3


def test_each_automation_whose_scope_holds_the_event_fires_once(
    organization, org_admin, team, member, project, models_registry, webhook, make_automation,
    receiver, run_worker,
):  # fmt: skip
    team.add_member(org_admin, TeamRole.ADMIN)
    services.create_automation(
        actor=org_admin, organization=organization, name="everywhere", event=Event.LINK,
        webhook=webhook, payload=PAYLOAD,
    )  # fmt: skip
    make_automation(name="in the registry", event=Event.LINK, registry=models_registry)
    # A registry's automation watches collections made after it.
    link = make_link(make_version(project, member), models_registry, member, "detector")
    make_automation(name="in the collection", event=Event.LINK, collection=link.collection)
    make_automation(
        name="elsewhere", event=Event.LINK, registry=make_registry(organization, member)
    )

    make_link(make_version(project, member), models_registry, member, "detector")
    run_worker()

    fired = Execution.objects.filter(audit_event__action=AuditAction.LINK)
    assert sorted(fired.values_list("automation__name", flat=True)) == [
        "everywhere", "everywhere", "in the collection", "in the registry", "in the registry",
    ]  # fmt: skip
    assert len(receiver.requests) == 5 and len(set(receiver.ids())) == 5


def test_a_paused_automation_records_nothing(
    link, member, models_registry, make_automation, receiver
):
    automation = make_automation(registry=models_registry)
    services.set_paused(actor=member, automation=automation, paused=True)
    set_alias(actor=member, link=link, name="candidate")
    assert not Execution.objects.exists()


def test_a_refusal_fails_at_once_and_says_so(
    link, member, models_registry, make_automation, receiver, run_worker
):
    make_automation(registry=models_registry)
    receiver.statuses, receiver.body = [400], b"bad payload"
    set_alias(actor=member, link=link, name="candidate")
    run_worker()
    execution = Execution.objects.get()
    assert (execution.status, execution.attempts, execution.response_status) == (
        ExecutionStatus.FAILED, 1, 400,
    )  # fmt: skip
    assert execution.response_excerpt == "bad payload" and "refused" in execution.error


def test_a_slow_endpoint_times_out_until_the_attempts_run_out(
    link, member, models_registry, make_automation, receiver, run_worker, settings
):
    settings.AUTOMATIONS_TIMEOUT_SECONDS = 0.2
    receiver.delay = 0.5
    make_automation(registry=models_registry)
    set_alias(actor=member, link=link, name="candidate")
    run_worker()
    execution = Execution.objects.get()
    assert execution.status == ExecutionStatus.FAILED
    assert execution.attempts == settings.AUTOMATIONS_MAX_ATTEMPTS == len(receiver.requests)
    assert "timed out" in execution.error and "No more attempts" in execution.error


def test_the_address_is_checked_again_when_delivering(
    link, member, models_registry, make_automation, receiver, run_worker, settings
):
    make_automation(registry=models_registry)
    set_alias(actor=member, link=link, name="candidate")
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = False
    run_worker()
    execution = Execution.objects.get()
    assert execution.status == ExecutionStatus.FAILED and "loopback" in execution.error
    assert receiver.requests == []


def test_the_rate_limit_and_the_cooldown_skip_executions_and_say_why(
    link, member, models_registry, make_automation, receiver
):
    limited = make_automation(registry=models_registry, rate_limit_per_hour=2)
    cooling = make_automation(registry=models_registry, cooldown_seconds=3600)
    for name in ("a", "b", "c"):
        set_alias(actor=member, link=link, name=name)
    statuses = list(limited.executions.order_by("id").values_list("status", flat=True))
    assert statuses == [ExecutionStatus.PENDING, ExecutionStatus.PENDING, ExecutionStatus.SKIPPED]
    assert "rate limit of 2" in limited.executions.get(status=ExecutionStatus.SKIPPED).error
    assert cooling.executions.filter(status=ExecutionStatus.SKIPPED).count() == 2
    assert "cooldown" in cooling.executions.filter(status=ExecutionStatus.SKIPPED).first().error


def test_a_replay_sends_the_payload_again_under_a_new_id(
    link, member, models_registry, make_automation, receiver, run_worker
):
    make_automation(registry=models_registry)
    set_alias(actor=member, link=link, name="candidate")
    run_worker()
    first = Execution.objects.get()
    again = replay(actor=member, execution=first)
    run_worker()
    again.refresh_from_db()
    assert again.replay_of == first and again.status == ExecutionStatus.DELIVERED
    assert receiver.requests[0].body == receiver.requests[1].body
    assert receiver.ids() == [str(first.uid), str(again.uid)]


def test_the_test_button_sends_a_sample_and_answers_what_came_back(webhook, team_admin, receiver):
    receiver.body = b"received"
    answer = send_test(actor=team_admin, webhook=webhook)
    assert (answer.status, answer.body) == (200, "received")
    [request] = receiver.requests
    assert request.json["client_payload"]["alias"] == "production"
    assert request.standard_signature_valid(SIGNING_KEY)


def test_tag_and_logging_events(
    organization, org_admin, team, member, project, models_registry, webhook, make_automation,
    receiver,
):  # fmt: skip
    link = make_link(make_version(project, member), models_registry, member, "classifier")
    tagged = make_automation(
        event=Event.COLLECTION_TAG_ADD, registry=models_registry, tag_regex="^eu"
    )
    add_collection_tags(actor=member, collection=link.collection, tags=["us-east", "eu-west"])
    assert [e.target for e in tagged.executions.all()] == ["acme/model/classifier"]
    assert '"alias": ""' in tagged.executions.get().payload

    team.add_member(org_admin, TeamRole.ADMIN)
    logged = services.create_automation(
        actor=org_admin, organization=organization, name="new versions",
        event=Event.VERSION_CREATE, webhook=webhook, payload=PAYLOAD,
    )  # fmt: skip
    version = make_version(project, member)
    assert logged.executions.get().target == str(version)


def test_a_slack_message_says_what_who_and_where(
    team, team_admin, link, member, models_registry, organization, receiver, run_worker
):
    slack = services.create_webhook(
        actor=team_admin, team=team, name="#models", url=receiver.url, kind=WebhookKind.SLACK
    )
    services.create_automation(
        actor=member, organization=organization, registry=models_registry, name="to slack",
        event=Event.ALIAS_ADD, webhook=slack,
    )  # fmt: skip
    set_alias(actor=member, link=link, name="production")
    run_worker()
    text = receiver.requests[0].json["text"]
    assert "to slack" in text and "acme/model/classifier:v0 (production) by maria" in text
    assert "/orgs/acme/registry/model/classifier/" in text
    assert Execution.objects.get().status == ExecutionStatus.DELIVERED


def test_secrets_and_urls_are_encrypted_at_rest(webhook):
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM automations_teamsecret WHERE name = 'CI_TOKEN'")
        [(stored,)] = cursor.fetchall()
        cursor.execute("SELECT url FROM automations_webhook")
        [(stored_url,)] = cursor.fetchall()
    assert "tok-123" not in stored and TeamSecret.objects.get(name="CI_TOKEN").value == "tok-123"
    assert "127.0.0.1" not in stored_url and Webhook.objects.get().url == webhook.url
