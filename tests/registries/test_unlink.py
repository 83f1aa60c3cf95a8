from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.artifacts.models import ArtifactVersion
from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Alias
from apps.registries.services import add_protected_alias, set_alias, unlink
from tests.factories import make_link, make_version


@pytest.fixture
def links(project, member, models_registry):
    return [make_link(make_version(project, member), models_registry, member) for _ in range(3)]


def aliases(collection):
    return {a.name: a.link.label for a in Alias.objects.filter(collection=collection)}


def test_unlinking_hides_the_link_keeps_its_row_and_the_source(links, member):
    set_alias(actor=member, link=links[1], name="staging")
    unlink(actor=member, link=links[1])
    links[1].refresh_from_db()
    assert links[1].unlinked_at is not None and links[1].unlinked_by == member
    assert list(links[0].collection.links.live().values_list("number", flat=True)) == [2, 0]
    assert "staging" not in aliases(links[0].collection)
    assert ArtifactVersion.objects.filter(pk=links[1].version_id).exists()
    event = AuditEvent.objects.get(action=AuditAction.UNLINK)
    assert event.data["removed_aliases"] == ["staging"]


def test_latest_moves_back_when_the_newest_is_unlinked(links, member):
    unlink(actor=member, link=links[2])
    assert aliases(links[0].collection) == {"latest": "v1"}


def test_unlinking_the_newest_records_the_move_of_latest(links, member):
    unlink(actor=member, link=links[2])
    move = AuditEvent.objects.filter(action=AuditAction.ALIAS_MOVE).latest("id")
    assert move.data == {"alias": "latest", "from_version": "v2", "to_version": "v1"}
    assert move.target == "acme/model/classifier:v1" and move.actor == member


def test_unlinking_an_older_version_leaves_latest_where_it_is(links, member):
    moves = AuditEvent.objects.filter(action=AuditAction.ALIAS_MOVE)
    before = moves.count()
    unlink(actor=member, link=links[0])
    assert aliases(links[0].collection) == {"latest": "v2"}
    assert moves.count() == before


def test_numbers_are_never_reused(links, member, project, models_registry):
    unlink(actor=member, link=links[2])
    again = make_link(links[2].version, models_registry, member)
    assert again.number == 3 and again.pk != links[2].pk


def test_unlinking_twice_is_harmless(links, member):
    unlink(actor=member, link=links[0])
    unlink(actor=member, link=links[0])
    assert AuditEvent.objects.filter(action=AuditAction.UNLINK).count() == 1


def test_a_protected_version_can_only_be_unlinked_by_an_admin(
    links, member, org_admin, models_registry
):
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    set_alias(actor=org_admin, link=links[0], name="production")
    with pytest.raises(PermissionDenied, match="protected alias"):
        unlink(actor=member, link=links[0])
    links[0].refresh_from_db()
    assert links[0].is_live
    unlink(actor=org_admin, link=links[0])


def test_a_viewer_cannot_unlink(links, viewer):
    with pytest.raises(PermissionDenied):
        unlink(actor=viewer, link=links[0])
