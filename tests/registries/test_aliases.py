from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Alias
from apps.registries.services import add_protected_alias, remove_alias, set_alias
from tests.factories import make_link, make_version


@pytest.fixture
def links(project, member, models_registry):
    """Three versions linked into Models/classifier: v0, v1, v2 (latest)."""
    return [make_link(make_version(project, member), models_registry, member) for _ in range(3)]


def holder(links, name):
    return Alias.objects.get(collection=links[0].collection, name=name).link.label


def test_setting_an_alias_adds_it_once(links, member):
    set_alias(actor=member, link=links[0], name="staging")
    set_alias(actor=member, link=links[0], name="staging")
    assert holder(links, "staging") == "v0"
    assert (
        AuditEvent.objects.filter(action=AuditAction.ALIAS_ADD, data__alias="staging").count() == 1
    )


def test_setting_a_held_alias_moves_it(links, member):
    set_alias(actor=member, link=links[0], name="staging")
    set_alias(actor=member, link=links[1], name="staging")
    assert holder(links, "staging") == "v1"
    assert not links[0].aliases.filter(name="staging").exists()


@pytest.mark.parametrize("name", ["latest", "v0", "v12", "a/b", "a:b", "x" * 129, " padded"])
def test_it_refuses_reserved_and_malformed_names(links, member, name):
    with pytest.raises(ValidationError):
        set_alias(actor=member, link=links[0], name=name)


def test_latest_cannot_be_removed(links, member):
    with pytest.raises(ValidationError, match="newest version"):
        remove_alias(actor=member, link=links[2], name="latest")


def test_removing_an_alias_is_audited(links, member):
    set_alias(actor=member, link=links[0], name="staging")
    remove_alias(actor=member, link=links[0], name="staging")
    assert not Alias.objects.filter(name="staging").exists()
    event = AuditEvent.objects.get(action=AuditAction.ALIAS_REMOVE)
    assert event.target == "acme/model/classifier:v0" and event.data == {"alias": "staging"}


def test_removing_an_alias_the_version_lacks_says_so(links, member):
    with pytest.raises(ValidationError, match="no alias 'nope'"):
        remove_alias(actor=member, link=links[0], name="nope")


def test_only_registry_admins_put_on_or_take_off_a_protected_alias(
    links, member, org_admin, models_registry
):
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    with pytest.raises(PermissionDenied, match=r"admin role .* because of a protected alias"):
        set_alias(actor=member, link=links[1], name="production")
    set_alias(actor=org_admin, link=links[1], name="production")
    with pytest.raises(PermissionDenied):
        set_alias(actor=member, link=links[2], name="production")
    with pytest.raises(PermissionDenied):
        remove_alias(actor=member, link=links[1], name="production")
    assert holder(links, "production") == "v1"
    remove_alias(actor=org_admin, link=links[1], name="production")
    assert not Alias.objects.filter(name="production").exists()


def test_linking_with_a_protected_alias_needs_an_admin(project, member, org_admin, models_registry):
    add_protected_alias(actor=org_admin, registry=models_registry, name="production")
    version = make_version(project, member)
    with pytest.raises(PermissionDenied):
        make_link(version, models_registry, member, aliases=["production"])
    assert not models_registry.collections.exists()
    link = make_link(version, models_registry, org_admin, aliases=["production"])
    assert link.aliases.filter(name="production").exists()


def test_a_viewer_cannot_set_aliases(links, viewer):
    with pytest.raises(PermissionDenied, match="member role"):
        set_alias(actor=viewer, link=links[0], name="staging")


def test_only_admins_keep_the_protected_list(models_registry, member):
    with pytest.raises(PermissionDenied, match="admin role"):
        add_protected_alias(actor=member, registry=models_registry, name="production")
