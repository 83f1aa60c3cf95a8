from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AppendOnlyError, AuditAction, AuditEvent


@pytest.fixture
def event(organization, org_admin):
    return AuditEvent.record(
        AuditAction.REGISTRY_UPDATE, organization=organization, actor=org_admin, target="acme/x"
    )


def test_it_keeps_who_did_what_and_where(event, org_admin):
    assert event.actor == org_admin and event.actor_name == "olivia"
    assert event.target == "acme/x" and event.created_at is not None


def test_an_event_cannot_be_saved_again(event):
    event.target = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(target="rewritten")
    assert AuditEvent.objects.filter(pk=event.pk, target="acme/x").exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE lineage_auditevent SET target = 'rewritten'",
        "DELETE FROM lineage_auditevent",
    ],
)
def test_the_database_refuses_raw_changes(event, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.filter(pk=event.pk, target="acme/x").exists()


def test_an_event_outlives_its_actor(event, org_admin):
    org_admin.delete()
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.actor_name == "olivia"
