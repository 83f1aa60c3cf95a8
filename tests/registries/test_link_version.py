from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Alias, Collection
from apps.registries.services import link_version
from tests.factories import make_link, make_version


def aliases_by_link(collection: Collection) -> dict[str, str]:
    return {a.name: a.link.label for a in Alias.objects.filter(collection=collection)}


def test_it_creates_the_collection_with_the_versions_type(project, member, models_registry):
    version = make_version(project, member)
    link = make_link(version, models_registry, member, "classifier")
    assert link.number == 0
    assert link.collection.artifact_type == "model"
    assert link.collection.created_by == member
    assert aliases_by_link(link.collection) == {"latest": "v0"}


def test_it_numbers_links_per_collection_and_moves_latest(project, member, models_registry):
    links = [make_link(make_version(project, member), models_registry, member) for _ in range(3)]
    assert [link.number for link in links] == [0, 1, 2]
    assert aliases_by_link(links[0].collection) == {"latest": "v2"}


def test_relinking_is_idempotent_and_merges_aliases(project, member, models_registry):
    version = make_version(project, member)
    first = make_link(version, models_registry, member, aliases=["staging"])
    again = make_link(version, models_registry, member, aliases=["staging", "candidate"])
    assert again.pk == first.pk
    assert aliases_by_link(first.collection) == {
        "latest": "v0",
        "staging": "v0",
        "candidate": "v0",
    }
    assert first.collection.links.count() == 1


def test_an_alias_held_elsewhere_moves_and_is_audited(project, member, models_registry):
    v0 = make_link(make_version(project, member), models_registry, member, aliases=["staging"])
    make_link(make_version(project, member), models_registry, member, aliases=["staging"])
    assert aliases_by_link(v0.collection)["staging"] == "v1"
    move = AuditEvent.objects.get(action=AuditAction.ALIAS_MOVE, data__alias="staging")
    assert move.data["from_version"] == "v0"
    assert move.data["to_version"] == "v1"
    assert move.actor == member


def test_it_refuses_a_type_the_collection_does_not_hold(project, member, org_admin, organization):
    from tests.factories import make_registry

    registry = make_registry(organization, org_admin, "Everything")
    make_link(make_version(project, member), registry, member, "thing")
    dataset = make_version(project, member, name="data", artifact_type="dataset")
    with pytest.raises(ValidationError) as caught:
        make_link(dataset, registry, member, "thing")
    assert "'model'" in caught.value.message and "'dataset'" in caught.value.message
    assert caught.value.code == "type_mismatch"


def test_it_refuses_a_type_the_registry_does_not_accept(project, member, models_registry):
    dataset = make_version(project, member, name="data", artifact_type="dataset")
    with pytest.raises(ValidationError) as caught:
        make_link(dataset, models_registry, member, "data")
    assert caught.value.code == "type_not_accepted"
    assert not models_registry.collections.exists()


def test_a_viewer_may_not_link(project, member, viewer, models_registry):
    version = make_version(project, member)
    with pytest.raises(PermissionDenied, match="member role"):
        link_version(actor=viewer, version=version, registry=models_registry, collection_name="c")


def test_an_outsider_gets_not_found(project, member, outsider, models_registry):
    version = make_version(project, member)
    with pytest.raises(Http404):
        link_version(actor=outsider, version=version, registry=models_registry, collection_name="c")


@pytest.mark.parametrize("alias", ["latest", "v3", "a/b", "a:b", ""])
def test_it_refuses_reserved_and_malformed_aliases(project, member, models_registry, alias):
    version = make_version(project, member)
    with pytest.raises(ValidationError):
        make_link(version, models_registry, member, aliases=[alias])
    assert not Collection.objects.exists()
