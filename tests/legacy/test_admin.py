"""Django admin for the legacy Model Registry: browse everything; change only what no migration
copied, so the Registry never drifts from what stays behind."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.legacy import services
from apps.legacy.migration import migrate_team, migration_of
from apps.legacy.models import (
    LegacyAlias,
    LegacyEvent,
    LegacyMigration,
    LegacyModelVersion,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    MigrationStatus,
)
from tests.factories import make_legacy_model, make_version

ADMIN = "/admin/legacy"


@pytest.fixture
def classifier(team, project, member):
    """Team ml's `classifier` with v0 and v1 (staging), a tag, and `production` protected."""
    LegacyProtectedAlias.objects.create(team=team, name="production")
    LegacyRegistryAdmin.objects.create(team=team, user=member)
    return make_legacy_model(
        project, member, aliases=[[], ["staging"]], description="card", tags=["vision"]
    )


@pytest.fixture
def half_migrated(classifier, team, project, member, org_admin):
    """A failed run: `classifier` moved; `mixed` did not, for a dataset among its models."""
    mixed = services.register_model(actor=member, team=team, name="mixed")
    LegacyModelVersion.objects.create(
        registered_model=mixed,
        version=make_version(project, member, "images", "dataset"),
        number=0,
    )
    result = migrate_team(team, actor=org_admin)
    assert [name for name, _ in result.failed] == ["mixed"]
    assert migration_of(team).status == MigrationStatus.FAILED
    return mixed


def management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": total,
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }


def model_post(model: LegacyRegisteredModel, **extra) -> dict:
    """The change form of a registered model, its inlines left as they are."""
    data = {
        "name": model.name,
        "artifact_type": model.artifact_type,
        "description": model.description,
        **management("tags"),
        **management("versions"),
        **management("aliases"),
    }
    data.update(extra)
    return data


def change_url(obj) -> str:
    return f"{ADMIN}/{obj._meta.model_name}/{obj.pk}/change/"


def delete_url(obj) -> str:
    return f"{ADMIN}/{obj._meta.model_name}/{obj.pk}/delete/"


# Browsing


@pytest.mark.parametrize(
    "model",
    [
        "legacyregisteredmodel",
        "legacyprotectedalias",
        "legacyregistryadmin",
        "legacyevent",
        "legacymigration",
    ],
)
def test_every_changelist_renders(admin_client, half_migrated, model):
    response = admin_client.get(f"{ADMIN}/{model}/")
    assert response.status_code == 200
    assert "delete_selected" not in response.content.decode()


def test_a_registered_model_shows_its_versions_aliases_and_tags(admin_client, classifier):
    response = admin_client.get(change_url(classifier))
    assert response.status_code == 200
    page = response.content.decode()
    assert "staging" in page and "vision" in page and "latest" in page
    assert 'name="versions-TOTAL_FORMS"' in page and 'name="aliases-TOTAL_FORMS"' in page


def test_change_pages_of_the_records_render(admin_client, half_migrated, team):
    for obj in (LegacyEvent.objects.first(), migration_of(team)):
        assert admin_client.get(change_url(obj)).status_code == 200


# Before any migration


def test_before_migration_staff_fix_a_name_and_a_card(admin_client, classifier):
    data = model_post(classifier, name="classifier-v2", description="new card")
    response = admin_client.post(change_url(classifier), data)
    assert response.status_code == 302
    classifier.refresh_from_db()
    assert (classifier.name, classifier.description) == ("classifier-v2", "new card")


def test_a_name_the_registry_would_refuse_is_refused_here(admin_client, classifier):
    response = admin_client.post(change_url(classifier), model_post(classifier, name="a/b"))
    assert response.status_code == 200 and "may not contain" in response.content.decode()
    classifier.refresh_from_db()
    assert classifier.name == "classifier"


def test_before_migration_a_version_can_be_removed(admin_client, classifier):
    v0 = classifier.versions.get(number=0)
    data = model_post(
        classifier,
        **management("versions", total=1, initial=1),
        **{"versions-0-id": v0.pk, "versions-0-registered_model": classifier.pk},
        **{"versions-0-DELETE": "on"},
    )
    assert admin_client.post(change_url(classifier), data).status_code == 302
    assert list(classifier.versions.values_list("number", flat=True)) == [1]


def test_an_alias_is_renamed_only_to_a_name_an_alias_may_have(admin_client, classifier):
    staging = LegacyAlias.objects.get(name="staging")

    def rename(name: str):
        data = model_post(
            classifier,
            **management("aliases", total=1, initial=1),
            **{"aliases-0-id": staging.pk, "aliases-0-registered_model": classifier.pk},
            **{"aliases-0-name": name},
        )
        return admin_client.post(change_url(classifier), data)

    assert rename("v7").status_code == 200  # refused: it names a version
    staging.refresh_from_db()
    assert staging.name == "staging"
    assert rename("candidate").status_code == 302
    staging.refresh_from_db()
    assert staging.name == "candidate"


def test_registered_models_are_not_added_here(admin_client, classifier):
    assert admin_client.get(f"{ADMIN}/legacyregisteredmodel/add/").status_code == 403


def test_before_migration_a_registered_model_can_be_deleted_with_its_history(
    admin_client, classifier
):
    response = admin_client.post(delete_url(classifier), {"post": "yes"})
    assert response.status_code == 302
    assert not LegacyRegisteredModel.objects.exists() and not LegacyEvent.objects.exists()


def test_a_registry_admin_must_be_in_the_team(admin_client, team, viewer, member):
    response = admin_client.post(
        f"{ADMIN}/legacyregistryadmin/add/", {"team": team.pk, "user": viewer.pk}
    )
    assert response.status_code == 200 and "not a member of team" in response.content.decode()
    assert not LegacyRegistryAdmin.objects.exists()
    response = admin_client.post(
        f"{ADMIN}/legacyregistryadmin/add/", {"team": team.pk, "user": member.pk}
    )
    assert response.status_code == 302 and LegacyRegistryAdmin.objects.filter(user=member).exists()


def test_a_protected_alias_must_be_a_valid_alias(admin_client, team):
    response = admin_client.post(
        f"{ADMIN}/legacyprotectedalias/add/", {"team": team.pk, "name": "v1"}
    )
    assert response.status_code == 200 and not LegacyProtectedAlias.objects.exists()


# Once migrated


def test_a_migrated_registered_model_is_read_only(admin_client, classifier, team, org_admin):
    migrate_team(team, actor=org_admin)
    page = admin_client.get(change_url(classifier))
    assert page.status_code == 200 and "Read-only" in page.content.decode()
    assert 'name="name"' not in page.content.decode()
    response = admin_client.post(change_url(classifier), model_post(classifier, name="renamed"))
    assert response.status_code == 403
    assert admin_client.post(delete_url(classifier), {"post": "yes"}).status_code == 403
    classifier.refresh_from_db()
    assert classifier.name == "classifier"


def test_a_migrated_teams_protected_aliases_and_admins_are_read_only(
    admin_client, classifier, team, org_admin, member
):
    migrate_team(team, actor=org_admin)
    protected = LegacyProtectedAlias.objects.get()
    registry_admin = LegacyRegistryAdmin.objects.get()
    for obj in (protected, registry_admin):
        assert admin_client.post(delete_url(obj), {"post": "yes"}).status_code == 403
    response = admin_client.post(change_url(protected), {"team": team.pk, "name": "other"})
    assert response.status_code == 403
    response = admin_client.post(
        f"{ADMIN}/legacyprotectedalias/add/", {"team": team.pk, "name": "golden"}
    )
    assert response.status_code == 200 and "Read-only" in response.content.decode()
    assert list(LegacyProtectedAlias.objects.values_list("name", flat=True)) == ["production"]


def test_while_a_migration_runs_everything_of_the_team_is_read_only(admin_client, classifier, team):
    LegacyMigration.objects.create(
        team=team, status=MigrationStatus.RUNNING, heartbeat_at=timezone.now()
    )
    assert admin_client.post(change_url(classifier), model_post(classifier)).status_code == 403
    protected = LegacyProtectedAlias.objects.get()
    assert admin_client.post(delete_url(protected), {"post": "yes"}).status_code == 403


# After a failed run


def test_after_a_failed_run_what_did_not_move_can_be_fixed(admin_client, half_migrated, classifier):
    """The run reports a dataset linked in `mixed`: staff remove it, then run it again."""
    linked = half_migrated.versions.get()
    data = model_post(
        half_migrated,
        **management("versions", total=1, initial=1),
        **{"versions-0-id": linked.pk, "versions-0-registered_model": half_migrated.pk},
        **{"versions-0-DELETE": "on"},
    )
    assert admin_client.post(change_url(half_migrated), data).status_code == 302
    assert not half_migrated.versions.exists()
    # What moved stays as it was copied.
    assert admin_client.post(change_url(classifier), model_post(classifier)).status_code == 403


def test_after_a_failed_run_that_made_the_registry_the_team_settings_are_fixed(
    admin_client, half_migrated, team
):
    """The migrated registry copied the protected aliases and admins when it was made."""
    protected = LegacyProtectedAlias.objects.get()
    response = admin_client.post(change_url(protected), {"team": team.pk, "name": "prod"})
    assert response.status_code == 403
    assert (
        admin_client.post(
            delete_url(LegacyRegistryAdmin.objects.get()), {"post": "yes"}
        ).status_code
        == 403
    )


def test_after_a_failed_run_before_the_registry_the_team_settings_stay_open(
    admin_client, classifier, team
):
    """A run that failed before making the registry copied nothing: its settings stay open."""
    LegacyMigration.objects.create(team=team, status=MigrationStatus.FAILED)
    protected = LegacyProtectedAlias.objects.get()
    response = admin_client.post(change_url(protected), {"team": team.pk, "name": "prod"})
    assert response.status_code == 302
    protected.refresh_from_db()
    assert protected.name == "prod"


def test_the_history_is_never_edited(admin_client, classifier):
    event = LegacyEvent.objects.first()
    assert admin_client.get(f"{ADMIN}/legacyevent/add/").status_code == 403
    assert admin_client.post(change_url(event), {"action": "link"}).status_code == 403
    assert admin_client.post(delete_url(event), {"post": "yes"}).status_code == 403
    assert LegacyEvent.objects.filter(pk=event.pk).exists()


def test_a_migration_is_never_edited(admin_client, half_migrated, team):
    migration = migration_of(team)
    assert admin_client.post(change_url(migration), {"status": "not_started"}).status_code == 403
    assert admin_client.post(delete_url(migration), {"post": "yes"}).status_code == 403
    assert migration_of(team).status == MigrationStatus.FAILED
