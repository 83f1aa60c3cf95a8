"""The automations pages: who sees each, the forms that change things (and what they refuse, in
place), the Test button against a real receiver, the history with its filters and replays."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import OrganizationRole, TeamRole, User
from apps.audit.models import AuditAction, AuditEvent
from apps.automations import services
from apps.automations.models import (
    Automation,
    Event,
    Execution,
    ExecutionStatus,
    TeamSecret,
    Webhook,
    WebhookKind,
)
from apps.registries.services import set_alias
from tests.factories import grant, make_link, make_member, make_registry, make_version
from tests.test_hidden_equals_missing import assert_alike

ORG = "/orgs/acme/automations/"
TEAM = f"{ORG}teams/ml/"
REGISTRY_TAB = f"{ORG}registry/model/"
COLLECTION_TAB = f"{ORG}registry/model/classifier/"
SECRET_VALUES = ["tok-123", "whsec_c2VjcmV0LWtleS1ieXRlcw=="]


def html(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page's text as a person reads it: tags dropped, entities decoded, spaces squeezed."""
    import html as entities

    return " ".join(entities.unescape(re.sub(r"<[^>]+>", " ", html(response))).split())


def assert_unique_ids(response) -> None:
    ids = re.findall(r' id="([^"]+)"', html(response))
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def assert_no_secret(response) -> None:
    for value in SECRET_VALUES:
        assert value not in html(response)


def detail(automation: Automation) -> str:
    return f"{ORG}{automation.pk}/"


@pytest.fixture
def team_member(organization, team) -> User:
    """A plain member of team ml: may send to its webhooks, not configure them."""
    user = make_member(organization, "tess")
    team.add_member(user, TeamRole.MEMBER)
    return user


@pytest.fixture
def link(project, member, models_registry):
    version = make_version(project, member, metadata={"arch": "resnet"})
    return make_link(version, models_registry, member, "classifier")


@pytest.fixture
def collection(link):
    return link.collection


def form_data(webhook: Webhook, **changes) -> dict:
    data = {
        "event": Event.ALIAS_ADD,
        "alias_regex": "^production$",
        "tag_regex": "",
        "webhook": webhook.pk,
        "payload": '{"alias": "${alias}", "token": "${ACCESS_TOKEN}"}',
        "name": "deploy",
        "description": "Deploy what reaches production.",
        "rate_limit_per_hour": 60,
        "cooldown_seconds": 0,
    }
    return data | changes


# The team's integrations page ----------------------------------------------------------------


def test_the_team_page_is_for_its_admins(
    client, team_admin, team_member, org_admin, viewer, outsider, webhook
):
    for user, status in [
        (team_admin, 200),
        (org_admin, 200),
        (team_member, 403),
        (viewer, 404),
        (outsider, 404),
    ]:
        client.force_login(user)
        response = client.get(TEAM)
        assert response.status_code == status, user
    client.force_login(team_member)
    assert "admin role in the team" in text(client.get(TEAM))


def test_the_team_page_lists_webhooks_by_host_and_secrets_by_name(client, team_admin, webhook):
    client.force_login(team_admin)
    response = client.get(TEAM)
    page = text(response)
    host = webhook.url.split("/hook")[0]
    assert f"{host}/…" in page and "/hook" not in html(response)
    assert "CI_TOKEN" in page and "SIGNING" in page
    assert_no_secret(response)
    assert_unique_ids(response)


def test_another_teams_secret_or_webhook_is_not_found_here(
    client, organization, org_admin, team_admin, webhook, receiver
):
    from tests.factories import make_team

    other = make_team(organization, "nlp")
    secret = services.create_secret(actor=org_admin, team=other, name="THEIRS", value="v")
    theirs = services.create_webhook(actor=org_admin, team=other, name="x", url=receiver.url)
    client.force_login(team_admin)
    assert client.post(TEAM, {"form": "secret-delete", "pk": secret.pk}).status_code == 404
    assert client.post(TEAM, {"form": "webhook-delete", "pk": theirs.pk}).status_code == 404
    assert client.post(TEAM, {"form": "nonsense"}).status_code == 404
    assert TeamSecret.objects.filter(pk=secret.pk).exists() and Webhook.objects.filter(pk=theirs.pk)


def test_a_secret_is_added_replaced_kept_and_never_shown(client, team, team_admin):
    client.force_login(team_admin)
    response = client.post(
        TEAM, {"form": "secret", "secret-name": "GITHUB_TOKEN", "secret-value": "ghp-secret"}
    )
    assert response.status_code == 302
    secret = team.secrets.get(name="GITHUB_TOKEN")
    assert secret.value == "ghp-secret"
    assert AuditEvent.objects.filter(action=AuditAction.SECRET_SET).count() == 1
    page = client.get(TEAM)
    assert "GITHUB_TOKEN" in text(page) and "ghp-secret" not in html(page)

    # Empty keeps the value; a new one replaces it.
    prefix = f"secret-{secret.pk}"
    data = {"form": "secret-value", "pk": secret.pk, f"{prefix}-value": ""}
    assert client.post(TEAM, data).status_code == 302
    secret.refresh_from_db()
    assert secret.value == "ghp-secret"
    data[f"{prefix}-value"] = "ghp-newer"
    assert client.post(TEAM, data).status_code == 302
    secret.refresh_from_db()
    assert secret.value == "ghp-newer"
    assert "ghp-newer" not in html(client.get(TEAM))


def test_a_bad_secret_name_is_refused_in_place_with_the_input_kept(client, team, team_admin):
    client.force_login(team_admin)
    response = client.post(
        TEAM, {"form": "secret", "secret-name": "lower-case", "secret-value": "v"}
    )
    assert response.status_code == 400
    assert "cannot name a secret" in text(response)
    assert 'value="lower-case"' in html(response)
    assert not team.secrets.exists()


def test_a_secret_in_use_is_not_deleted_and_the_page_says_why(client, team_admin, webhook):
    client.force_login(team_admin)
    secret = webhook.access_token
    response = client.post(TEAM, {"form": "secret-delete", "pk": secret.pk})
    assert response.status_code == 400
    assert "Secret CI_TOKEN is used by webhook ci" in text(response)
    assert TeamSecret.objects.filter(pk=secret.pk).exists()


def test_a_webhook_is_added_edited_and_deleted(client, team, team_admin, receiver):
    client.force_login(team_admin)
    services.create_secret(actor=team_admin, team=team, name="TOKEN", value="t")
    data = {
        "form": "webhook",
        "webhook-name": "builds",
        "webhook-kind": "webhook",
        "webhook-url": receiver.url,
        "webhook-access_token": "TOKEN",
        "webhook-signing_secret": "",
    }
    assert client.post(TEAM, data).status_code == 302
    webhook = team.webhooks.get(name="builds")
    assert webhook.access_token.name == "TOKEN" and webhook.signing_secret is None
    assert AuditEvent.objects.filter(action=AuditAction.WEBHOOK_CREATE).exists()

    # An empty URL keeps the one stored, which the page never shows in full.
    prefix = f"webhook-{webhook.pk}"
    edit = {
        "form": "webhook-edit",
        "pk": webhook.pk,
        f"{prefix}-name": "builds-2",
        f"{prefix}-url": "",
        f"{prefix}-access_token": "",
        f"{prefix}-signing_secret": "",
    }
    assert client.post(TEAM, edit).status_code == 302
    webhook.refresh_from_db()
    assert (webhook.name, webhook.url, webhook.access_token) == ("builds-2", receiver.url, None)

    assert client.post(TEAM, {"form": "webhook-delete", "pk": webhook.pk}).status_code == 302
    assert not team.webhooks.exists()
    assert AuditEvent.objects.filter(action=AuditAction.WEBHOOK_DELETE).exists()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://example.com/x", "is not a web address"),
        ("https://user:pw@example.com/x", "Put credentials in an access token"),
        ("http://127.0.0.1:9/hook", "private, loopback or link-local"),
    ],
)
def test_a_bad_webhook_url_is_refused_next_to_it_with_the_input_kept(
    client, team, team_admin, url, says
):
    client.force_login(team_admin)
    data = {"form": "webhook", "webhook-name": "bad", "webhook-kind": "webhook", "webhook-url": url}
    response = client.post(TEAM, data)
    assert response.status_code == 400
    field = html(response).split('id="id_webhook-url"')[1].split("</div>")[0]
    assert says in text_of(field)
    assert 'value="bad"' in html(response)
    assert not team.webhooks.exists()


def text_of(fragment: str) -> str:
    import html as entities

    return entities.unescape(re.sub(r"<[^>]+>", " ", fragment))


def test_a_webhook_in_use_is_not_deleted_and_the_page_says_why(
    client, team_admin, webhook, make_automation, models_registry
):
    make_automation(name="uses ci", registry=models_registry)
    client.force_login(team_admin)
    response = client.post(TEAM, {"form": "webhook-delete", "pk": webhook.pk})
    assert response.status_code == 400
    assert "used by automation uses ci" in text(response)
    assert Webhook.objects.filter(pk=webhook.pk).exists()


def test_the_test_button_shows_the_answer_in_place(client, team_admin, webhook, receiver):
    receiver.body = b'{"received": true}'
    client.force_login(team_admin)
    data = {"form": "test", "pk": webhook.pk, f"test-{webhook.pk}-payload": ""}
    response = client.post(TEAM, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = html(response)
    assert fragment.lstrip().startswith(f'<div id="test-{webhook.pk}"')
    assert "answered <strong>200</strong>" in fragment and "received" in fragment
    [request] = receiver.requests
    # The GitHub example with sample values, signed and carrying the token like any delivery.
    assert request.json["client_payload"]["alias"] == "production"
    assert request.headers["authorization"] == "Bearer tok-123"
    assert request.wandb_signature_valid(SECRET_VALUES[1])
    assert_no_secret(response)


def test_without_javascript_the_test_answer_shows_on_the_whole_page(
    client, team_admin, webhook, receiver
):
    receiver.statuses = [418]
    client.force_login(team_admin)
    payload = '{"hello": "${event_author}"}'
    response = client.post(
        TEAM, {"form": "test", "pk": webhook.pk, f"test-{webhook.pk}-payload": payload}
    )
    assert response.status_code == 200
    assert "<html" in html(response) and "answered 418" in text(response)
    assert receiver.requests[0].json == {"hello": "maria"}
    # The sample payload is kept in its box, and nothing is saved.
    assert "${event_author}" in text(response)
    assert not Execution.objects.exists()


def test_a_test_that_cannot_be_sent_says_why(client, team_admin, webhook):
    client.force_login(team_admin)
    data = {"form": "test", "pk": webhook.pk, f"test-{webhook.pk}-payload": '{"a": ${alias}}'}
    response = client.post(TEAM, data, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Nothing was sent" in text(response) and "not valid JSON" in text(response)


# Lists: the organization's, and the Automations tabs -----------------------------------------


def test_the_tabs_show_to_those_who_may_manage_automations(
    client, member, viewer, collection, models_registry
):
    client.force_login(member)
    registry_page = client.get("/orgs/acme/registry/model/")
    assert f'href="{REGISTRY_TAB}"' in html(registry_page)
    collection_page = client.get("/orgs/acme/registry/model/classifier/")
    assert f'href="{COLLECTION_TAB}"' in html(collection_page)
    client.force_login(viewer)
    assert REGISTRY_TAB not in html(client.get("/orgs/acme/registry/model/"))
    assert COLLECTION_TAB not in html(client.get("/orgs/acme/registry/model/classifier/"))


def test_the_tabs_answer_members_and_refuse_viewers_naming_the_role(
    client, member, viewer, outsider, collection
):
    for path in [REGISTRY_TAB, COLLECTION_TAB]:
        client.force_login(member)
        assert client.get(path).status_code == 200
        client.force_login(viewer)
        refused = client.get(path)
        assert refused.status_code == 403 and "the member role" in text(refused)
        client.force_login(outsider)
        assert client.get(path).status_code == 404


def test_a_restricted_registrys_tab_is_missing_for_those_without_a_grant(
    organization, org_admin, member
):
    make_registry(organization, org_admin, "Secret", visibility="restricted")
    assert_alike(member, "GET", f"{ORG}registry/secret/", None, "secret", "secrex", api=False)


@pytest.fixture
def three_scopes(organization, org_admin, member, webhook, models_registry, collection):
    """One automation at each scope: organization, Models, and Models/classifier."""
    wide = services.create_automation(
        actor=org_admin,
        organization=organization,
        name="org-wide",
        event=Event.LINK,
        webhook=webhook,
        payload='{"e": "${event_type}"}',
    )
    on_registry = services.create_automation(
        actor=member,
        organization=organization,
        registry=models_registry,
        name="on-models",
        event=Event.VERSION_TAG_ADD,
        tag_regex="^eu",
        webhook=webhook,
        payload='{"e": "${event_type}"}',
    )
    on_collection = services.create_automation(
        actor=member,
        organization=organization,
        collection=collection,
        name="on-classifier",
        event=Event.ALIAS_ADD,
        alias_regex="^production$",
        webhook=webhook,
        payload='{"e": "${event_type}"}',
    )
    return wide, on_registry, on_collection


def rows(response) -> list[str]:
    body = html(response).split("<tbody>")[1].split("</tbody>")[0]
    return [" ".join(text_of(row).split()) for row in body.split("<tr>")[1:]]


def names(response) -> list[str]:
    return [row.split()[0] for row in rows(response) if "No automations" not in row]


def test_the_organizations_list_holds_what_each_user_may_manage(
    client, org_admin, member, viewer, three_scopes
):
    client.force_login(org_admin)
    assert names(client.get(ORG)) == ["on-classifier", "on-models", "org-wide"]
    client.force_login(member)
    response = client.get(ORG)
    assert names(response) == ["on-classifier", "on-models"]
    assert "Create organization-wide automation" not in text(response)
    client.force_login(viewer)
    assert names(client.get(ORG)) == []


def test_the_list_shows_scope_event_filter_destination_and_state(client, org_admin, three_scopes):
    _, on_registry, _ = three_scopes
    services.set_paused(actor=org_admin, automation=on_registry, paused=True)
    client.force_login(org_admin)
    [_, models_row, _] = rows(client.get(ORG))
    assert "Registry Models" in models_row
    assert "A tag is added to a version" in models_row
    assert "tag ^eu" in models_row
    assert "ci (Webhook, team ml)" in models_row
    assert "Paused" in models_row and "Never" in models_row


def test_the_collection_tab_marks_what_it_inherits(client, member, three_scopes):
    client.force_login(member)
    response = client.get(COLLECTION_TAB)
    by_name = {row.split()[0]: row for row in rows(response)}
    assert set(by_name) == {"on-classifier", "on-models", "org-wide"}
    assert "inherited" not in by_name["on-classifier"]
    assert "inherited" in by_name["on-models"] and "inherited" in by_name["org-wide"]
    # A member may not open an organization-wide automation: it is listed, not linked.
    wide = three_scopes[0]
    assert detail(wide) not in html(response)
    assert detail(three_scopes[2]) in html(response)


def test_the_registry_tab_holds_its_own_its_collections_and_the_organizations(
    client, member, three_scopes, organization, org_admin, webhook
):
    other = make_registry(organization, org_admin, "Other")
    services.create_automation(
        actor=org_admin,
        organization=organization,
        registry=other,
        name="elsewhere",
        event=Event.LINK,
        webhook=webhook,
        payload="{}",
    )
    client.force_login(member)
    assert sorted(names(client.get(REGISTRY_TAB))) == ["on-classifier", "on-models", "org-wide"]


def test_search_by_name_and_sort_by_last_triggered(
    client, org_admin, three_scopes, link, member, receiver
):
    on_collection = three_scopes[2]
    set_alias(actor=member, link=link, name="production")  # sets off on-classifier
    client.force_login(org_admin)
    assert names(client.get(ORG, {"q": "ON-"})) == ["on-classifier", "on-models"]
    by_triggered = client.get(ORG, {"sort": "-triggered"})
    assert names(by_triggered)[0] == "on-classifier"
    [first, *_] = rows(by_triggered)
    assert "Pending" in first and "just now" in first
    assert f"{detail(on_collection)}#history" in html(by_triggered)
    fragment = client.get(ORG, {"q": "wide"}, headers={"HX-Request": "true"})
    assert html(fragment).lstrip().startswith('<div id="automation-table">')
    assert fragment["Vary"] == "HX-Request, Cookie"


@pytest.mark.parametrize(
    ("sort", "rest"), [("name", ["a50", "a51"]), ("-triggered", ["a02", "a00"])]
)
def test_the_list_pages_in_keyset_pages(client, org_admin, organization, webhook, sort, rest):
    """By last triggered, those never triggered come last (newest first among them)."""
    automations = [
        Automation.objects.create(
            organization=organization, name=f"a{n:02}", event=Event.LINK, webhook=webhook
        )
        for n in range(52)
    ]
    Execution.objects.create(automation=automations[1], event=Event.LINK, target="t")
    client.force_login(org_admin)
    first = client.get(ORG, {"sort": sort})
    assert len(names(first)) == 50
    if sort == "-triggered":
        assert names(first)[:2] == ["a01", "a51"]
    next_link = re.search(r'href="\?([^"]+)"', html(first).split('class="pager"')[1]).group(1)
    second = client.get(f"{ORG}?{next_link.replace('&amp;', '&')}")
    assert names(second) == rest


# Create and edit -------------------------------------------------------------------------------


def test_a_member_creates_a_registry_automation_through_the_form(
    client, member, webhook, models_registry
):
    client.force_login(member)
    page = client.get(f"{ORG}new/?registry=model")
    assert page.status_code == 200
    assert "Registry Models" in text(page)
    assert "${event_type}" in text(page) and "${artifact_metadata.<key>}" in text(page)
    assert "${CI_TOKEN}" in text(page) and "repository_dispatch" in text(page)
    assert "Open in the registry" in text(page)  # the Slack example
    assert_no_secret(page)
    assert_unique_ids(page)

    response = client.post(f"{ORG}new/?registry=model", form_data(webhook))
    automation = Automation.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(automation)
    assert (automation.registry, automation.collection) == (models_registry, None)
    assert (automation.alias_regex, automation.created_by) == ("^production$", member)
    event = AuditEvent.objects.get(action=AuditAction.AUTOMATION_CREATE)
    assert event.target == "acme/model/automations/deploy"


def test_the_form_opened_from_a_collection_makes_a_collection_automation(
    client, member, webhook, collection
):
    client.force_login(member)
    url = f"{ORG}new/?registry=model&collection=classifier"
    assert client.post(url, form_data(webhook)).status_code == 302
    assert Automation.objects.get().collection == collection


def test_organization_wide_automations_are_for_organization_admins(
    client, member, org_admin, webhook, team
):
    client.force_login(member)
    refused = client.get(f"{ORG}new/")
    assert refused.status_code == 403 and "need the admin role" in text(refused)
    assert client.post(f"{ORG}new/", form_data(webhook)).status_code == 403
    client.force_login(org_admin)
    assert client.post(f"{ORG}new/", form_data(webhook)).status_code == 302
    assert Automation.objects.get().registry is None


def test_the_form_offers_the_webhooks_of_the_users_teams(
    client, organization, org_admin, member, webhook, receiver
):
    from tests.factories import make_team

    other_team = make_team(organization, "nlp")
    stranger = services.create_webhook(
        actor=org_admin, team=other_team, name="nlp-hook", url=receiver.url
    )
    client.force_login(member)
    page = html(client.get(f"{ORG}new/?registry=model"))
    assert f'value="{webhook.pk}"' in page and f'value="{stranger.pk}"' not in page
    refused = client.post(f"{ORG}new/?registry=model", form_data(stranger))
    assert refused.status_code == 400 and not Automation.objects.exists()
    client.force_login(org_admin)
    assert f'value="{stranger.pk}"' in html(client.get(f"{ORG}new/?registry=model"))


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"alias_regex": "(prod"}, "alias_regex", "does not compile"),
        (
            {"event": Event.VERSION_TAG_ADD, "tag_regex": "[eu"},
            "tag_regex",
            "does not compile",
        ),
        ({"payload": '{"x": "${nope}"}'}, "payload", "${nope}, which no event or secret"),
        ({"payload": '{"x": ${alias}}'}, "payload", "not valid JSON"),
        ({"payload": "  "}, "payload", "payload is required"),
        ({"rate_limit_per_hour": 0}, "rate_limit_per_hour", "greater than or equal to 1"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_with_the_input_kept(
    client, member, webhook, models_registry, changes, field, says
):
    client.force_login(member)
    response = client.post(f"{ORG}new/?registry=model", form_data(webhook, **changes))
    assert response.status_code == 400
    after_field = html(response).split(f'id="id_{field}"')[1].split('<div class="field')[0]
    assert says in text_of(after_field), text_of(after_field)
    assert 'value="deploy"' in html(response)  # the name typed is kept
    assert not Automation.objects.exists()


def test_a_duplicate_name_is_refused_next_to_the_name(
    client, member, webhook, models_registry, make_automation
):
    make_automation(name="deploy", registry=models_registry)
    client.force_login(member)
    response = client.post(f"{ORG}new/?registry=model", form_data(webhook))
    assert response.status_code == 400
    after_name = html(response).split('id="id_name"')[1].split('<div class="field')[0]
    assert "has an automation named deploy already" in text_of(after_name)


def test_a_regex_the_event_does_not_take_is_dropped(client, member, webhook, models_registry):
    """The stylesheet hides it; a value typed before the event changed does not refuse the form."""
    client.force_login(member)
    data = form_data(webhook, event=Event.LINK, alias_regex="left-over")
    assert client.post(f"{ORG}new/?registry=model", data).status_code == 302
    assert Automation.objects.get().alias_regex == ""


def test_a_slack_destination_needs_no_payload(client, member, team, team_admin, receiver):
    slack = services.create_webhook(
        actor=team_admin, team=team, name="alerts", url=receiver.url, kind=WebhookKind.SLACK
    )
    client.force_login(member)
    page = html(client.get(f"{ORG}new/?registry=model"))
    assert f'value="{slack.pk}" data-kind="slack"' in page
    data = form_data(slack, payload="")
    assert client.post(f"{ORG}new/?registry=model", data).status_code == 302
    assert Automation.objects.get().payload == ""


def test_editing_through_the_same_form(client, member, make_automation, models_registry):
    automation = make_automation(name="deploy", registry=models_registry)
    client.force_login(member)
    page = client.get(f"{detail(automation)}edit/")
    assert page.status_code == 200 and 'value="deploy"' in html(page)
    data = form_data(automation.webhook, name="deploy-prod", alias_regex="^prod")
    response = client.post(f"{detail(automation)}edit/", data)
    assert response.status_code == 302
    automation.refresh_from_db()
    assert (automation.name, automation.alias_regex) == ("deploy-prod", "^prod")
    assert AuditEvent.objects.filter(action=AuditAction.AUTOMATION_UPDATE).exists()
    bad = client.post(f"{detail(automation)}edit/", form_data(automation.webhook, alias_regex="("))
    assert bad.status_code == 400 and "does not compile" in text(bad)


def test_editing_one_that_sends_to_a_team_you_are_not_in_says_so(
    client, organization, make_automation, models_registry
):
    automation = make_automation(name="deploy", registry=models_registry)
    outside_team = make_member(organization, "rita")
    client.force_login(outside_team)
    page = client.get(f"{detail(automation)}edit/")
    assert f'<option value="{automation.webhook_id}" selected data-kind="webhook">' in html(page)
    response = client.post(f"{detail(automation)}edit/", form_data(automation.webhook, name="x"))
    assert response.status_code == 400
    assert "belongs to team ml, which you are not in" in text(response)
    assert "Edit automation deploy" in text(response)
    automation.refresh_from_db()
    assert automation.name == "deploy"


# An automation's page and history --------------------------------------------------------------


def test_the_detail_page_is_for_those_who_manage_its_scope(
    client, member, viewer, outsider, org_admin, three_scopes
):
    wide, on_registry, _ = three_scopes
    for user, automation, status in [
        (member, on_registry, 200),
        (org_admin, on_registry, 200),
        (viewer, on_registry, 403),
        (outsider, on_registry, 404),
        (member, wide, 403),
        (org_admin, wide, 200),
    ]:
        client.force_login(user)
        assert client.get(detail(automation)).status_code == status, (user, automation)


def test_hidden_automations_answer_as_missing_ones(organization, org_admin, member, webhook):
    secret = make_registry(organization, org_admin, "Secret", visibility="restricted")
    hidden = services.create_automation(
        actor=org_admin,
        organization=organization,
        registry=secret,
        name="hidden",
        event=Event.LINK,
        webhook=webhook,
        payload="{}",
    )
    hidden_path, missing_path = f"automations/{hidden.pk}/", f"automations/{hidden.pk + 1000}/"
    for suffix in ["", "edit/", "delete/"]:
        path = f"/orgs/acme/{hidden_path}{suffix}"
        assert_alike(member, "GET", path, None, hidden_path, missing_path, api=False)


def test_pause_resume_and_delete(client, member, make_automation, models_registry):
    automation = make_automation(name="deploy", registry=models_registry)
    client.force_login(member)
    page = client.get(detail(automation))
    assert "Pause" in text(page) and "ci (Webhook of team ml)" in text(page)
    assert_no_secret(page)
    assert client.post(f"{detail(automation)}pause/", {"paused": "true"}).status_code == 302
    automation.refresh_from_db()
    assert automation.paused and "Resume" in text(client.get(detail(automation)))
    client.post(f"{detail(automation)}pause/", {"paused": "false"})
    automation.refresh_from_db()
    assert not automation.paused
    updates = AuditEvent.objects.filter(action=AuditAction.AUTOMATION_UPDATE)
    assert [event.data["field"] for event in updates.order_by("id")] == ["paused", "resumed"]

    confirm = client.get(f"{detail(automation)}delete/")
    assert confirm.status_code == 200 and "Delete automation deploy?" in text(confirm)
    response = client.post(f"{detail(automation)}delete/")
    assert response.status_code == 302 and response["Location"] == REGISTRY_TAB
    assert not Automation.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.AUTOMATION_DELETE).exists()


def test_a_viewer_may_not_pause_replay_or_delete(
    client, viewer, make_automation, models_registry, link, member
):
    automation = make_automation(registry=models_registry)
    set_alias(actor=member, link=link, name="production")
    execution = Execution.objects.get()
    client.force_login(viewer)
    for path in [
        f"{detail(automation)}pause/",
        f"{detail(automation)}delete/",
        f"{detail(automation)}executions/{execution.uid}/replay/",
    ]:
        assert client.post(path, {"paused": "true"}).status_code == 403, path
    assert Automation.objects.filter(paused=False).exists() and Execution.objects.count() == 1


# The worker runs on its own heartbeat thread, which must see what the test wrote: tests that
# run it commit their data.
uses_the_worker = pytest.mark.django_db(transaction=True)


@pytest.fixture
def delivered(link, member, models_registry, make_automation, receiver, run_worker):
    """An automation on Models whose first execution was delivered and second failed."""
    automation = make_automation(name="deploy", registry=models_registry)
    set_alias(actor=member, link=link, name="production")
    run_worker()
    receiver.statuses = [404]
    set_alias(actor=member, link=link, name="staging")
    run_worker()
    return automation


@uses_the_worker
def test_the_history_lists_executions_newest_first_with_their_answer(client, member, delivered):
    client.force_login(member)
    response = client.get(detail(delivered))
    failed, ok = rows(response)
    assert "Failed" in failed and "404" in failed and "maria" in failed
    assert "Delivered" in ok and "200" in ok and "acme/model/classifier:v0" in ok
    assert "An alias is added or moved to a version" in ok
    assert_no_secret(response)


@uses_the_worker
def test_the_history_filters_by_status(client, member, delivered):
    client.force_login(member)
    [only] = rows(client.get(detail(delivered), {"status": "delivered"}))
    assert "Delivered" in only
    fragment = client.get(detail(delivered), {"status": "failed"}, headers={"HX-Request": "true"})
    assert html(fragment).lstrip().startswith('<div id="history">')
    [failed] = rows(fragment)
    assert "Failed" in failed
    assert "No pending executions" in text(client.get(detail(delivered), {"status": "pending"}))


@uses_the_worker
def test_an_execution_shows_what_was_sent_and_what_came_back(client, member, delivered):
    client.force_login(member)
    execution = delivered.executions.get(status=ExecutionStatus.DELIVERED)
    response = client.get(f"{detail(delivered)}executions/{execution.uid}/")
    page = text(response)
    assert "Delivered" in page and '"alias": "production"' in page
    assert '"token": "${ACCESS_TOKEN}"' in page  # secrets by name
    assert "ok" in page  # the receiver's answer
    assert_no_secret(response)
    failed = delivered.executions.get(status=ExecutionStatus.FAILED)
    page = text(client.get(f"{detail(delivered)}executions/{failed.uid}/"))
    assert "refused the delivery (404)" in page


@uses_the_worker
def test_replay_makes_a_new_pending_execution(client, member, delivered, receiver, run_worker):
    client.force_login(member)
    failed = delivered.executions.get(status=ExecutionStatus.FAILED)
    response = client.post(f"{detail(delivered)}executions/{failed.uid}/replay/")
    assert response.status_code == 302 and response["Location"] == detail(delivered)
    again = Execution.objects.get(replay_of=failed)
    assert again.status == ExecutionStatus.PENDING and again.payload == failed.payload
    assert "Pending" in rows(client.get(detail(delivered)))[0]
    run_worker()
    again.refresh_from_db()
    assert again.status == ExecutionStatus.DELIVERED
    page = text(client.get(f"{detail(delivered)}executions/{again.uid}/"))
    assert "Replay of" in page


@uses_the_worker
def test_the_history_pages_in_keyset_pages(client, member, delivered):
    for n in range(55):
        Execution.objects.create(
            automation=delivered, event=Event.ALIAS_ADD, target=f"t{n}", actor_name="maria"
        )
    client.force_login(member)
    first = client.get(detail(delivered))
    assert len(rows(first)) == 50
    next_link = re.search(r'href="\?([^"]+)"', html(first).split('class="pager"')[1]).group(1)
    second = rows(client.get(f"{detail(delivered)}?{next_link.replace('&amp;', '&')}"))
    assert len(second) == 7 and "Delivered" in second[-1]


@uses_the_worker
def test_wrong_methods_and_anonymous_visitors(client, member, delivered):
    execution = delivered.executions.first()
    base = detail(delivered)
    views = [
        (base, {"GET"}),
        (f"{base}edit/", {"GET", "POST"}),
        (f"{base}pause/", {"POST"}),
        (f"{base}delete/", {"GET", "POST"}),
        (f"{base}executions/{execution.uid}/", {"GET"}),
        (f"{base}executions/{execution.uid}/replay/", {"POST"}),
    ]
    for path, methods in views:
        for method in methods:
            response = getattr(Client(), method.lower())(path)
            assert response.status_code == 302 and "/login/" in response["Location"], path
    client.force_login(member)
    for path, methods in views:
        for method in {"GET", "POST", "PUT", "DELETE"} - methods:
            assert getattr(client, method.lower())(path).status_code == 405, (method, path)


# Query budgets ---------------------------------------------------------------------------------


def queries_for(client, path: str) -> int:
    client.get(path)  # warm: sessions settle
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("who", "path", "budget"),
    [
        # Each counts its automations for the pager; for a member, the header's navigation
        # also asks whether they administer a team (its Migration link).
        ("org_admin", ORG, 7),
        ("member", ORG, 8),
        ("member", REGISTRY_TAB, 8),
        ("member", COLLECTION_TAB, 8),
    ],
)
def test_the_lists_ask_a_fixed_number_of_queries(
    request, client, who, path, budget, organization, models_registry, collection, webhook, team
):
    """Intended to prevent an n+1 over automations, their scopes, webhooks and executions."""
    user = request.getfixturevalue(who)
    client.force_login(user)

    def grow(n: int) -> None:
        start = Automation.objects.count()
        for i in range(start, start + n):
            automation = Automation.objects.create(
                organization=organization,
                registry=models_registry,
                collection=collection if i % 2 else None,
                name=f"a{i}",
                event=Event.LINK,
                webhook=webhook,
            )
            Execution.objects.create(automation=automation, event=Event.LINK, target="t")

    grow(2)
    small = queries_for(client, path)
    grow(10)
    assert (small, queries_for(client, path)) == (budget, budget)


@uses_the_worker
@pytest.mark.parametrize("status", ["", "failed"])
def test_the_history_asks_a_fixed_number_of_queries(client, member, delivered, status):
    """Intended to prevent an n+1 over executions. Two of the queries: the pager's COUNT, and
    the header's navigation asking whether a member administers a team (its Migration link)."""
    client.force_login(member)
    path = f"{detail(delivered)}?status={status}"
    small = queries_for(client, path)
    for n in range(20):
        Execution.objects.create(
            automation=delivered, event=Event.ALIAS_ADD, target=f"t{n}", status="failed"
        )
    assert (small, queries_for(client, path)) == (8, 8)


def test_the_team_page_asks_a_fixed_number_of_queries(client, team, team_admin, webhook):
    """One of the queries: the header's navigation asking whether they administer a team."""
    client.force_login(team_admin)
    small = queries_for(client, TEAM)
    for n in range(5):
        secret = services.create_secret(actor=team_admin, team=team, name=f"S{n}", value="v")
        services.create_webhook(
            actor=team_admin, team=team, name=f"w{n}", url=webhook.url, access_token=secret
        )
    assert (small, queries_for(client, TEAM)) == (8, 8)


# Admin -----------------------------------------------------------------------------------------


def test_the_admin_never_shows_a_secret_or_a_full_url(
    client, org_admin, webhook, make_automation, models_registry
):
    automation = make_automation(registry=models_registry)
    org_admin.is_staff = org_admin.is_superuser = True
    org_admin.save()
    client.force_login(org_admin)
    for path in [
        "/admin/automations/teamsecret/",
        f"/admin/automations/teamsecret/{webhook.access_token.pk}/change/",
        "/admin/automations/webhook/",
        f"/admin/automations/webhook/{webhook.pk}/change/",
        "/admin/automations/automation/",
        f"/admin/automations/automation/{automation.pk}/change/",
        "/admin/automations/execution/",
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_secret(response)
        assert "/hook" not in html(response), path


def test_staff_pause_an_automation_in_the_admin_with_an_audit_event(
    client, make_automation, models_registry
):
    automation = make_automation(registry=models_registry)
    staff = User.objects.create_superuser("staff", "staff@example.com", "pw")
    client.force_login(staff)
    path = f"/admin/automations/automation/{automation.pk}/change/"
    assert client.post(path, {"paused": "on"}).status_code == 302
    automation.refresh_from_db()
    assert automation.paused
    event = AuditEvent.objects.filter(action=AuditAction.AUTOMATION_UPDATE).get()
    assert event.data == {"field": "paused", "via": "admin"}
    assert event.actor_name == "staff"


def test_an_organization_viewer_is_refused_the_create_form_naming_the_role(client, viewer):
    client.force_login(viewer)
    refused = client.get(f"{ORG}new/?registry=model")
    assert refused.status_code == 403 and "the member role" in text(refused)


def test_a_team_viewer_sees_nothing_of_its_integrations(client, organization, team, webhook):
    user = make_member(organization, "tv", OrganizationRole.MEMBER)
    team.add_member(user, TeamRole.VIEWER)
    client.force_login(user)
    assert client.get(TEAM).status_code == 403


def test_a_granted_restricted_registry_member_may_automate_it(
    client, organization, org_admin, member, webhook
):
    registry = make_registry(organization, org_admin, "Secret", visibility="restricted")
    grant(registry, "member", user=member)
    client.force_login(member)
    assert client.get(f"{ORG}registry/secret/").status_code == 200
    assert client.post(f"{ORG}new/?registry=secret", form_data(webhook)).status_code == 302
    assert names(client.get(ORG)) == ["deploy"]
    assert reverse("automations:registry", kwargs={"org": "acme", "registry": "secret"}) in html(
        client.get("/orgs/acme/registry/secret/")
    )


def test_a_refused_webhook_edit_shows_the_stored_name_and_the_error(
    client, team, team_admin, webhook
):
    client.force_login(team_admin)
    prefix = f"webhook-{webhook.pk}"
    data = {"form": "webhook-edit", "pk": webhook.pk, f"{prefix}-name": "renamed"}
    data[f"{prefix}-url"] = "ftp://nowhere/x"
    response = client.post(TEAM, data)
    assert response.status_code == 400 and "is not a web address" in text(response)
    assert "Edit ci" in text(response) and 'value="renamed"' in html(response)
    webhook.refresh_from_db()
    assert webhook.name == "ci"


def test_a_slack_webhook_is_edited_without_secrets(client, team, team_admin, receiver):
    slack = services.create_webhook(
        actor=team_admin, team=team, name="alerts", url=receiver.url, kind=WebhookKind.SLACK
    )
    client.force_login(team_admin)
    assert f"webhook-{slack.pk}-access_token" not in html(client.get(TEAM))
    data = {"form": "webhook-edit", "pk": slack.pk, f"webhook-{slack.pk}-name": "alerts-2"}
    assert client.post(TEAM, data).status_code == 302
    slack.refresh_from_db()
    assert slack.name == "alerts-2"
