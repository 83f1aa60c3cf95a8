from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from apps.accounts.models import Organization, OrganizationRole, RegistryRole, User
from apps.accounts.policy import effective_role
from apps.artifacts.storage import open_blob
from apps.audit.models import AuditAction, AuditEvent
from apps.legacy.migration import migrate_team, plan_team
from apps.legacy.models import (
    LegacyAction,
    LegacyAlias,
    LegacyEvent,
    LegacyMigration,
    LegacyModelTag,
    LegacyModelVersion,
    LegacyRegisteredModel,
    LegacyVersionTag,
)
from apps.lineage.models import RunInput, RunOutput
from apps.registries.models import Alias, Registry
from tests.demo.seeding import seed
from tests.factories import storages_in


@pytest.fixture(scope="module")
def seeded_once(rows_for_the_module) -> Iterator[tuple[Organization, Path]]:
    """The demo, seeded once for the module's tests (each test's changes are rolled back)."""
    with rows_for_the_module() as blobs:
        seed()
        yield Organization.objects.get(slug="acme"), blobs


@pytest.fixture
def seeded(db, seeded_once) -> Organization:
    return seeded_once[0]


@pytest.fixture
def artifact_storage(settings, seeded_once) -> Path:
    """The seeded demo's blobs, where each test would otherwise have a folder of its own."""
    settings.STORAGES = storages_in(seeded_once[1])
    return seeded_once[1]


def test_it_creates_core_and_custom_registries(seeded):
    assert set(seeded.registries.values_list("slug", flat=True)) == {
        "model",
        "dataset",
        "fine-tuned-models",
    }


def test_each_persona_has_the_role_the_output_claims(seeded):
    roles = dict(seeded.memberships.values_list("user__username", "role"))
    assert roles["admin"] == OrganizationRole.ADMIN
    assert roles["victor"] == OrganizationRole.VIEWER
    custom = Registry.objects.get(slug="fine-tuned-models")
    models = Registry.objects.get(slug="model")
    role_of = {
        name: effective_role(seeded.memberships.get(user__username=name).user, custom)
        for name in roles
    }
    assert role_of == {
        "admin": RegistryRole.ADMIN,
        "maria": RegistryRole.ADMIN,
        "noah": None,
        "victor": None,
        "rita": RegistryRole.RESTRICTED_VIEWER,
    }
    victor = seeded.memberships.get(user__username="victor").user
    assert effective_role(victor, models) == RegistryRole.VIEWER


def test_production_is_protected_and_on_a_model_version(seeded):
    production = Alias.objects.select_related("collection__registry").get(name="production")
    assert production.collection.registry.slug == "model"
    assert production.collection.registry.protected_aliases.filter(name="production").exists()
    moves = AuditEvent.objects.filter(action=AuditAction.ALIAS_MOVE, data__alias="staging")
    assert moves.count() == 1


def test_lineage_runs_from_dataset_through_training_to_evaluation(seeded):
    production = Alias.objects.get(name="production").link.version
    training = RunOutput.objects.get(version=production).run
    assert training.job_type == "train"
    used = RunInput.objects.get(run=training).version
    assert used.artifact.artifact_type == "dataset"
    evaluations = RunInput.objects.filter(version=production, run__job_type="evaluate")
    assert evaluations.count() == 2


def test_files_are_really_stored(seeded):
    production = Alias.objects.get(name="production").link.version
    entry = production.files.get(path="config.json")
    with open_blob(entry.blob) as stream:
        assert b'"arch": "resnet50"' in stream.read()


def test_a_second_run_changes_nothing_and_says_so(seeded):
    counts = {model: model.objects.count() for model in apps.get_models()}
    output = seed()
    assert "nothing to do" in output
    assert {model: model.objects.count() for model in apps.get_models()} == counts


def test_the_production_model_shows_where_it_came_from_and_who_promoted_it(seeded, client):
    production = Alias.objects.select_related("link__collection").get(name="production")
    base = f"/orgs/acme/registry/model/{production.link.collection.name}"
    client.force_login(User.objects.get(username="admin"))
    graph = client.get(f"{base}/v{production.link.number}/lineage/").context["graph"]
    names = {layer: [node.label for node in nodes] for layer, nodes in graph.layers.items()}
    assert names[-2] == ["imagenet-subset:v0"] and names[-1] == ["bright-forest-5"]
    assert names[1] == ["calm-lake-8", "quiet-hill-9"]
    history = client.get(f"{base}/history/").content.decode()
    assert "production moved from v2 to v3" in history


# The legacy Model Registry, left for a person to migrate


def test_vision_and_nlp_have_legacy_registries_not_yet_migrated(seeded):
    for slug in ("vision", "nlp"):
        team = seeded.teams.get(slug=slug)
        assert team.legacy_models.count() >= 2
        assert team.legacy_protected.filter(name="production").exists()
        assert team.legacy_admins.exists()
        assert not LegacyRegisteredModel.objects.filter(team=team, migrated_to__isnull=False)
    assert not LegacyMigration.objects.exists()
    assert not Registry.objects.filter(name__endswith="-mr-migrated").exists()


def test_the_legacy_versions_were_linked_over_past_weeks_by_different_people(seeded):
    classifier = LegacyRegisteredModel.objects.get(team__slug="vision", name="image-classifier")
    versions = list(classifier.versions.order_by("number"))
    assert [version.number for version in versions] == [0, 1, 2, 3]
    assert len({version.linked_by.username for version in versions}) == 2
    times = [version.linked_at for version in versions]
    assert times == sorted(times)
    assert timezone.now() - times[0] > timedelta(weeks=7)
    assert timezone.now() - times[-1] > timedelta(weeks=1)
    for version in LegacyModelVersion.objects.select_related("version", "registered_model__team"):
        source = version.version
        assert source.artifact.project.team == version.registered_model.team
        assert source.created_at < version.linked_at


def test_the_legacy_aliases_tags_and_descriptions_read_like_real_use(seeded):
    aliases = {
        (alias.registered_model.name, alias.name): alias.model_version.label
        for alias in LegacyAlias.objects.select_related("registered_model", "model_version")
    }
    assert aliases[("image-classifier", "production")] == "v2"
    assert aliases[("image-classifier", "staging")] == "v2"
    assert aliases[("image-classifier", "latest")] == "v3"
    assert aliases[("sentiment-classifier", "production")] == "v2"
    moves = LegacyEvent.objects.filter(action=LegacyAction.ALIAS_MOVE)
    assert moves.filter(data__alias="staging").count() == 2
    assert moves.filter(data__alias="production").count() == 2
    production = moves.filter(data__alias="production").select_related("actor")
    assert {event.actor.username for event in production} == {"maria", "noah"}
    assert LegacyModelTag.objects.filter(name="vision").count() == 2
    assert LegacyVersionTag.objects.filter(name="reviewed").count() == 2
    assert all(model.description for model in LegacyRegisteredModel.objects.all())
    assert LegacyEvent.objects.filter(action=LegacyAction.DESCRIPTION).count() == 1


def test_the_demo_legacy_registries_plan_and_migrate_cleanly(seeded):
    teams = list(seeded.teams.filter(slug__in=["vision", "nlp"]))
    for team in teams:
        plan = plan_team(team)
        assert not plan.conflict and plan.count("conflict") == 0, plan
    results = [migrate_team(team) for team in teams]
    assert all(result.ok for result in results)
    assert sum(result.versions for result in results) == 12
    vision = Registry.objects.get(name="vision-mr-migrated")
    roles = {grant.user.username: grant.role for grant in vision.grants.select_related("user")}
    assert roles == {"admin": RegistryRole.ADMIN, "maria": RegistryRole.ADMIN}
