from __future__ import annotations

import base64

import pytest
from django.db import transaction

from apps.automations.models import Execution, ExecutionStatus
from apps.registries.services import set_alias
from tests.factories import make_link, make_version

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
