"""The demo's automation: seeded once beside its webhook to the demo receiver, and, with the
worker running, a production move arrives there signed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from apps.accounts.models import User
from apps.audit.models import AuditAction, AuditEvent
from apps.automations.models import Automation, Event, Execution, ExecutionStatus, Webhook
from apps.automations.payloads import GITHUB_DISPATCH_EXAMPLE
from apps.demo.models import ReceivedDelivery
from apps.registries.models import Link
from apps.registries.services import set_alias


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def loopback_allowed(settings):
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True


def test_seeding_twice_makes_one_automation_sending_to_the_demo_receiver(db, loopback_allowed):
    output = seed()
    assert "Move `production`" in output and "http://127.0.0.1:8000/demo/webhooks/" in output
    counts = {model: model.objects.count() for model in apps.get_models()}
    assert "nothing to do" in seed()
    assert {model: model.objects.count() for model in apps.get_models()} == counts

    automation = Automation.objects.select_related("webhook__signing_secret").get()
    assert (automation.name, automation.event, automation.alias_regex) == (
        "Deploy on production",
        Event.ALIAS_ADD,
        "^production$",
    )
    assert automation.registry.slug == "model" and automation.collection is None
    assert automation.payload == GITHUB_DISPATCH_EXAMPLE
    webhook = automation.webhook
    assert webhook.team.slug == "vision"
    assert webhook.url == "http://127.0.0.1:8000/demo/webhooks/deploy/"
    assert webhook.signing_secret.name == "DEMO_SIGNING_SECRET"
    assert webhook.signing_secret.value.startswith("whsec_")
    # The demo's own history of production moves came before it: nothing was sent.
    assert not Execution.objects.exists()


def test_without_loopback_allowed_it_says_why_and_a_later_run_adds_it(db, settings):
    output = seed()
    assert "AUTOMATIONS_ALLOW_PRIVATE_TARGETS=true" in output
    assert not Webhook.objects.exists() and not Automation.objects.exists()

    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    assert "Added the automation 'Deploy on production'" in seed()
    assert Automation.objects.count() == 1
    assert "nothing to do" in seed()


def test_a_new_site_url_repoints_the_demo_webhook_only(db, loopback_allowed, settings):
    seed()
    settings.SITE_URL = "http://127.0.0.1:8011"
    assert "Pointed the webhook 'Demo receiver' at http://127.0.0.1:8011/" in seed()
    webhook = Webhook.objects.get()
    assert webhook.url == "http://127.0.0.1:8011/demo/webhooks/deploy/"
    assert AuditEvent.objects.filter(action=AuditAction.WEBHOOK_UPDATE).count() == 1

    # Sent elsewhere on purpose, it stays there.
    Webhook.objects.filter(pk=webhook.pk).update(url="http://127.0.0.1:9999/hooks/ci")
    settings.SITE_URL = "http://127.0.0.1:8012"
    assert "nothing to do" in seed()
    assert Webhook.objects.get().url == "http://127.0.0.1:9999/hooks/ci"


def test_moving_production_reaches_the_demo_receiver_signed(
    live_server, settings, loopback_allowed, run_worker
):
    settings.SITE_URL = live_server.url
    seed()
    admin = User.objects.get(username="admin")
    link = Link.objects.get(collection__name="resnet-classifier", number=4)
    set_alias(actor=admin, link=link, name="production")
    execution = Execution.objects.get()

    run_worker()

    execution.refresh_from_db()
    assert execution.status == ExecutionStatus.DELIVERED, execution.error
    delivery = ReceivedDelivery.objects.get()
    assert delivery.verified and delivery.webhook_id == str(execution.uid)
    assert delivery.event_type == "ADD_ARTIFACT_ALIAS"
    assert delivery.body["client_payload"] == {
        "version": "acme/model/resnet-classifier:v4",
        "alias": "production",
        "author": "admin",
        "url": f"{live_server.url}/orgs/acme/registry/model/resnet-classifier/",
    }
