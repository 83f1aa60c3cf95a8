from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from apps.accounts.models import RegistryRole, Visibility
from apps.accounts.policy import effective_role
from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Registry
from apps.registries.services import create_registry, delete_registry
from tests.factories import make_link, make_registry, make_version


def test_an_organization_starts_with_models_and_datasets(organization):
    core = {r.slug: r for r in organization.registries.all()}
    assert set(core) == {"model", "dataset"}
    assert core["model"].is_core and core["model"].accepted_type_names() == ["model"]
    assert core["dataset"].accepted_type_names() == ["dataset"]
    assert all(r.visibility == Visibility.ORGANIZATION for r in core.values())


def test_a_registry_without_types_accepts_all(organization, member):
    registry = make_registry(organization, member, "Fine-tuned Models")
    assert registry.slug == "fine-tuned-models"
    assert registry.accepts_all_types and registry.accepts("anything")
    event = AuditEvent.objects.get(action=AuditAction.REGISTRY_CREATE)
    assert event.target == "acme/fine-tuned-models" and event.actor == member


def test_listed_types_are_the_only_ones_accepted(organization, member):
    registry = make_registry(organization, member, "Evals", artifact_types=["eval", "eval"])
    assert registry.accepted_type_names() == ["eval"]
    assert not registry.accepts("model")


@pytest.mark.parametrize("visibility", Visibility.values)
def test_the_creator_becomes_its_admin(organization, member, viewer, visibility):
    registry = make_registry(organization, member, "Mine", visibility=visibility)
    assert effective_role(member, registry) == RegistryRole.ADMIN
    expected = RegistryRole.VIEWER if visibility == Visibility.ORGANIZATION else None
    assert effective_role(viewer, registry) == expected


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "required"),
        ("x" * 114, "too_long"),
        ("a/b", "invalid_character"),
        ("a\\b", "invalid_character"),
        ("a#b", "invalid_character"),
        ("a?b", "invalid_character"),
        ("a%b", "invalid_character"),
        ("a:b", "invalid_character"),
        ("a\nb", "invalid_character"),
        ("models", "duplicate_name"),
        ("MODELS", "duplicate_name"),
        ("!!!", "invalid_name"),
    ],
)
def test_it_refuses_bad_names(organization, member, name, code):
    with pytest.raises(ValidationError) as caught:
        create_registry(actor=member, organization=organization, name=name)
    assert caught.value.code == code
    assert organization.registries.count() == 2


def test_a_name_of_113_characters_with_spaces_is_fine(organization, member):
    assert make_registry(organization, member, "Golden " + "x" * 106).name.startswith("Golden")


def test_a_second_registry_with_the_same_slug_is_refused(organization, member):
    make_registry(organization, member, "Golden Datasets")
    with pytest.raises(ValidationError, match="Golden Datasets"):
        make_registry(organization, member, "golden-datasets")


def test_a_bad_visibility_is_refused(organization, member):
    with pytest.raises(ValidationError, match="organization or restricted"):
        make_registry(organization, member, "X", visibility="public")


def test_organization_viewers_and_outsiders_cannot_create(organization, viewer, outsider):
    with pytest.raises(PermissionDenied, match="member or admin role"):
        make_registry(organization, viewer, "X")
    with pytest.raises(Http404):
        create_registry(actor=outsider, organization=organization, name="X")


def test_deleting_a_registry_keeps_source_versions(organization, member, org_admin, project):
    registry = make_registry(organization, member, "Scratch")
    link = make_link(make_version(project, member), registry, member)
    delete_registry(actor=member, registry=registry)
    assert not Registry.objects.filter(pk=registry.pk).exists()
    link.version.refresh_from_db()
    assert AuditEvent.objects.filter(action=AuditAction.REGISTRY_DELETE).exists()


def test_core_registries_cannot_be_deleted(org_admin, models_registry):
    with pytest.raises(PermissionDenied, match="core registries"):
        delete_registry(actor=org_admin, registry=models_registry)


def test_only_the_creator_or_an_organization_admin_deletes(organization, member, org_admin):
    from apps.registries.services import set_grant
    from tests.factories import make_member

    other_admin = make_member(organization, "ada")
    registry = make_registry(organization, member, "Mine")
    set_grant(actor=org_admin, registry=registry, role=RegistryRole.ADMIN, user=other_admin)
    with pytest.raises(PermissionDenied, match="created it"):
        delete_registry(actor=other_admin, registry=registry)
    delete_registry(actor=org_admin, registry=registry)
