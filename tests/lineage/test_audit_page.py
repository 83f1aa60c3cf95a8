"""The organization's audit log page: who may read it, its filters, pages and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditAction, AuditEvent
from apps.lineage import views
from apps.registries import services
from tests.factories import make_link, make_version

AUDIT = "/orgs/acme/audit/"
# What happened to the `images` collection, newest first: linking it made it and set `latest`.
IMAGES_EVENTS = [
    AuditAction.DOWNLOAD,
    AuditAction.ALIAS_ADD,
    AuditAction.LINK,
    AuditAction.COLLECTION_CREATE,
]


@pytest.fixture
def history(project, member, org_admin, models_registry, datasets_registry):
    """Links in two registries, an alias set by the admin, and a download."""
    model = make_link(make_version(project, member, "resnet"), models_registry, member)
    data = make_link(
        make_version(project, member, "images", "dataset"), datasets_registry, member, "images"
    )
    services.set_alias(actor=org_admin, link=model, name="staging")
    services.record_download(actor=member, link=data, path="labels.csv")
    return {"model": model, "data": data}


def test_only_organization_admins_read_it(client, history, org_admin, member, viewer, outsider):
    client.force_login(org_admin)
    assert client.get(AUDIT).status_code == 200
    for user in (member, viewer):
        client.force_login(user)
        response = client.get(AUDIT)
        assert response.status_code == 403 and b"needs the admin role" in response.content
    client.force_login(outsider)
    assert client.get(AUDIT).status_code == 404


def actions(response) -> list[str]:
    return [event.action for event in response.context["events"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"actor": "olivia"}, [AuditAction.ALIAS_ADD]),
        ({"collection": "images"}, IMAGES_EVENTS),
        ({"action": AuditAction.DOWNLOAD}, [AuditAction.DOWNLOAD]),
    ],
)
def test_filters_narrow_the_log(client, history, org_admin, filters, expected):
    client.force_login(org_admin)
    assert actions(client.get(AUDIT, filters)) == expected


def test_the_registry_filter(client, history, org_admin, datasets_registry):
    client.force_login(org_admin)
    response = client.get(AUDIT, {"registry": datasets_registry.pk})
    assert actions(response) == IMAGES_EVENTS


def test_the_date_range_includes_its_last_day(client, history, org_admin):
    client.force_login(org_admin)
    today = timezone.localdate()
    assert len(actions(client.get(AUDIT, {"since": today, "until": today}))) >= 4
    yesterday = today - timedelta(days=1)
    assert actions(client.get(AUDIT, {"until": yesterday})) == []


def test_a_backwards_date_range_says_what_to_fix(client, history, org_admin):
    client.force_login(org_admin)
    today = timezone.localdate()
    response = client.get(AUDIT, {"since": today, "until": today - timedelta(days=2)})
    assert response.status_code == 200 and actions(response) == []
    assert b"The first day comes after the last; swap them." in response.content


def test_pages_follow_the_keyset(client, org_admin, organization):
    for i in range(views.EVENTS_PER_PAGE + 3):
        AuditEvent.record(
            AuditAction.REGISTRY_UPDATE, organization=organization, actor=org_admin, target=f"t{i}"
        )
    client.force_login(org_admin)
    first = client.get(AUDIT)
    assert len(first.context["events"]) == views.EVENTS_PER_PAGE
    rest = client.get(f"{AUDIT}?{first.context['pager']['next_query']}")
    seen = {e.pk for e in first.context["events"]} | {e.pk for e in rest.context["events"]}
    assert seen == set(
        AuditEvent.objects.filter(organization=organization).values_list("pk", flat=True)
    )
    assert rest.context["pager"]["next_query"] is None


def test_the_csv_export_holds_every_filtered_row(client, history, org_admin):
    client.force_login(org_admin)
    response = client.get(AUDIT, {"collection": "images", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="acme-audit-log.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == IMAGES_EVENTS
    assert rows[0]["actor"] == "maria" and rows[0]["details"] == "path=labels.csv"
    assert rows[0]["target"] == "acme/dataset/images:v0"


def test_csv_cells_never_start_a_formula(client, org_admin, organization):
    AuditEvent.record(
        AuditAction.REGISTRY_UPDATE, organization=organization, actor=org_admin, target="=1+1"
    )
    client.force_login(org_admin)
    body = b"".join(client.get(AUDIT, {"format": "csv"}).streaming_content).decode()
    assert ",'=1+1," in body
