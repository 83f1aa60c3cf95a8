"""The legacy registry's writes: numbering, aliases and their history, the type rule, and the
read-only state once a team's migration has started."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.accounts.models import OrganizationRole, TeamRole
from apps.artifacts.models import ArtifactVersion, VersionState
from apps.legacy import services
from apps.legacy.models import (
    LegacyAction,
    LegacyEvent,
    LegacyMigration,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    MigrationStatus,
)
from tests.factories import make_member, make_organization, make_project, make_team, make_version


@pytest.fixture
def model(team, member) -> LegacyRegisteredModel:
    """Team ml's registered model `classifier`, registered by maria."""
    return services.register_model(actor=member, team=team, name="classifier")


def aliases(model: LegacyRegisteredModel) -> dict[str, str]:
    return {alias.name: alias.model_version.label for alias in model.aliases.all()}


def history(model: LegacyRegisteredModel) -> list[tuple[str, dict]]:
    events = model.events.order_by("created_at", "id")
    return [(event.action, event.data) for event in events]


def test_versions_are_numbered_from_v0_in_link_order(model, project, member):
    linked = [
        services.link_version(
            actor=member, registered_model=model, version=make_version(project, member)
        )
        for _ in range(3)
    ]
    assert [version.number for version in linked] == [0, 1, 2]
    assert [version.label for version in linked] == ["v0", "v1", "v2"]


def test_latest_follows_the_newest_version_and_each_step_is_in_the_history(model, project, member):
    for _ in range(2):
        services.link_version(
            actor=member, registered_model=model, version=make_version(project, member)
        )
    assert aliases(model) == {"latest": "v1"}
    assert history(model) == [
        (LegacyAction.CREATE, {}),
        (LegacyAction.LINK, {"version": 0}),
        (LegacyAction.ALIAS_ADD, {"version": 0, "alias": "latest"}),
        (LegacyAction.LINK, {"version": 1}),
        (
            LegacyAction.ALIAS_MOVE,
            {"version": 1, "alias": "latest", "from_version": "v0", "to_version": "v1"},
        ),
    ]


def test_an_alias_set_elsewhere_moves_and_the_move_names_both_versions(model, project, member):
    v0 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    v1 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    services.set_alias(actor=member, model_version=v0, name="staging")
    services.set_alias(actor=member, model_version=v1, name="staging")
    assert aliases(model)["staging"] == "v1"
    move = model.events.get(action=LegacyAction.ALIAS_MOVE, data__alias="staging")
    assert move.data == {"version": 1, "alias": "staging", "from_version": "v0", "to_version": "v1"}
    assert move.actor == member


def test_setting_an_alias_on_the_version_holding_it_records_nothing(model, project, member):
    v0 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    services.set_alias(actor=member, model_version=v0, name="staging")
    before = model.events.count()
    services.set_alias(actor=member, model_version=v0, name="staging")
    assert model.events.count() == before


@pytest.mark.parametrize("name", ["latest", "v3", "a/b", "a:b", ""])
def test_it_refuses_aliases_that_are_reserved_or_malformed(model, project, member, name):
    v0 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    with pytest.raises(ValidationError):
        services.set_alias(actor=member, model_version=v0, name=name)
    assert aliases(model) == {"latest": "v1"}


def test_it_refuses_a_version_whose_type_the_model_does_not_hold(model, project, member):
    dataset = make_version(project, member, name="images", artifact_type="dataset")
    with pytest.raises(ValidationError, match="is a dataset; registered model classifier holds"):
        services.link_version(actor=member, registered_model=model, version=dataset)
    assert not model.versions.exists()
    assert not model.events.filter(action=LegacyAction.LINK).exists()


def test_it_refuses_to_link_the_same_version_twice(model, project, member):
    version = make_version(project, member)
    services.link_version(actor=member, registered_model=model, version=version)
    with pytest.raises(ValidationError, match="linked in classifier already"):
        services.link_version(actor=member, registered_model=model, version=version)


def test_it_refuses_a_pending_version(model, project, member):
    committed = make_version(project, member)
    pending = ArtifactVersion.objects.create(
        artifact=committed.artifact, state=VersionState.PENDING
    )
    with pytest.raises(ValidationError, match="still pending"):
        services.link_version(actor=member, registered_model=model, version=pending)


def test_it_refuses_a_version_of_another_organization(model, member):
    globex = make_organization("globex")
    other = make_member(globex, "gina", OrganizationRole.ADMIN)
    foreign = make_version(make_project(make_team(globex, "research", gina=TeamRole.ADMIN)), other)
    with pytest.raises(ValidationError, match="belongs to another organization"):
        services.link_version(actor=member, registered_model=model, version=foreign)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("classifier", "already has a registered model named 'classifier'"),
        ("settings", "reserved"),
        ("a/b", "may not contain"),
    ],
)
def test_register_model_refuses_names_that_cannot_become_a_collection(
    model, team, member, name, message
):
    with pytest.raises(ValidationError, match=message):
        services.register_model(actor=member, team=team, name=name)


def test_at_backdates_the_model_its_versions_and_their_history(team, project, member):
    then = timezone.now() - timedelta(days=30)
    model = services.register_model(actor=member, team=team, name="old", tags=["cv"], at=then)
    linked = services.link_version(
        actor=member,
        registered_model=model,
        version=make_version(project, member),
        aliases=["staging"],
        at=then + timedelta(days=1),
    )
    assert model.created_at == then
    assert linked.linked_at == then + timedelta(days=1)
    times = sorted({event.created_at for event in model.events.all()})
    assert times == [then, then + timedelta(days=1)]


def test_a_protected_alias_needs_a_registry_admin(model, team, project, member, organization):
    LegacyProtectedAlias.objects.create(team=team, name="production")
    v0 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    with pytest.raises(PermissionDenied, match=r"production is a protected alias\. Protected"):
        services.set_alias(actor=member, model_version=v0, name="production")
    with pytest.raises(PermissionDenied):
        services.link_version(
            actor=member,
            registered_model=model,
            version=make_version(project, member),
            aliases=["production"],
        )
    assert "production" not in aliases(model)

    LegacyRegistryAdmin.objects.create(team=team, user=member)
    services.set_alias(actor=member, model_version=v0, name="production")
    assert aliases(model)["production"] == "v0"


@pytest.mark.parametrize("who", ["team admin", "organization admin", "import"])
def test_team_and_organization_admins_and_imports_may_set_protected_aliases(
    model, team, project, member, organization, who
):
    LegacyProtectedAlias.objects.create(team=team, name="production")
    v0 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    actor = None
    if who == "team admin":
        actor = make_member(organization, "tara")
        team.add_member(actor, TeamRole.ADMIN)
    elif who == "organization admin":
        actor = make_member(organization, "olga", OrganizationRole.ADMIN)
    services.set_alias(actor=actor, model_version=v0, name="production")
    assert aliases(model)["production"] == "v0"


def test_tag_version_adds_only_new_tags_each_with_its_entry(model, project, member):
    v0 = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    assert services.tag_version(actor=member, model_version=v0, tags=["a", "b"]) == ["a", "b"]
    assert services.tag_version(actor=member, model_version=v0, tags=["b", "c"]) == ["c"]
    assert sorted(v0.tags.values_list("name", flat=True)) == ["a", "b", "c"]
    tagged = model.events.filter(action=LegacyAction.TAG_ADD).order_by("id")
    assert [event.data for event in tagged] == [
        {"version": 0, "tag": "a"},
        {"version": 0, "tag": "b"},
        {"version": 0, "tag": "c"},
    ]


def test_describe_records_a_change_and_ignores_a_repeat(model, member):
    services.describe(actor=member, registered_model=model, description="# Card")
    services.describe(actor=member, registered_model=model, description="# Card")
    model.refresh_from_db()
    assert model.description == "# Card"
    assert model.events.filter(action=LegacyAction.DESCRIPTION).count() == 1


def every_write(model, version, member, project):
    """Each legacy write, ready to call."""
    return {
        "register_model": lambda: services.register_model(
            actor=member, team=model.team, name="another"
        ),
        "link_version": lambda: services.link_version(
            actor=member, registered_model=model, version=make_version(project, member)
        ),
        "set_alias": lambda: services.set_alias(actor=member, model_version=version, name="s"),
        "tag_version": lambda: services.tag_version(
            actor=member, model_version=version, tags=["t"]
        ),
        "describe": lambda: services.describe(
            actor=member, registered_model=model, description="changed"
        ),
    }


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (MigrationStatus.QUEUED, "it is being migrated"),
        (MigrationStatus.RUNNING, "it is being migrated"),
        (MigrationStatus.FAILED, "stopped on a problem; fix it and run the migration again"),
        (MigrationStatus.DONE, "it has been migrated. Make the change there instead"),
    ],
)
def test_every_write_is_refused_once_the_migration_has_started(
    model, project, member, status, message
):
    version = services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    LegacyMigration.objects.create(team=model.team, status=status)
    events = LegacyEvent.objects.count()
    for name, write in every_write(model, version, member, project).items():
        with pytest.raises(ValidationError, match=message) as refused:
            write()
        assert refused.value.code == "read_only", name
        assert "The legacy Model Registry of team ml is read-only" in refused.value.messages[0]
    assert LegacyEvent.objects.count() == events
    model.refresh_from_db()
    assert model.description == ""


def test_writes_are_allowed_while_the_migration_has_not_started(model, project, member):
    LegacyMigration.objects.create(team=model.team, status=MigrationStatus.NOT_STARTED)
    services.link_version(
        actor=member, registered_model=model, version=make_version(project, member)
    )
    assert model.versions.count() == 1
