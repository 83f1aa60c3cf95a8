"""A collection's and a version's history list changes; downloads stay in the audit log only."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditAction, AuditEvent
from apps.registries.services import record_download, set_alias
from apps.registries.views.shared import HISTORY_PER_PAGE
from tests.factories import make_link, make_version

COLLECTION = "/orgs/acme/registry/model/classifier/"


@pytest.fixture
def downloaded(project, member, models_registry, viewer):
    """v0 and v1, `staging` moved from v0 to v1, then v1 downloaded more than a page's worth."""
    first = make_link(make_version(project, member), models_registry, member)
    second = make_link(make_version(project, member), models_registry, member)
    set_alias(actor=member, link=first, name="staging")
    set_alias(actor=member, link=second, name="staging")
    for index in range(HISTORY_PER_PAGE + 5):
        record_download(actor=viewer, link=second, path="weights.bin" if index % 2 else "")
    return second


def actions(events) -> list[str]:
    return [event.action for event in events]


def test_the_collection_page_shows_the_move_not_the_downloads(client, member, downloaded):
    client.force_login(member)
    history = client.get(COLLECTION).context["history"]
    assert AuditAction.DOWNLOAD not in actions(history)
    assert AuditAction.ALIAS_MOVE in actions(history)


def test_the_history_page_is_one_page_of_changes(client, member, downloaded):
    client.force_login(member)
    response = client.get(f"{COLLECTION}history/")
    shown = actions(response.context["events"])
    assert AuditAction.DOWNLOAD not in shown
    assert shown == actions(AuditEvent.objects.changes().filter(collection=downloaded.collection))
    # The downloads would have filled more than a page; the changes fit in one, so no pager.
    assert response.context["pager"]["next_query"] is None
    assert b'rel="next"' not in response.content
    assert "staging moved from v0 to v1" in response.content.decode()


def test_the_version_history_tab_leaves_out_downloads(client, member, downloaded):
    client.force_login(member)
    response = client.get(f"{COLLECTION}v1/history/")
    shown = actions(response.context["events"])
    assert AuditAction.DOWNLOAD not in shown and AuditAction.ALIAS_MOVE in shown
    assert response.context["pager"]["next_query"] is None


def test_changes_past_a_page_still_page(client, member, downloaded):
    """Pages count changes only: a page is full of them, and the next holds the rest."""
    for index in range(HISTORY_PER_PAGE):
        set_alias(actor=member, link=downloaded, name=f"mark-{index}")
    client.force_login(member)
    first = client.get(f"{COLLECTION}history/")
    assert len(first.context["events"]) == HISTORY_PER_PAGE
    rest = client.get(f"{COLLECTION}history/?{first.context['pager']['next_query']}")
    shown = actions(first.context["events"]) + actions(rest.context["events"])
    assert AuditAction.DOWNLOAD not in shown
    assert (
        len(shown) == AuditEvent.objects.changes().filter(collection=downloaded.collection).count()
    )


def test_the_audit_log_keeps_every_download(client, org_admin, downloaded):
    client.force_login(org_admin)
    response = client.get("/orgs/acme/audit/", {"action": AuditAction.DOWNLOAD})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.DOWNLOAD).count() == HISTORY_PER_PAGE + 5
    assert b"Files downloaded" in response.content
