from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from apps.accounts.models import Organization, OrganizationRole, User
from apps.accounts.policy import effective_role
from apps.artifacts.storage import open_blob
from apps.lineage.models import AuditAction, AuditEvent, RunInput, RunOutput
from apps.registries.models import Alias, Registry, RegistryRole


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db) -> Organization:
    seed()
    return Organization.objects.get(slug="acme")


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


def test_it_prints_how_to_sign_in(db):
    output = seed()
    assert "registry-demo" in output and "http://127.0.0.1:8000/" in output


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
