"""The database itself refuses what the rules forbid, whatever code writes the row."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from apps.accounts.models import Visibility
from apps.artifacts.models import ArtifactVersion, VersionState, VersionTag
from apps.registries.models import Alias, CollectionTag, ProtectedAlias, Registry, RegistryGrant
from tests.factories import make_link, make_version


def refused(make_row) -> bool:
    try:
        with transaction.atomic():
            make_row()
    except IntegrityError:
        return True
    return False


def test_a_collection_has_one_latest(project, member, models_registry):
    first = make_link(make_version(project, member), models_registry, member)
    second = make_link(make_version(project, member), models_registry, member)
    assert refused(
        lambda: Alias.objects.create(collection=first.collection, link=first, name="latest")
    )
    assert Alias.objects.get(name="latest").link == second


@pytest.mark.parametrize("name", ["v1", "a/b", "a:b", ""])
def test_alias_names(project, member, models_registry, name):
    link = make_link(make_version(project, member), models_registry, member)
    assert refused(lambda: Alias.objects.create(collection=link.collection, link=link, name=name))


def test_core_registries_stay_organization_visible(models_registry):
    models_registry.visibility = Visibility.RESTRICTED
    assert refused(models_registry.save)


@pytest.mark.parametrize("name", ["a/b", "a#b", "a%b", "a\nb", ""])
def test_registry_names(organization, name):
    assert refused(lambda: Registry.objects.create(organization=organization, name=name, slug="x"))


def test_a_grant_names_one_user_or_one_team(models_registry, member):
    assert refused(lambda: RegistryGrant.objects.create(registry=models_registry, role="member"))


def test_tags_follow_the_tag_format(project, member, models_registry):
    link = make_link(make_version(project, member), models_registry, member)
    assert refused(lambda: CollectionTag.objects.create(collection=link.collection, name="a,b"))
    assert refused(lambda: VersionTag.objects.create(version=link.version, name="  "))


def test_protected_aliases_follow_alias_rules(models_registry):
    for name in ("latest", "v2", "a:b"):
        assert refused(
            lambda n=name: ProtectedAlias.objects.create(registry=models_registry, name=n)
        )


def test_a_committed_version_has_a_number_and_digest(project, member):
    version = make_version(project, member)
    assert refused(
        lambda: ArtifactVersion.objects.create(
            artifact=version.artifact, state=VersionState.COMMITTED, number=None
        )
    )
    assert refused(
        lambda: ArtifactVersion.objects.create(
            artifact=version.artifact, state=VersionState.COMMITTED, number=version.number
        )
    )
