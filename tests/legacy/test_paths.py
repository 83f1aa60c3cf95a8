"""Legacy Model Registry paths given to the API's resolve endpoint, and the reserved slug."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import OrganizationRole, TeamRole
from apps.legacy import services
from apps.legacy.migration import migrate_team, migration_of
from apps.legacy.models import MigrationStatus
from apps.legacy.paths import LegacyPath, parse_legacy_path
from apps.lib.validators import validate_registry_name
from apps.registries.services import create_registry
from tests.factories import (
    make_legacy_model,
    make_organization,
    make_project,
    make_team,
    make_version,
)
from tests.registries.test_api_read import bearer, error_of

RESOLVE = "/api/v1/resolve/"


@pytest.fixture
def classifier(team, project, member):
    """Team ml's `classifier`: v0, v1 (production), v2 (latest)."""
    return make_legacy_model(project, member, aliases=[[], ["production"], []])


@pytest.fixture
def migrated(classifier, team, org_admin):
    result = migrate_team(team, actor=org_admin)
    assert result.ok, result.failed
    return result.registry


def resolve(client, user, path: str):
    return client.get(RESOLVE, {"path": path}, headers=bearer(user))


# Parsing


@pytest.mark.parametrize(
    ("path", "parsed"),
    [
        ("ml/model-registry/classifier:v1", LegacyPath("", "ml", "classifier", "v1")),
        ("acme/ml/model-registry/classifier:prod", LegacyPath("acme", "ml", "classifier", "prod")),
        ("ml/model-registry/classifier", LegacyPath("", "ml", "classifier", "latest")),
        (" ml/model-registry/a b:v0 ", LegacyPath("", "ml", "a b", "v0")),
    ],
)
def test_legacy_paths_are_recognised(path, parsed):
    assert parse_legacy_path(path) == parsed


@pytest.mark.parametrize(
    "path",
    [
        "acme/model/classifier:v1",
        "acme/model-registry-2/classifier",
        "acme/ml/models/classifier",
        "model-registry/classifier",
        "acme/ml/x/model-registry/classifier",
    ],
)
def test_other_paths_are_not_legacy(path):
    assert parse_legacy_path(path) is None


@pytest.mark.parametrize(
    "path", ["/model-registry/classifier", "ml/model-registry/", "/ml/model-registry/c"]
)
def test_a_legacy_path_with_an_empty_part_is_refused(path):
    with pytest.raises(ValidationError) as caught:
        parse_legacy_path(path)
    assert caught.value.code == "invalid_path"


def test_a_legacy_path_prints_as_written():
    assert str(parse_legacy_path("acme/ml/model-registry/c")) == "acme/ml/model-registry/c:latest"


# Resolving, once migrated


@pytest.mark.parametrize(
    ("ref", "version"), [("v1", "v1"), ("production", "v1"), ("latest", "v2"), ("", "v2")]
)
@pytest.mark.parametrize("prefix", ["", "acme/"])
def test_a_migrated_path_resolves_to_the_same_ref_in_the_new_collection(
    client, migrated, member, prefix, ref, version
):
    path = f"{prefix}ml/model-registry/classifier" + (f":{ref}" if ref else "")
    response = resolve(client, member, path)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["path"] == f"acme/ml-mr-migrated/classifier:{version}"
    assert data["version"] == version and data["files"][0]["path"] == "weights.bin"
    assert data["redirected_from"] == f"{prefix}ml/model-registry/classifier:{ref or 'latest'}"


def test_a_migrated_path_to_a_missing_version_is_404(client, migrated, member):
    response = resolve(client, member, "ml/model-registry/classifier:v9")
    assert response.status_code == 404
    assert "acme/ml-mr-migrated/classifier:v9" in error_of(response)["message"]


def test_ordinary_paths_still_resolve(client, migrated, member):
    response = resolve(client, member, "acme/ml-mr-migrated/classifier:production")
    assert response.status_code == 200 and "redirected_from" not in response.json()


@pytest.mark.django_db(transaction=True)
def test_scripts_written_before_the_move_keep_working(
    live_server, migrated, member, monkeypatch, tmp_path, capsys
):
    """The client and the command download, use and alias a migrated model by its old path,
    warned to use the new one; linking into the legacy registry is refused, saying where to."""
    from apps.accounts.models import ApiToken
    from apps.artifacts.storage import open_blob
    from apps.lineage.models import RunInput
    from registry.cli import main as cli
    from registry.client import Client

    _, token = ApiToken.issue(member, "old script")
    monkeypatch.setenv("REGISTRY_URL", live_server.url)
    monkeypatch.setenv("REGISTRY_TOKEN", token)
    monkeypatch.setenv("REGISTRY_CONFIG", str(tmp_path / "unused.json"))
    old = "ml/model-registry/classifier:production"
    production = migrated.collections.get().aliases.get(name="production").link.version
    client = Client()

    with pytest.warns(UserWarning, match="acme/ml-mr-migrated/classifier:v1"):
        run = client.start_run("acme/ml/mnist", job_type="evaluate")
        folder = run.use_artifact(old).download(tmp_path / "out")
    with open_blob(production.files.get(path="weights.bin").blob) as stored:
        assert (folder / "weights.bin").read_bytes() == stored.read()
    assert RunInput.objects.get(run__run_id=run.id).version == production

    assert cli(["alias", old, "candidate"]) == 0
    out, err = capsys.readouterr()
    assert "acme/ml-mr-migrated/classifier:v1 now has candidate, production" in out
    assert "registry: warning: ml/model-registry/classifier:production is a legacy" in err

    assert cli(["link", "some-id", "acme/ml/model-registry/classifier"]) == 2
    assert "link into the registry its team was migrated to" in capsys.readouterr().err


# Before migration


def test_an_unmigrated_model_is_a_clear_409_for_team_members(client, classifier, member):
    response = resolve(client, member, "ml/model-registry/classifier:v1")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "not_migrated"
    message = error["message"]
    assert "team ml's legacy Model Registry" in message and "not been migrated" in message
    assert "/orgs/acme/legacy/migration/ml/" in message
    assert "migrate_legacy_registry --org acme --team ml" in message
    assert "acme/ml-mr-migrated/classifier:v1" in message


def test_a_model_being_migrated_says_to_wait(client, classifier, member, team):
    migration = migration_of(team)
    migration.status, migration.heartbeat_at = MigrationStatus.RUNNING, timezone.now()
    migration.save()
    response = resolve(client, member, "acme/ml/model-registry/classifier")
    assert response.status_code == 409
    assert "being migrated to the Registry now" in error_of(response)["message"]


def test_a_model_whose_migration_stopped_answering_is_not_said_to_be_migrating(
    client, classifier, member, team
):
    """Its run was killed outright: nothing will finish it until someone starts it again."""
    migration = migration_of(team)
    migration.status = MigrationStatus.RUNNING
    migration.heartbeat_at = timezone.now() - timedelta(hours=1)
    migration.save()
    message = error_of(resolve(client, member, "acme/ml/model-registry/classifier"))["message"]
    assert "not been migrated" in message and "being migrated" not in message
    client.force_login(member)
    (model,) = client.get("/orgs/acme/legacy/").context["models"]
    assert model.status.label == "Not migrated: the last migration run stopped before the end"


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_those_who_may_not_see_the_team_get_the_404_of_a_missing_path(
    client, classifier, persona, request
):
    user = request.getfixturevalue(persona)
    for path in ("ml/model-registry/classifier:v1", "acme/ml/model-registry/classifier:v1"):
        hidden = resolve(client, user, path)
        missing = resolve(client, user, path.replace("classifier", "nope"))
        assert hidden.status_code == missing.status_code == 404, path
        assert error_of(hidden) == {
            "code": "not_found",
            "message": error_of(missing)["message"].replace("nope", "classifier"),
        }


def test_an_unknown_model_of_a_visible_team_is_404(client, classifier, member):
    response = resolve(client, member, "ml/model-registry/nope:v0")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_a_team_slug_in_two_of_the_users_organizations_needs_the_organization(
    client, classifier, member, migrated
):
    other = make_organization("initech")
    other.add_member(member, OrganizationRole.MEMBER)
    team = make_team(other, "ml", maria=TeamRole.MEMBER)
    services.register_model(actor=member, team=team, name="classifier")
    response = resolve(client, member, "ml/model-registry/classifier:v1")
    assert response.status_code == 400 and error_of(response)["code"] == "ambiguous_path"
    assert "acme/ml/model-registry/classifier:v1" in error_of(response)["message"]
    assert "initech/ml/model-registry/classifier:v1" in error_of(response)["message"]
    assert resolve(client, member, "acme/ml/model-registry/classifier:v1").status_code == 200


def test_a_team_of_another_organization_is_not_found_by_its_short_path(
    client, db, outsider, classifier
):
    """Without an organization the path is looked up in the caller's organizations only."""
    globex = outsider.organization_memberships.get().organization
    team = make_team(globex, "vision")
    model = services.register_model(actor=outsider, team=team, name="detector")
    services.link_version(
        actor=outsider,
        registered_model=model,
        version=make_version(make_project(team, "p"), outsider),
    )
    migrate_team(team, actor=outsider)
    assert resolve(client, outsider, "vision/model-registry/detector:v0").status_code == 200
    assert resolve(client, outsider, "ml/model-registry/classifier:v0").status_code == 404


# The reserved name


@pytest.mark.parametrize("name", ["Model Registry", "model-registry", "MODEL  REGISTRY"])
def test_no_registry_may_take_the_legacy_slug(name):
    with pytest.raises(ValidationError) as caught:
        validate_registry_name(name)
    assert caught.value.code == "reserved_name"
    assert "legacy Model Registry" in caught.value.messages[0]


def test_the_landing_form_says_why_model_registry_is_refused(client, member, organization):
    client.force_login(member)
    response = client.post("/orgs/acme/registry/", {"name": "Model Registry"})
    assert response.status_code == 400
    (error,) = response.context["registry_form"].errors["name"]
    assert "reserved" in error and "<team>/model-registry/<model>" in error
    with pytest.raises(ValidationError):
        create_registry(actor=member, organization=organization, name="Model Registry")
    assert not organization.registries.filter(slug="model-registry").exists()


def test_names_that_merely_contain_it_are_fine():
    assert validate_registry_name("Model Registry Archive") == "Model Registry Archive"
