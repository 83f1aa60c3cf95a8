"""/metrics: for operators only; requests, the task queue and blob bytes are counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apps.legacy.tasks import migrate_legacy_team
from tests.factories import make_link, make_user, make_version

TOKEN = "metrics-token-for-tests"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Bearer {TOKEN}x", TOKEN, f"Token {TOKEN}"],
)
def test_everyone_else_is_told_there_is_nothing(client, db, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    assert client.get("/metrics", headers=headers).status_code == 404


def test_signed_in_people_who_are_not_staff_get_nothing(client, org_admin):
    client.force_login(org_admin)
    assert client.get("/metrics").status_code == 404


def test_staff_may_read_them(client, db):
    client.force_login(make_user("operator", is_staff=True))
    assert client.get("/metrics").status_code == 200


def test_without_a_configured_token_no_bearer_opens_them(client, db, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


def requests_counted(samples, route: str, status: str) -> float:
    return sample(
        samples, "registry_request_duration_seconds_count", route=route, method="GET", status=status
    )


def test_a_request_is_recorded_under_its_route(client, member):
    route = "orgs/<slug:org>/registry/<str:registry>/"
    before = scrape(client)
    client.force_login(member)
    assert client.get("/orgs/acme/registry/model/").status_code == 200
    client.get("/no/such/page/")
    after = scrape(client)
    assert requests_counted(after, route, "2xx") == requests_counted(before, route, "2xx") + 1
    assert requests_counted(after, "unmatched", "4xx") >= 1


def test_the_queue_counts_ready_tasks_and_the_age_of_the_oldest(client, team):
    migrate_legacy_team.enqueue(team_id=team.pk)
    # Scheduled for later: not ready, so neither counted nor aged.
    migrate_legacy_team.using(run_after=timezone.now() + timedelta(hours=1)).enqueue(team_id=0)
    samples = scrape(client)
    assert sample(samples, "registry_task_queue_ready", queue="default") == 1
    assert sample(samples, "registry_task_queue_oldest_ready_age_seconds", queue="default") > 0


def test_an_empty_queue_reads_zero(client, db):
    samples = scrape(client)
    assert samples[("registry_task_queue_ready", frozenset({("queue", "default")}))] == 0


def test_blob_bytes_through_the_app_are_counted(client, project, member, models_registry):
    before = scrape(client)
    data = b"0123456789" * 100
    version = make_version(project, member, files={"weights.bin": data})  # stored by the app
    make_link(version, models_registry, member, "classifier")
    client.force_login(member)
    path = "/orgs/acme/registry/model/classifier/v0/files/weights.bin"
    assert client.get(path).status_code == 200
    assert client.get(path, headers={"Range": "bytes=0-99"}).status_code == 206
    after = scrape(client)
    received = "registry_blob_received_bytes_total"
    sent = "registry_blob_sent_bytes_total"
    assert sample(after, received) - sample(before, received) == len(data)
    assert sample(after, sent) - sample(before, sent) == len(data) + 100
