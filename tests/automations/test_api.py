"""The automations' JSON API: create, list and filter, change, pause, delete, history and replay;
who may do each; bad input named; a fixed number of queries for the lists."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from apps.accounts.models import ApiToken
from apps.automations import services
from apps.automations.models import Automation, Event, Execution, ExecutionStatus
from apps.registries.services import delete_collection, set_alias
from tests.automations.conftest import PAYLOAD
from tests.factories import make_link, make_member, make_registry, make_version
from tests.test_query_budgets import read

LIST = "/api/v1/orgs/acme/automations/"


def headers_for(user) -> dict[str, str]:
    _, token = ApiToken.issue(user, "t")
    return {"Authorization": f"Bearer {token}"}


def send(client, user, method: str, url: str, body=None):
    data = json.dumps(body) if body is not None else ""
    return client.generic(
        method, url, data, content_type="application/json", headers=headers_for(user)
    )


def body(**changes):
    return {
        "name": "deploy",
        "event": "ADD_ARTIFACT_ALIAS",
        "webhook": "ml/ci",
        "scope": "acme/model",
        "alias_regex": "^production$",
        "payload": PAYLOAD,
        **changes,
    }


@pytest.fixture
def link(project, member, models_registry):
    version = make_version(project, member, metadata={"arch": "resnet"})
    return make_link(version, models_registry, member, "classifier")


@pytest.fixture
def created(client, member, webhook, link):
    """`deploy`, made through the API by `member` on the Models registry."""
    response = send(client, member, "post", LIST, body())
    assert response.status_code == 201, response.content
    return response.json()


def url_of(automation: dict | Automation, suffix: str = "") -> str:
    pk = automation["id"] if isinstance(automation, dict) else automation.pk
    return f"{LIST}{pk}/{suffix}"


def test_create_answers_the_automation_and_the_list_shows_it(client, member, created):
    assert created["scope"] == {"kind": "registry", "path": "acme/model"}
    assert created["webhook"] == {"team": "ml", "name": "ci", "kind": "webhook"}
    expected = {
        "name": "deploy",
        "event": "ADD_ARTIFACT_ALIAS",
        "alias_regex": "^production$",
        "tag_regex": "",
        "description": "",
        "payload": PAYLOAD,
        "paused": False,
        "rate_limit_per_hour": 60,
        "cooldown_seconds": 0,
        "last_execution": None,
    }
    assert created.items() >= expected.items()
    listed = send(client, member, "get", LIST).json()
    assert listed == {"automations": [created], "next": None}
    assert send(client, member, "get", url_of(created)).json() == created


def test_the_last_execution_shows_once_one_is_recorded(client, member, created, link):
    set_alias(actor=member, link=link, name="production")
    execution = Execution.objects.get()
    last = send(client, member, "get", url_of(created)).json()["last_execution"]
    assert last == {
        "id": str(execution.uid),
        "status": "pending",
        "created_at": execution.created_at.isoformat(),
    }


def test_collection_and_organization_scopes(client, member, org_admin, webhook, link):
    on_collection = send(client, member, "post", LIST, body(scope="acme/model/classifier"))
    assert on_collection.status_code == 201
    assert on_collection.json()["scope"] == {
        "kind": "collection",
        "path": "acme/model/classifier",
    }
    assert Automation.objects.get().collection == link.collection
    # Organization-wide automations watch every registry: its admins' call.
    refused = send(client, member, "post", LIST, body(name="everywhere", scope="acme"))
    assert refused.status_code == 403
    message = refused.json()["error"]["message"]
    assert "Organization-wide automations in Acme need the admin role" in message
    made = send(client, org_admin, "post", LIST, body(name="everywhere", scope="acme"))
    assert made.status_code == 201 and made.json()["scope"] == {
        "kind": "organization",
        "path": "acme",
    }
    # Its admins see it; a member reading it is told the role it needs.
    assert send(client, member, "get", url_of(made.json())).status_code == 403
    names = [a["name"] for a in send(client, org_admin, "get", LIST).json()["automations"]]
    assert names == ["deploy", "everywhere"]
    names = [a["name"] for a in send(client, member, "get", LIST).json()["automations"]]
    assert names == ["deploy"]


def test_filters_by_registry_and_collection(
    client, member, organization, make_automation, link, datasets_registry
):
    make_automation(name="on models", registry=link.collection.registry)
    make_automation(name="on classifier", collection=link.collection)
    make_automation(name="on datasets", registry=datasets_registry)

    def names(query: str) -> list[str]:
        response = send(client, member, "get", f"{LIST}?{query}")
        assert response.status_code == 200, response.content
        return [a["name"] for a in response.json()["automations"]]

    assert names("") == ["on classifier", "on datasets", "on models"]
    assert names("registry=model") == ["on classifier", "on models"]
    assert names("registry=model&collection=classifier") == ["on classifier"]
    assert names("registry=dataset") == ["on datasets"]
    assert names("name=on models") == ["on models"]
    assert names("registry=dataset&name=on models") == []
    missing = send(client, member, "get", f"{LIST}?collection=classifier")
    assert missing.status_code == 400 and "registry=model" in missing.json()["error"]["message"]
    assert send(client, member, "get", f"{LIST}?registry=nope").status_code == 404


def test_the_list_keeps_what_the_caller_may_manage_and_pages(
    client, organization, org_admin, member, make_automation, link
):
    mine = make_registry(organization, member, "Mine", visibility="restricted")
    for index in range(3):
        make_automation(name=f"a{index}", registry=link.collection.registry)
    make_automation(name="closed", registry=mine)
    # A member of acme (member by the baseline on Models) without a role on Mine.
    other = make_member(organization, "bob")
    names = [a["name"] for a in send(client, other, "get", LIST).json()["automations"]]
    assert names == ["a0", "a1", "a2"]
    seen, url = [], f"{LIST}?limit=2"
    while url:
        page = send(client, member, "get", url).json()
        seen += [a["name"] for a in page["automations"]]
        url = page["next"] and f"{LIST}?limit=2&cursor={page['next']}"
    assert seen == ["a0", "a1", "a2", "closed"]


def test_patch_changes_settings_and_pauses(client, member, created, link):
    changed = send(
        client,
        member,
        "patch",
        url_of(created),
        {"name": "ship", "alias_regex": "^prod", "cooldown_seconds": 30, "paused": True},
    )
    assert changed.status_code == 200, changed.content
    data = changed.json()
    assert (data["id"], data["name"], data["alias_regex"]) == (created["id"], "ship", "^prod")
    assert data["cooldown_seconds"] == 30 and data["paused"] is True
    set_alias(actor=member, link=link, name="production")
    assert not Execution.objects.exists()  # paused: nothing recorded
    resumed = send(client, member, "patch", url_of(created), {"paused": False})
    assert resumed.json()["paused"] is False
    set_alias(actor=member, link=link, name="production-eu")
    assert Execution.objects.count() == 1


def test_a_refused_change_changes_nothing(client, member, created):
    response = send(client, member, "patch", url_of(created), {"paused": True, "alias_regex": "("})
    assert response.status_code == 400 and "does not compile" in response.json()["error"]["message"]
    assert send(client, member, "get", url_of(created)).json() == created


def test_delete(client, member, created):
    response = send(client, member, "delete", url_of(created))
    assert response.json() == {"deleted": "deploy", "id": created["id"]}
    assert not Automation.objects.exists()
    assert send(client, member, "delete", url_of(created)).status_code == 404


@pytest.fixture
def history(make_automation, link, member, models_registry):
    """Three executions of one automation, oldest first: delivered, failed, pending."""
    automation = make_automation(registry=models_registry)
    for alias in ("a", "b", "c"):
        set_alias(actor=member, link=link, name=alias)
    delivered, failed, _ = automation.executions.order_by("pk")
    Execution.objects.filter(pk=delivered.pk).update(status=ExecutionStatus.DELIVERED)
    Execution.objects.filter(pk=failed.pk).update(status=ExecutionStatus.FAILED)
    return automation


def test_executions_are_listed_newest_first_filtered_and_paged(client, member, history):
    executions = send(client, member, "get", url_of(history, "executions/")).json()
    assert [e["status"] for e in executions["executions"]] == ["pending", "failed", "delivered"]
    newest = executions["executions"][0]
    assert (
        newest.items()
        >= {
            "event": "ADD_ARTIFACT_ALIAS",
            "actor": "maria",
            "target": "acme/model/classifier:v0",
            "attempts": 0,
            "response_status": None,
            "finished_at": None,
            "replay_of": None,
        }.items()
    )
    assert '"alias": "c"' in newest["payload"] and "${ACCESS_TOKEN}" in newest["payload"]
    failed = send(client, member, "get", url_of(history, "executions/?status=failed")).json()
    assert [e["status"] for e in failed["executions"]] == ["failed"]
    first = send(client, member, "get", url_of(history, "executions/?limit=2")).json()
    rest = send(
        client, member, "get", url_of(history, f"executions/?limit=2&cursor={first['next']}")
    ).json()
    assert [e["id"] for e in first["executions"] + rest["executions"]] == [
        e["id"] for e in executions["executions"]
    ]
    assert rest["next"] is None
    bad = send(client, member, "get", url_of(history, "executions/?status=done"))
    assert bad.status_code == 400 and "'done'" in bad.json()["error"]["message"]


def test_replay_sends_again_as_a_new_execution(
    client, member, make_automation, models_registry, link, receiver, run_worker
):
    automation = make_automation(registry=models_registry)
    set_alias(actor=member, link=link, name="production")
    run_worker()
    first = Execution.objects.get()
    response = send(client, member, "post", url_of(automation, f"executions/{first.uid}/replay/"))
    assert response.status_code == 201, response.content
    again = response.json()
    assert again["replay_of"] == str(first.uid) and again["id"] != str(first.uid)
    assert again["status"] == "pending" and again["payload"] == first.payload
    run_worker()
    assert receiver.ids() == [str(first.uid), again["id"]]


def test_a_skipped_execution_has_nothing_to_replay(
    client, member, make_automation, models_registry, link
):
    automation = make_automation(registry=models_registry, cooldown_seconds=3600)
    set_alias(actor=member, link=link, name="a")
    set_alias(actor=member, link=link, name="b")
    skipped = Execution.objects.get(status=ExecutionStatus.SKIPPED)
    response = send(client, member, "post", url_of(automation, f"executions/{skipped.uid}/replay/"))
    assert response.status_code == 409 and "cooldown" in response.json()["error"]["message"]
    missing = url_of(automation, "executions/6f1c2a4e-8d7b-4c1e-9a3f-2b5d8e7c1a90/replay/")
    assert send(client, member, "post", missing).status_code == 404


def test_replays_go_with_their_automation_and_its_collection(client, member, make_automation, link):
    """A replay shares its original's event: deleting both must not leave it looking like a
    second original for a moment (the once-per-event constraint)."""
    for delete in ("automation", "collection"):
        automation = make_automation(collection=link.collection)
        set_alias(actor=member, link=link, name=f"to-{delete}")
        original = automation.executions.get()
        replayed = send(
            client, member, "post", url_of(automation, f"executions/{original.uid}/replay/")
        )
        replayed_uid = replayed.json()["id"]
        again = url_of(automation, f"executions/{replayed_uid}/replay/")
        assert send(client, member, "post", again).status_code == 201
        if delete == "automation":
            assert send(client, member, "delete", url_of(automation)).status_code == 200
        else:
            delete_collection(actor=member, collection=link.collection)
        assert not Execution.objects.exists()


def endpoints(automation: dict, execution: Execution | None = None) -> list[tuple[str, str, dict]]:
    uid = execution.uid if execution else "6f1c2a4e-8d7b-4c1e-9a3f-2b5d8e7c1a90"
    return [
        ("get", url_of(automation), None),
        ("patch", url_of(automation), {"paused": True}),
        ("delete", url_of(automation), None),
        ("get", url_of(automation, "executions/"), None),
        ("post", url_of(automation, f"executions/{uid}/replay/"), None),
    ]


def test_a_viewer_is_told_the_member_role(client, viewer, created, link, member):
    set_alias(actor=member, link=link, name="production")
    for method, url, data in endpoints(created, Execution.objects.get()):
        response = send(client, viewer, method, url, data)
        assert response.status_code == 403, (method, url)
        assert "needs the member role on registry Models" in response.json()["error"]["message"]
    refused = send(client, viewer, "post", LIST, body(name="mine"))
    assert refused.status_code == 403
    assert send(client, viewer, "get", f"{LIST}?registry=model").status_code == 403
    assert send(client, viewer, "get", LIST).json() == {"automations": [], "next": None}
    assert Automation.objects.get().paused is False


def test_outsiders_get_404_as_for_nothing(client, outsider, created):
    missing = {**created, "id": created["id"] + 1000}
    for (method, url, data), (_, absent, _) in zip(
        endpoints(created), endpoints(missing), strict=True
    ):
        seen = send(client, outsider, method, url, data)
        nothing = send(client, outsider, method, absent, data)
        assert seen.status_code == nothing.status_code == 404, (method, url)
        message = nothing.json()["error"]["message"]
        assert seen.json()["error"]["message"] == message.replace(
            str(missing["id"]), str(created["id"])
        )
    assert send(client, outsider, "get", LIST).status_code == 404
    assert send(client, outsider, "post", LIST, body()).status_code == 404


def test_a_restricted_registrys_automations_are_404_to_members_without_a_role(
    client, organization, org_admin, member, webhook, link
):
    make_registry(organization, org_admin, "Closed", visibility="restricted")
    made = send(client, org_admin, "post", LIST, body(scope="acme/closed")).json()
    response = send(client, member, "get", url_of(made))
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        f"Nothing is at acme/automations/{made['id']}, or you may not see it."
    )
    hidden = send(client, member, "post", LIST, body(name="x", scope="acme/closed"))
    assert hidden.status_code == 404


@pytest.mark.parametrize(
    ("changes", "status", "named"),
    [
        ({"name": None}, 400, "'name' must be a string"),
        ({"name": "x" * 129}, 400, "name is at most 128 characters"),
        ({"name": "  "}, 400, "name is required"),
        ({"event": "DEPLOYED"}, 400, "'DEPLOYED' is not an event"),
        ({"scope": "acme/model/classifier/extra"}, 404, "acme/model/classifier/extra"),
        ({"scope": ""}, 400, "'scope' must be written"),
        ({"scope": 5}, 400, "'scope' must be written"),
        ({"scope": "globex/model"}, 400, "organization acme"),
        ({"scope": "acme/nope"}, 404, "acme/nope"),
        ({"webhook": "ci"}, 400, "<team>/<webhook name>"),
        ({"webhook": "ml/nope"}, 404, "acme/teams/ml/webhooks/nope"),
        ({"payload": "{not json"}, 400, "not valid JSON"),
        ({"payload": "[" * 100_000}, 400, "nested too deeply"),
        ({"payload": '{"x": "${SECRET}"}'}, 400, "${SECRET}"),
        ({"alias_regex": "(", "name": "r"}, 400, "does not compile"),
        ({"tag_regex": "x"}, 400, "tag regex applies to tag events only"),
        ({"rate_limit_per_hour": 0}, 400, "at least one execution an hour"),
        ({"rate_limit_per_hour": 2**31}, 400, "rate limit per hour is at most"),
        ({"rate_limit_per_hour": True}, 400, "'rate_limit_per_hour' must be a whole number"),
        ({"cooldown_seconds": -1}, 400, "cooldown is 0 seconds or more"),
        ({"cooldown_seconds": 1.5}, 400, "'cooldown_seconds' must be a whole number"),
        ({"alias": "production"}, 400, "Not a field here: alias"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(
    client, member, webhook, link, changes, status, named
):
    response = send(client, member, "post", LIST, body(**changes))
    assert response.status_code == status, response.content
    assert named in response.json()["error"]["message"]
    assert not Automation.objects.exists()


def test_required_fields_are_named(client, member, webhook):
    response = send(client, member, "post", LIST, {"name": "x"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Send event, webhook, scope too."


def test_a_webhook_of_a_team_the_caller_is_not_in_answers_as_a_missing_one(
    client, organization, webhook, link
):
    outside_ml = make_member(organization, "bob")
    seen = send(client, outside_ml, "post", LIST, body())
    absent = send(client, outside_ml, "post", LIST, body(webhook="ml/nope"))
    assert seen.status_code == absent.status_code == 404
    message = seen.json()["error"]["message"]
    assert message.replace("/ci", "/nope") == absent.json()["error"]["message"]


@pytest.mark.parametrize(
    "changes",
    [{"scope": "acme/dataset"}, {"paused": "yes"}, {"webhook": "ml/nope"}, {"id": 3}],
)
def test_bad_changes_are_refused(client, member, created, changes):
    response = send(client, member, "patch", url_of(created), changes)
    assert 400 <= response.status_code < 500 and response.json()["error"]["message"]
    assert send(client, member, "get", url_of(created)).json() == created


def test_changing_to_an_event_without_the_regex_it_needs_says_so(client, member, created):
    response = send(client, member, "patch", url_of(created), {"event": Event.LINK})
    assert response.status_code == 400
    assert "alias regex applies to alias events only" in response.json()["error"]["message"]
    ok = send(client, member, "patch", url_of(created), {"event": Event.LINK, "alias_regex": ""})
    assert ok.json()["event"] == "LINK_ARTIFACT"


# Query budgets -----------------------------------------------------------------------------
# The token, the organization with the caller's role (or the automation), what a filter names
# with the caller's grants, and the rows.
BUDGETS = [
    ("member", LIST, 4),
    ("org_admin", LIST, 4),
    ("member", f"{LIST}?registry=model&limit=2", 6),
    ("member", f"{LIST}?registry=model&collection=classifier", 6),
    ("member", "{history}executions/", 5),
    ("member", "{history}executions/?status=pending&limit=2", 5),
]


@pytest.fixture
def grow(organization, org_admin, member, webhook, make_automation, link, models_registry):
    """Each call adds, `n` times: an automation on Models, one on the classifier, one on a
    registry of the member's own, one on a registry closed to them and one organization-wide,
    and an alias that records executions of the first (and of the others on Models)."""
    first = make_automation(name="first", registry=models_registry)

    def more(n: int) -> Automation:
        for _ in range(n):
            make_automation(registry=models_registry)
            make_automation(collection=link.collection)
            make_automation(registry=make_registry(organization, member))
            closed = make_registry(organization, org_admin, visibility="restricted")
            for scope in ({"registry": closed}, {}):
                services.create_automation(
                    actor=org_admin,
                    organization=organization,
                    name=f"admin {Automation.objects.count()}",
                    event=Event.LINK,
                    webhook=webhook,
                    payload=PAYLOAD,
                    **scope,
                )
            set_alias(actor=member, link=link, name=f"a{Execution.objects.count()}")
        return first

    return more


@pytest.mark.parametrize(("who", "path", "budget"), BUDGETS)
def test_each_list_has_a_fixed_query_budget(request, grow, who, path, budget):
    client = Client(headers=headers_for(request.getfixturevalue(who)))
    first = grow(2)
    path = path.format(history=url_of(first))
    client.get(path)  # the first call records the token's use
    small = read(client, path)
    grow(6)
    grown = read(client, path)
    assert (small.status, grown.status) == (200, 200), (small.content, grown.content)
    assert (small.queries, grown.queries) == (budget, budget)
