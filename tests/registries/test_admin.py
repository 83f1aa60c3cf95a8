from __future__ import annotations

import pytest

from apps.accounts.models import Visibility
from apps.audit.models import AuditAction, AuditEvent
from apps.registries.models import Registry, RegistryArtifactType, RegistryGrant
from tests.factories import make_link, make_registry, make_user, make_version


def inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict[str, int]:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def registry_post(registry: Registry, **extra) -> dict:
    """The change form of a registry as the admin renders it, with empty inlines."""
    data = {
        "name": registry.name,
        "description": registry.description,
        "visibility": registry.visibility,
        "baseline_role": registry.baseline_role,
        "accepts_all_types": "on" if registry.accepts_all_types else "",
        **inline_management("grants"),
        **inline_management("accepted_types"),
        **inline_management("protected_aliases"),
    }
    data.update(extra)
    return data


@pytest.fixture
def custom(organization, org_admin):
    return make_registry(organization, org_admin, "Scratch")


@pytest.mark.parametrize(
    "path",
    [
        "registries/registry/",
        "registries/collection/",
        "artifacts/project/",
        "artifacts/artifact/",
        "artifacts/artifactversion/",
        "artifacts/blob/",
        "lineage/run/",
        "audit/auditevent/",
        "accounts/organization/",
        "accounts/team/",
        "accounts/user/",
    ],
)
def test_every_changelist_renders(admin_client, project, member, models_registry, path):
    make_link(make_version(project, member), models_registry, member)
    assert admin_client.get(f"/admin/{path}").status_code == 200


def test_change_pages_render(admin_client, project, member, models_registry):
    link = make_link(make_version(project, member), models_registry, member)
    for url in [
        f"/admin/registries/registry/{models_registry.pk}/change/",
        f"/admin/registries/collection/{link.collection_id}/change/",
        f"/admin/artifacts/artifactversion/{link.version_id}/change/",
        f"/admin/audit/auditevent/{AuditEvent.objects.first().pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_a_core_registry_cannot_be_deleted(admin_client, models_registry):
    response = admin_client.post(
        f"/admin/registries/registry/{models_registry.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Registry.objects.filter(pk=models_registry.pk).exists()


def test_there_is_no_bulk_delete(admin_client, models_registry, custom):
    response = admin_client.post(
        "/admin/registries/registry/",
        {"action": "delete_selected", "_selected_action": [models_registry.pk, custom.pk]},
    )
    assert Registry.objects.filter(pk__in=[models_registry.pk, custom.pk]).count() == 2
    assert response.status_code in (200, 302)


def test_a_core_registrys_name_and_visibility_are_fixed(admin_client, models_registry):
    data = registry_post(models_registry, name="Renamed", visibility=Visibility.RESTRICTED)
    admin_client.post(f"/admin/registries/registry/{models_registry.pk}/change/", data)
    models_registry.refresh_from_db()
    assert (models_registry.name, models_registry.visibility) == ("Models", "organization")


def test_all_types_never_turns_back_into_a_list(admin_client, custom, organization):
    data = registry_post(custom, accepts_all_types="")
    admin_client.post(f"/admin/registries/registry/{custom.pk}/change/", data)
    custom.refresh_from_db()
    assert custom.accepts_all_types


def test_a_registry_never_moves_to_another_organization(admin_client, custom, outsider):
    other = outsider.organization_memberships.get().organization
    data = registry_post(custom, organization=other.pk, slug="moved")
    admin_client.post(f"/admin/registries/registry/{custom.pk}/change/", data)
    custom.refresh_from_db()
    assert (custom.organization.slug, custom.slug) == ("acme", "scratch")


def test_deleting_a_custom_registry_is_audited(admin_client, custom):
    response = admin_client.post(f"/admin/registries/registry/{custom.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Registry.objects.filter(pk=custom.pk).exists()
    event = AuditEvent.objects.get(action=AuditAction.REGISTRY_DELETE)
    assert event.actor.username == "admin" and event.data["via"] == "admin"


def post_grant(admin_client, registry: Registry, user, role: str):
    """Submit the registry's change form adding one user grant beside the creator's."""
    creator = registry.grants.get()
    data = registry_post(
        registry,
        **inline_management("grants", total=2, initial=1),
        **{
            "grants-0-id": creator.pk,
            "grants-0-registry": registry.pk,
            "grants-0-user": creator.user_id,
            "grants-0-role": creator.role,
            "grants-1-registry": registry.pk,
            "grants-1-user": user.pk,
            "grants-1-role": role,
        },
    )
    return admin_client.post(f"/admin/registries/registry/{registry.pk}/change/", data)


def test_a_grant_added_inline_is_audited(admin_client, custom, member):
    response = post_grant(admin_client, custom, member, "viewer")
    assert response.status_code == 302, response.context["errors"]
    assert RegistryGrant.objects.get(registry=custom, user=member).role == "viewer"
    event = AuditEvent.objects.get(action=AuditAction.GRANT_SET, data__via="admin")
    assert event.data["grantee"] == "maria" and event.data["role"] == "viewer"


def test_a_grant_to_someone_outside_the_organization_is_refused(admin_client, custom):
    stranger = make_user("stranger")
    response = post_grant(admin_client, custom, stranger, "member")
    assert response.status_code == 200
    assert "is not a member of Acme" in response.content.decode()
    assert not RegistryGrant.objects.filter(user=stranger).exists()


def test_accepted_types_only_grow(admin_client, models_registry):
    accepted = RegistryArtifactType.objects.get(registry=models_registry)
    data = registry_post(
        models_registry,
        **inline_management("accepted_types", total=2, initial=1),
        **{
            "accepted_types-0-id": accepted.pk,
            "accepted_types-0-registry": models_registry.pk,
            "accepted_types-0-name": "renamed",
            "accepted_types-0-DELETE": "on",
            "accepted_types-1-registry": models_registry.pk,
            "accepted_types-1-name": "onnx",
        },
    )
    response = admin_client.post(f"/admin/registries/registry/{models_registry.pk}/change/", data)
    assert response.status_code == 302
    assert models_registry.accepted_type_names() == ["model", "onnx"]


def test_a_protected_alias_must_be_a_valid_alias(admin_client, custom):
    data = registry_post(
        custom,
        **inline_management("protected_aliases", total=1),
        **{"protected_aliases-0-registry": custom.pk, "protected_aliases-0-name": "latest"},
    )
    response = admin_client.post(f"/admin/registries/registry/{custom.pk}/change/", data)
    assert response.status_code == 200
    assert "reserved" in response.content.decode()
    assert not custom.protected_aliases.exists()


def test_audit_events_cannot_be_changed_or_deleted(admin_client, organization):
    event = AuditEvent.objects.get(action=AuditAction.ORGANIZATION_CREATE)
    change = admin_client.get(f"/admin/audit/auditevent/{event.pk}/change/")
    assert b'name="_save"' not in change.content
    assert admin_client.post(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/audit/auditevent/add/").status_code == 403


def test_aliases_and_links_cannot_be_edited(admin_client, project, member, models_registry):
    link = make_link(make_version(project, member), models_registry, member)
    page = admin_client.get(f"/admin/registries/collection/{link.collection_id}/change/")
    html = page.content.decode()
    assert "latest" in html
    assert 'name="aliases-0-name"' not in html and 'name="links-0-number"' not in html
    assert admin_client.get("/admin/registries/alias/").status_code == 404
    response = admin_client.post(f"/admin/registries/collection/{link.collection_id}/delete/")
    assert response.status_code == 403
