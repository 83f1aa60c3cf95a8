from __future__ import annotations

from collections.abc import Iterator

import pytest

from apps.accounts.models import TeamRole, User
from apps.automations import services
from apps.automations.models import Automation, Event, Webhook
from tests.automations.receiver import Receiver, start_receiver


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.AUTOMATIONS_ALLOW_PRIVATE_TARGETS = True
    settings.AUTOMATIONS_TIMEOUT_SECONDS = 1
    # Retries at once, so the worker's batch run takes every attempt.
    settings.TASKS = {
        "default": {
            **settings.TASKS["default"],
            "OPTIONS": {**settings.TASKS["default"]["OPTIONS"], "RETRY_DELAY_SECONDS": 0},
        }
    }
    found = start_receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def team_admin(team, member):
    """`member` (maria) as the admin of team ml, who configures its webhooks."""
    team.add_member(member, TeamRole.ADMIN)
    return User.objects.get(pk=member.pk)  # the policy remembers roles per user object


@pytest.fixture
def webhook(team, team_admin, receiver) -> Webhook:
    token = services.create_secret(actor=team_admin, team=team, name="CI_TOKEN", value="tok-123")
    signing = services.create_secret(
        actor=team_admin, team=team, name="SIGNING", value="whsec_c2VjcmV0LWtleS1ieXRlcw=="
    )
    return services.create_webhook(
        actor=team_admin,
        team=team,
        name="ci",
        url=receiver.url,
        access_token=token,
        signing_secret=signing,
    )


PAYLOAD = """{"event": "${event_type}", "version": "${artifact_version_string}",
"alias": "${alias}", "token": "${ACCESS_TOKEN}", "arch": "${artifact_metadata.arch}"}"""


@pytest.fixture
def make_automation(organization, member, webhook):
    def make(**kwargs) -> Automation:
        kwargs.setdefault("name", f"automation {Automation.objects.count()}")
        kwargs.setdefault("event", Event.ALIAS_ADD)
        kwargs.setdefault("payload", PAYLOAD)
        return services.create_automation(
            actor=member, organization=organization, webhook=webhook, **kwargs
        )

    return make
