"""migrate_team and plan_team on generated legacy registries: everything carried over, a second
run changing nothing, an interrupted run resuming, conflicts reported and never overwritten."""

from __future__ import annotations

from collections import defaultdict
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import OrganizationRole, RegistryRole, Team, TeamRole, User, Visibility
from apps.artifacts.models import Project
from apps.audit.models import AuditAction, AuditEvent
from apps.legacy import migration, services
from apps.legacy.migration import migrate_team, plan_team
from apps.legacy.models import (
    LegacyAction,
    LegacyAlias,
    LegacyEvent,
    LegacyMigration,
    LegacyModelVersion,
    LegacyProtectedAlias,
    LegacyRegisteredModel,
    LegacyRegistryAdmin,
    MigrationStatus,
)
from apps.registries import services as registry_services
from apps.registries.models import Collection, Link, Registry
from tests.factories import (
    make_member,
    make_organization,
    make_project,
    make_registry,
    make_team,
    make_version,
)


def generate(*, teams: int = 1, models: int = 4, versions: int = 3, **options) -> list[Team]:
    options = {"org": "gen", "prefix": "legacy", **options}
    call_command(
        "seed_legacy", teams=teams, models=models, versions=versions, stdout=StringIO(), **options
    )
    return list(
        Team.objects.filter(
            organization__slug=options["org"], slug__startswith=f"{options['prefix']}-"
        ).order_by("slug")
    )


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def person(team: Team, suffix: str) -> User:
    """One of seed_legacy's people of the team: admin, member1 (legacy admin), member2, viewer."""
    return User.objects.get(username=f"{team.organization.slug}-{team.slug}-{suffix}")


def model_names(team: Team) -> list[str]:
    return sorted(team.legacy_models.values_list("name", flat=True))


def target(team: Team) -> Registry:
    return Registry.objects.get(organization=team.organization, name=f"{team.slug}-mr-migrated")


class Interrupted(BaseException):
    """Stands in for Ctrl-C or a stopped worker: not an Exception, so nothing may swallow it."""


def interrupt_at(monkeypatch, nth: int) -> None:
    """Make the migration of the nth registered model (in name order) stop the run."""
    real = migration._migrate_model
    calls = []

    def stopping(model_id, registry, actor):
        calls.append(model_id)
        if len(calls) == nth:
            raise Interrupted
        return real(model_id, registry, actor)

    monkeypatch.setattr(migration, "_migrate_model", stopping)


# Everything carried over

# How each legacy history entry must read in the audit log, written out here on purpose
# rather than imported from the code under test.
EXPECTED_ACTION = {
    (LegacyAction.CREATE, False): AuditAction.COLLECTION_CREATE,
    (LegacyAction.LINK, True): AuditAction.LINK,
    (LegacyAction.ALIAS_ADD, True): AuditAction.ALIAS_ADD,
    (LegacyAction.ALIAS_MOVE, True): AuditAction.ALIAS_MOVE,
    (LegacyAction.TAG_ADD, False): AuditAction.COLLECTION_TAG_ADD,
    (LegacyAction.TAG_ADD, True): AuditAction.VERSION_TAG_ADD,
    (LegacyAction.DESCRIPTION, False): AuditAction.COLLECTION_UPDATE,
}


def assert_team_carried_over(team: Team) -> None:
    registry = target(team)
    state = LegacyMigration.objects.get(team=team)
    assert (state.status, state.registry, state.error) == (MigrationStatus.DONE, registry, "")
    assert registry.slug == f"{team.slug}-mr-migrated"
    assert registry.visibility == Visibility.RESTRICTED
    assert not registry.is_core

    grants = {grant.user.username: grant.role for grant in registry.grants.select_related("user")}
    prefix = f"{team.organization.slug}-{team.slug}-"
    assert grants == {
        f"{prefix}admin": RegistryRole.ADMIN,  # team admin
        f"{prefix}member1": RegistryRole.ADMIN,  # team member and legacy registry admin
        f"{prefix}member2": RegistryRole.MEMBER,
        f"{prefix}viewer": RegistryRole.VIEWER,
    }
    assert not registry.grants.filter(team__isnull=False).exists()
    assert list(registry.protected_aliases.values_list("name", flat=True)) == ["production"]

    events = LegacyEvent.objects.select_related("actor").order_by("created_at", "id")
    legacy_models = list(
        team.legacy_models.prefetch_related(
            "tags", "versions__aliases", "versions__tags", Prefetch("events", events)
        )
    )
    collections = {
        collection.name: collection
        for collection in registry.collections.prefetch_related(
            "tags", "links__aliases", "links__tags"
        )
    }
    assert sorted(collections) == sorted(model.name for model in legacy_models)
    audit = defaultdict(list)
    for event in AuditEvent.objects.filter(registry=registry, collection__isnull=False).order_by(
        "created_at", "id"
    ):
        audit[event.collection_id].append(event)

    for model in legacy_models:
        collection = collections[model.name]
        path = f"{team.organization.slug}/{registry.slug}/{model.name}"
        assert model.migrated_to_id == collection.pk and model.migrated_at is not None
        assert collection.artifact_type == model.artifact_type
        assert collection.description == model.description
        assert {tag.name for tag in collection.tags.all()} == {tag.name for tag in model.tags.all()}
        assert collection.created_by_id == model.created_by_id
        assert collection.created_at == model.created_at

        versions = sorted(model.versions.all(), key=lambda legacy: legacy.number)
        links = {link.number: link for link in collection.links.all()}
        assert sorted(links) == [legacy.number for legacy in versions]
        assert collection.next_link_number == versions[-1].number + 1
        for legacy in versions:
            link = links[legacy.number]
            assert link.version_id == legacy.version_id
            assert link.linked_by_id == legacy.linked_by_id
            assert link.linked_at == legacy.linked_at
            assert link.unlinked_at is None
            expected = {alias.name for alias in legacy.aliases.all()} - {"latest"}
            if legacy is versions[-1]:
                expected.add("latest")
            assert {alias.name for alias in link.aliases.all()} == expected, link
            assert {tag.name for tag in link.tags.all()} == {tag.name for tag in legacy.tags.all()}

        carried = [event for event in audit[collection.pk] if event.action != AuditAction.MIGRATE]
        history = list(model.events.all())
        assert len(carried) == len(history)
        for event, original in zip(carried, history, strict=True):
            number = original.data.get("version")
            assert event.action == EXPECTED_ACTION[(original.action, number is not None)]
            assert event.created_at == original.created_at
            assert event.actor_id == original.actor_id
            assert event.actor_name == original.actor.username
            assert event.target == (f"{path}:v{number}" if number is not None else path)
            if number is not None:
                assert event.version_id == links[number].version_id
            data = {key: value for key, value in original.data.items() if key != "version"}
            assert data.items() <= event.data.items()
        migrated = [event for event in audit[collection.pk] if event.action == AuditAction.MIGRATE]
        assert len(migrated) == 1
        assert migrated[0].data == {
            "source": f"{team.slug}/model-registry/{model.name}",
            "versions": len(versions),
        }
        assert collection.updated_at == max(
            [model.created_at, *(event.created_at for event in history)]
        )


@pytest.mark.slow
def test_every_field_of_three_teams_of_fifty_models_of_twenty_versions_is_carried_over(db):
    teams = generate(teams=3, models=50, versions=20)
    for team in teams:
        result = migrate_team(team)
        assert result.ok, result.failed
        assert (len(result.migrated), result.versions) == (50, 1000)
    for team in teams:
        assert_team_carried_over(team)
    assert Link.objects.count() == 3000


def test_members_get_their_mapped_roles_and_only_team_members_get_any(
    organization, team, member, project
):
    for username, role in {"tara": TeamRole.ADMIN, "vic": TeamRole.VIEWER}.items():
        team.add_member(make_member(organization, username), role)
    lena = make_member(organization, "lena")
    team.add_member(lena, TeamRole.MEMBER)
    LegacyRegistryAdmin.objects.create(team=team, user=lena)
    # A legacy registry admin who has left the team, and a team member who has left the
    # organization: neither is a member of the team's registry any more.
    LegacyRegistryAdmin.objects.create(team=team, user=make_member(organization, "left"))
    gone = make_member(organization, "gone")
    team.add_member(gone, TeamRole.ADMIN)
    organization.memberships.filter(user=gone).delete()
    services.register_model(actor=member, team=team, name="classifier")

    expected = {
        "lena": RegistryRole.ADMIN,
        "maria": RegistryRole.MEMBER,
        "tara": RegistryRole.ADMIN,
        "vic": RegistryRole.VIEWER,
    }
    assert dict(plan_team(team).members) == expected
    result = migrate_team(team, actor=None)
    assert result.ok
    grants = result.registry.grants.select_related("user")
    assert {grant.user.username: grant.role for grant in grants} == expected


def test_the_actor_is_recorded_on_the_migration_and_its_entries(db):
    [team] = generate(models=1, versions=1)
    admin = User.objects.get(username="gen-admin")
    migrate_team(team, actor=admin)
    assert LegacyMigration.objects.get(team=team).started_by == admin
    entry = AuditEvent.objects.get(action=AuditAction.MIGRATE)
    assert (entry.actor, entry.actor_name) == (admin, "gen-admin")
    assert target(team).created_by == admin


def test_progress_is_reported_after_each_registered_model(db):
    [team] = generate()
    calls = []
    migrate_team(team, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    state = LegacyMigration.objects.get(team=team)
    assert (state.models_done, state.models_total) == (4, 4)


def test_a_models_queries_do_not_grow_with_its_versions(db):
    """Intended to keep a migration of many versions from issuing a query per version."""
    [few] = generate(models=2, versions=6)
    [many] = generate(models=2, versions=16, prefix="many")
    with CaptureQueriesContext(connection) as small:
        migrate_team(few)
    with CaptureQueriesContext(connection) as large:
        migrate_team(many)
    assert len(large) == len(small)


# The plan


def test_the_plan_says_what_would_happen_and_changes_nothing(db):
    [team] = generate(models=3, versions=2)
    counts = row_counts()
    plan = plan_team(team)
    assert row_counts() == counts
    assert (plan.registry, plan.registry_exists, plan.conflict) == (
        "legacy-1-mr-migrated",
        False,
        "",
    )
    assert [(model.name, model.versions, model.state) for model in plan.models] == [
        (name, 2, "migrate") for name in model_names(team)
    ]
    assert plan.versions == 6
    assert plan.protected_aliases == ["production"]
    assert [name for name, _ in plan.members] == sorted(
        f"gen-legacy-1-{suffix}" for suffix in ("admin", "member1", "member2", "viewer")
    )
    assert not plan.nothing_to_do

    migrate_team(team)
    plan = plan_team(team)
    assert plan.registry_exists
    assert {model.state for model in plan.models} == {"done"}
    assert plan.nothing_to_do


def test_the_plan_takes_as_many_queries_for_a_large_team_as_for_a_small_one(
    db, django_assert_num_queries
):
    """Intended to keep the dry run (and the migration view built on it) from an n+1."""
    [small] = generate(models=2, versions=1)
    [large] = generate(models=12, versions=5, prefix="large")
    with CaptureQueriesContext(connection) as queries:
        plan_team(small)
    with django_assert_num_queries(len(queries)):
        plan_team(large)


# Running again


def test_a_second_run_changes_nothing_and_says_so(db):
    [team] = generate()
    migrate_team(team)
    counts = row_counts()
    state = LegacyMigration.objects.values().get(team=team)
    result = migrate_team(team)
    assert result.changed_nothing
    assert (result.migrated, result.already, result.versions) == ([], 4, 0)
    assert result.registry == target(team)
    assert row_counts() == counts
    assert LegacyMigration.objects.values().get(team=team) == state


def test_a_run_stopped_halfway_resumes_with_exactly_the_rest(db, monkeypatch):
    [team] = generate(models=10, versions=3)
    names = model_names(team)
    interrupt_at(monkeypatch, 4)
    with pytest.raises(Interrupted):
        migrate_team(team)
    registry = target(team)
    assert sorted(registry.collections.values_list("name", flat=True)) == names[:3]
    # The fourth model's transaction was rolled back whole.
    assert not AuditEvent.objects.filter(target__endswith=f"/{names[3]}").exists()
    assert not team.legacy_models.get(name=names[3]).migrated_to
    state = LegacyMigration.objects.get(team=team)
    assert state.status == MigrationStatus.FAILED
    assert state.models_done == 3
    assert "Interrupted after 3 of 10 registered models" in state.error
    assert state.is_read_only

    monkeypatch.undo()
    result = migrate_team(team)
    assert result.ok
    assert result.migrated == names[3:]
    assert result.already == 3
    assert result.versions == 21
    assert sorted(registry.collections.values_list("name", flat=True)) == names
    assert Link.objects.filter(collection__registry=registry).count() == 30
    assert AuditEvent.objects.filter(action=AuditAction.MIGRATE).count() == 10
    assert registry.grants.count() == 4  # granted once, with the registry
    state.refresh_from_db()
    assert (state.status, state.models_done, state.error) == (MigrationStatus.DONE, 10, "")


def test_a_team_without_registered_models_is_left_as_it_was(team):
    result = migrate_team(team)
    assert result.changed_nothing and result.registry is None
    assert not LegacyMigration.objects.filter(team=team).exists()
    assert not Registry.objects.filter(name="ml-mr-migrated").exists()


def test_a_later_run_leaves_the_registrys_members_and_protected_aliases_to_its_admins(db):
    [team] = generate(models=2, versions=2)
    first = team.legacy_models.order_by("name").first()
    legacy = first.versions.get(number=1)
    real_source = legacy.version
    dataset = make_version(Project.objects.get(team=team), person(team, "admin"), "d", "dataset")
    LegacyModelVersion.objects.filter(pk=legacy.pk).update(version=dataset)
    assert not migrate_team(team).ok
    registry = target(team)
    admin = User.objects.get(username="gen-admin")
    registry_services.remove_grant(
        actor=admin, grant=registry.grants.get(user=person(team, "viewer"))
    )
    registry_services.remove_protected_alias(actor=admin, registry=registry, name="production")

    LegacyModelVersion.objects.filter(pk=legacy.pk).update(version=real_source)
    result = migrate_team(team)
    assert result.ok and result.migrated == [first.name]
    assert not registry.grants.filter(user=person(team, "viewer")).exists()
    assert not registry.protected_aliases.exists()


# Conflicts: reported with what to fix, never overwritten


@pytest.mark.parametrize(
    "name", ["legacy-1-mr-migrated", "LEGACY-1-MR-MIGRATED", "Legacy 1 MR migrated"]
)
def test_a_registry_name_taken_by_someone_else_stops_the_team(db, name):
    [team] = generate()
    admin = User.objects.get(username="gen-admin")
    theirs = make_registry(team.organization, admin, name, description="Theirs.")
    registries = Registry.objects.count()
    plan = plan_team(team)
    assert f"A registry named {name} already exists in Gen" in plan.conflict

    result = migrate_team(team)
    [(what, why)] = result.failed
    assert what == "legacy-1-mr-migrated"
    assert why == plan.conflict
    assert "rename that registry (on its settings page), then run the migration again" in why
    theirs.refresh_from_db()
    assert (theirs.name, theirs.description) == (name, "Theirs.")
    assert not theirs.collections.exists() and theirs.grants.count() == 1
    assert Registry.objects.count() == registries
    assert not LegacyRegisteredModel.objects.filter(migrated_to__isnull=False).exists()
    state = LegacyMigration.objects.get(team=team)
    assert (state.status, state.error) == (MigrationStatus.FAILED, f"{what}: {why}")

    registry_services.update_registry_details(
        actor=admin, registry=theirs, name="Theirs", description="Theirs."
    )
    assert migrate_team(team).ok
    assert target(team).collections.count() == 4


def test_a_collection_name_used_by_other_content_is_reported_and_never_overwritten(db, monkeypatch):
    [team] = generate(models=3, versions=2)
    names = model_names(team)
    interrupt_at(monkeypatch, 2)
    with pytest.raises(Interrupted):
        migrate_team(team)
    monkeypatch.undo()
    registry = target(team)
    admin = User.objects.get(username="gen-admin")
    other = make_version(Project.objects.get(team=team), admin, name="someone-elses")
    theirs = registry_services.link_version(
        actor=admin, version=other, registry=registry, collection_name=names[1]
    )
    plan = plan_team(team)
    assert [model.state for model in plan.models] == ["done", "conflict", "migrate"]

    result = migrate_team(team)
    assert result.migrated == [names[2]]
    [(what, why)] = result.failed
    assert what == names[1]
    assert why == plan.models[1].note
    assert why == (
        f"Collection {names[1]} already exists in legacy-1-mr-migrated with other content; "
        f"nothing was overwritten. Delete that collection from legacy-1-mr-migrated (the "
        "versions it links stay in their projects), or ask its owners to, then run the "
        "migration again."
    )
    collection = Collection.objects.get(pk=theirs.collection_id)
    assert list(collection.links.values_list("version", flat=True)) == [other.pk]
    assert collection.description == "" and not collection.tags.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.MIGRATE, collection=collection)
    assert team.legacy_models.get(name=names[1]).migrated_to is None

    registry_services.delete_collection(actor=admin, collection=collection)
    result = migrate_team(team)
    assert result.ok and result.migrated == [names[1]]


def test_a_version_of_another_type_stops_its_model_only_and_says_what_to_fix(db):
    [team] = generate(models=3, versions=3)
    names = model_names(team)
    bad = team.legacy_models.get(name=names[1])
    dataset = make_version(
        Project.objects.get(team=team), person(team, "admin"), "images", "dataset"
    )
    LegacyModelVersion.objects.filter(registered_model=bad, number=1).update(version=dataset)
    note = plan_team(team).models[1].note

    result = migrate_team(team)
    assert result.migrated == [names[0], names[2]]
    [(what, why)] = result.failed
    assert (what, why) == (bad.name, note)
    assert why == (
        f"v1 of {bad.name} points at legacy-1/training/images:v0, a dataset, but {bad.name} "
        f"holds model versions. Remove v1 from {bad.name}, or correct the registered model's "
        "type, in the legacy data (a staff member can, in the Django admin), then run the "
        "migration again."
    )
    assert not Collection.objects.filter(name=bad.name).exists()
    assert LegacyMigration.objects.get(team=team).status == MigrationStatus.FAILED


def test_a_version_of_another_organization_is_refused(db):
    [team] = generate(models=1, versions=2)
    globex = make_organization("globex")
    gina = make_member(globex, "gina", OrganizationRole.ADMIN)
    foreign = make_version(make_project(make_team(globex, "research", gina=TeamRole.ADMIN)), gina)
    LegacyModelVersion.objects.filter(number=0).update(version=foreign)
    result = migrate_team(team)
    [(_, why)] = result.failed
    assert why.startswith("v0 of classifier-000 points at research/project")
    assert "which belongs to another organization" in why
    assert not Link.objects.filter(version=foreign).exists()


def test_an_alias_the_registry_cannot_hold_is_reported(db):
    [team] = generate(models=2, versions=2)
    legacy = LegacyModelVersion.objects.get(registered_model__name="classifier-000", number=0)
    LegacyAlias.objects.create(
        registered_model=legacy.registered_model, model_version=legacy, name="v9"
    )
    note = plan_team(team).models[0].note
    result = migrate_team(team)
    assert result.failed == [("classifier-000", note)]
    assert note.startswith("Alias 'v9' on v0 of classifier-000 cannot be carried over: 'v9' is")
    assert note.endswith(
        "Rename it in the legacy data (a staff member can, in the Django admin), then run the "
        "migration again."
    )


def test_a_name_the_registry_reserves_is_reported(db):
    [team] = generate(models=2, versions=1)
    LegacyRegisteredModel.objects.filter(name="classifier-000").update(name="settings")
    result = migrate_team(team)
    [(what, why)] = result.failed
    assert what == "settings"
    assert why.startswith("Registered model 'settings' cannot become a collection: 'settings' is")
    assert result.migrated == ["detector-001"]


def test_a_protected_alias_the_registry_cannot_protect_stops_the_team(db):
    [team] = generate(models=2, versions=1)
    LegacyProtectedAlias.objects.create(team=team, name="latest")
    plan = plan_team(team)
    assert plan.conflict.startswith("Protected alias 'latest' of team Legacy 1 cannot be")
    result = migrate_team(team)
    assert result.failed == [("legacy-1-mr-migrated", plan.conflict)]
    assert not Registry.objects.filter(name="legacy-1-mr-migrated").exists()


# Afterwards


def test_the_legacy_registry_is_read_only_afterwards_and_says_where_to_go(db):
    [team] = generate(models=1, versions=1)
    migrate_team(team)
    model = team.legacy_models.get()
    linked = model.versions.get()
    admin = person(team, "admin")
    source = make_version(Project.objects.get(team=team), admin, name=model.name)
    counts = row_counts()
    writes = [
        lambda: services.register_model(actor=admin, team=team, name="new"),
        lambda: services.link_version(actor=admin, registered_model=model, version=source),
        lambda: services.set_alias(actor=admin, model_version=linked, name="staging"),
        lambda: services.tag_version(actor=admin, model_version=linked, tags=["x"]),
        lambda: services.describe(actor=admin, registered_model=model, description="new"),
    ]
    for write in writes:
        with pytest.raises(ValidationError) as refused:
            write()
        assert refused.value.messages == [
            "The legacy Model Registry of team Legacy 1 is read-only: it has been migrated to "
            "the registry legacy-1-mr-migrated. Make the change there instead."
        ]
    assert row_counts() == counts
