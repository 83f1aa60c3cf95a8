from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Collection, Star
from apps.registries.services import (
    add_collection_tags,
    add_protected_alias,
    add_version_tags,
    create_collection,
    delete_collection,
    remove_collection_tag,
    remove_version_tag,
    set_alias,
    star,
    unstar,
    update_collection_description,
)
from tests.factories import make_link, make_version


def new_collection(registry, actor, name="classifier", **kwargs):
    kwargs.setdefault("artifact_type", "model")
    return create_collection(actor=actor, registry=registry, name=name, **kwargs)


def test_it_creates_a_collection_with_tags(models_registry, member):
    collection = new_collection(models_registry, member, tags=["vision", "vision", "cnn v2"])
    assert collection.artifact_type == "model"
    assert list(collection.tags.values_list("name", flat=True)) == ["cnn v2", "vision"]
    actions = list(AuditEvent.objects.values_list("action", flat=True).order_by("id"))
    assert actions.count(AuditAction.COLLECTION_TAG_ADD) == 2


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "required"),
        ("a/b", "invalid_character"),
        ("a:b", "invalid_character"),
        (".", "dot_segment"),
        ("..", "dot_segment"),
        ("x" * 129, "too_long"),
    ],
)
def test_it_refuses_bad_names(models_registry, member, name, code):
    with pytest.raises(ValidationError) as caught:
        new_collection(models_registry, member, name)
    assert caught.value.code == code


def test_names_are_unique_in_a_registry(models_registry, datasets_registry, member):
    new_collection(models_registry, member)
    with pytest.raises(ValidationError, match="already has a collection"):
        new_collection(models_registry, member)
    assert new_collection(datasets_registry, member, artifact_type="dataset")


def test_the_type_must_be_accepted(models_registry, member):
    with pytest.raises(ValidationError) as caught:
        new_collection(models_registry, member, artifact_type="dataset")
    assert caught.value.code == "type_not_accepted" and "'dataset'" in caught.value.message


@pytest.mark.parametrize("tag", ["", "a,b", "tab\there", "x" * 65, "two  ", "dots.no"])
def test_bad_tags_are_refused_and_nothing_is_made(models_registry, member, tag):
    with pytest.raises(ValidationError):
        new_collection(models_registry, member, tags=["fine", tag])
    assert not Collection.objects.exists()


def test_tags_added_and_removed(models_registry, member):
    collection = new_collection(models_registry, member)
    assert add_collection_tags(actor=member, collection=collection, tags=["a", "b"]) == ["a", "b"]
    assert add_collection_tags(actor=member, collection=collection, tags=["b", "c"]) == ["c"]
    remove_collection_tag(actor=member, collection=collection, tag="a")
    assert list(collection.tags.values_list("name", flat=True)) == ["b", "c"]


def test_version_tags_live_on_the_source_and_show_through_every_link(
    project, member, models_registry, organization
):
    from tests.factories import make_registry

    version = make_version(project, member)
    first = make_link(version, models_registry, member, "one")
    second = make_link(version, make_registry(organization, member, "Other"), member, "two")
    add_version_tags(actor=member, link=first, tags=["reviewed"])
    assert list(second.version.tags.values_list("name", flat=True)) == ["reviewed"]
    remove_version_tag(actor=member, link=second, tag="reviewed")
    assert not version.tags.exists()


def test_viewers_cannot_edit(models_registry, member, viewer):
    collection = new_collection(models_registry, member)
    with pytest.raises(PermissionDenied):
        add_collection_tags(actor=viewer, collection=collection, tags=["x"])
    with pytest.raises(PermissionDenied):
        update_collection_description(actor=viewer, collection=collection, description="x")
    with pytest.raises(PermissionDenied):
        new_collection(models_registry, viewer, "other")


def test_description_changes_are_audited(models_registry, member):
    collection = new_collection(models_registry, member)
    update_collection_description(actor=member, collection=collection, description="# Card")
    collection.refresh_from_db()
    assert collection.description == "# Card"
    assert AuditEvent.objects.filter(action=AuditAction.COLLECTION_UPDATE).count() == 1


def test_a_collection_holding_a_protected_alias_is_an_admins_to_delete(
    project, member, org_admin, models_registry
):
    link = make_link(make_version(project, member), models_registry, member)
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    set_alias(actor=org_admin, link=link, name="production")
    with pytest.raises(PermissionDenied, match="protected alias"):
        delete_collection(actor=member, collection=link.collection)
    delete_collection(actor=org_admin, collection=link.collection)
    assert not Collection.objects.exists()
    assert link.version.__class__.objects.filter(pk=link.version_id).exists()


def test_a_member_deletes_an_ordinary_collection(models_registry, member):
    collection = new_collection(models_registry, member)
    delete_collection(actor=member, collection=collection)
    assert AuditEvent.objects.filter(action=AuditAction.COLLECTION_DELETE).exists()


def test_star_and_unstar_are_idempotent(models_registry, viewer):
    star(actor=viewer, registry=models_registry)
    star(actor=viewer, registry=models_registry)
    assert Star.objects.filter(user=viewer).count() == 1
    unstar(actor=viewer, registry=models_registry)
    unstar(actor=viewer, registry=models_registry)
    assert not Star.objects.exists()
    stars = AuditEvent.objects.filter(
        action__in=[AuditAction.REGISTRY_STAR, AuditAction.REGISTRY_UNSTAR]
    )
    assert stars.count() == 2
