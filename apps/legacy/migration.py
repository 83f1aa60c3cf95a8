"""Moving a team's legacy Model Registry into a Registry custom registry, losing nothing.

A team's legacy registry becomes the restricted registry `<team>-mr-migrated`, whose members are
the team's members (team admin → admin, member → member, viewer → viewer; legacy registry admins
→ admin) and whose protected aliases are the team's. Each registered model becomes a collection
of the same name, type, description and tags, its versions linked under their original numbers,
times and actors, with their aliases and tags, and its history carried over with one
"migrated" entry added.

Each registered model moves in one transaction, so a run stopped halfway resumes where it
stopped and a second run finds nothing to do. A name already used in the target registry by
other content is reported, never overwritten. `manage.py migrate_legacy_registry` and the
migration view's background task both call `migrate_team`; `plan_team` is their dry run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.accounts.models import Team, TeamRole
from apps.artifacts.models import VersionTag
from apps.legacy.models import (
    LegacyAction,
    LegacyMigration,
    LegacyModelVersion,
    LegacyRegisteredModel,
    MigrationStatus,
)
from apps.lib.validators import LATEST, validate_alias
from apps.lineage.models import AuditAction, AuditEvent
from apps.registries import services
from apps.registries.models import (
    ROLE_RANK,
    Alias,
    Collection,
    CollectionTag,
    Link,
    ProtectedAlias,
    Registry,
    RegistryArtifactType,
    RegistryGrant,
    RegistryRole,
    Visibility,
)

log = logging.getLogger(__name__)

TEAM_ROLE_TO_REGISTRY_ROLE = {
    TeamRole.ADMIN: RegistryRole.ADMIN,
    TeamRole.MEMBER: RegistryRole.MEMBER,
    TeamRole.VIEWER: RegistryRole.VIEWER,
}


class MigrationConflict(Exception):
    """Something in the way that a person must settle; the message says what and how."""


def registry_name(team: Team) -> str:
    return f"{team.slug}-mr-migrated"


def legacy_path(model: LegacyRegisteredModel) -> str:
    return f"{model.team.slug}/model-registry/{model.name}"


def migration_of(team: Team) -> LegacyMigration:
    migration, _ = LegacyMigration.objects.get_or_create(team=team)
    return migration


# The dry run


@dataclass
class ModelPlan:
    name: str
    versions: int
    aliases: int
    state: str  # "migrate", "done" (already migrated) or "conflict"
    note: str = ""


@dataclass
class TeamPlan:
    team: Team
    registry: str  # the target registry's name
    registry_exists: bool
    members: list[tuple[str, RegistryRole]]
    protected_aliases: list[str]
    models: list[ModelPlan]
    conflict: str = ""  # what stops the whole team

    def count(self, state: str) -> int:
        return sum(1 for model in self.models if model.state == state)

    @property
    def versions(self) -> int:
        return sum(model.versions for model in self.models)

    @property
    def nothing_to_do(self) -> bool:
        return not self.conflict and self.count("migrate") == 0 and self.count("conflict") == 0


def plan_team(team: Team) -> TeamPlan:
    """What a migration of the team would do now, changing nothing; a fixed few queries."""
    migration = LegacyMigration.objects.filter(team=team).select_related("registry").first()
    registry = migration.registry if migration else None
    name = registry.name if registry else registry_name(team)
    conflict = "" if registry else _registry_clash(team, name)
    taken = set(registry.collections.values_list("name", flat=True)) if registry else set()
    models = []
    for model in team.legacy_models.annotate(
        version_count=Count("versions", distinct=True), alias_count=Count("aliases", distinct=True)
    ).order_by("name"):
        plan = ModelPlan(model.name, model.version_count, model.alias_count, "migrate")
        if model.migrated_to_id:
            plan.state = "done"
        elif model.name in taken:
            plan.state, plan.note = "conflict", _name_taken(model.name, name)
        models.append(plan)
    return TeamPlan(
        team=team,
        registry=name,
        registry_exists=registry is not None,
        members=[(user.get_username(), role) for user, role in _members(team).values()],
        protected_aliases=list(team.legacy_protected.values_list("name", flat=True)),
        models=models,
        conflict=conflict,
    )


def _registry_clash(team: Team, name: str) -> str:
    clash = team.organization.registries.filter(name__iexact=name).first()
    if clash is None:
        return ""
    return (
        f"A registry named {clash.name} already exists and this migration did not make it: "
        "rename it, then run the migration again."
    )


def _name_taken(model: str, registry: str) -> str:
    return (
        f"Collection {model} already exists in {registry} with other content; rename one of "
        "them, then run the migration again. Nothing was overwritten."
    )


def _members(team: Team) -> dict[int, tuple[Any, RegistryRole]]:
    """The registry role of each team member, legacy registry admins as admins."""
    members = {
        membership.user_id: (membership.user, TEAM_ROLE_TO_REGISTRY_ROLE[membership.role])
        for membership in team.memberships.select_related("user")
    }
    for admin in team.legacy_admins.select_related("user"):
        members[admin.user_id] = (admin.user, RegistryRole.ADMIN)
    return members


# The migration


@dataclass
class TeamResult:
    team: Team
    registry: Registry | None = None
    migrated: list[str] = field(default_factory=list)
    already: int = 0  # registered models a previous run migrated
    versions: int = 0  # versions linked by this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, why)

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def changed_nothing(self) -> bool:
        return self.ok and not self.migrated


Progress = Callable[[int, int], None]  # (registered models handled, in all)


def migrate_team(team: Team, *, actor: Any = None, on_progress: Progress | None = None):
    """Migrate every registered model of the team not yet migrated; return what happened.

    Failures are reported in the result and on the team's LegacyMigration row, never raised,
    so one bad registered model does not stop the others.
    """
    result = TeamResult(team)
    models = list(team.legacy_models.order_by("name"))
    migration = _begin(team, actor, total=len(models))
    try:
        result.registry = _target_registry(team, actor)
    except (MigrationConflict, ValidationError) as error:
        result.failed.append((registry_name(team), _reason(error)))
        _end(migration, result)
        return result
    for done, model in enumerate(models, start=1):
        try:
            with transaction.atomic():
                outcome = _migrate_model(model.pk, result.registry, actor)
        except (MigrationConflict, ValidationError) as error:
            result.failed.append((model.name, _reason(error)))
        except Exception as error:  # an unforeseen failure must not stop the other models
            log.exception("Migrating %s failed", legacy_path(model))
            result.failed.append((model.name, f"Unexpected error: {error}"))
        else:
            if outcome is None:
                result.already += 1
            else:
                result.migrated.append(model.name)
                result.versions += outcome
        LegacyMigration.objects.filter(pk=migration.pk).update(models_done=done)
        if on_progress:
            on_progress(done, len(models))
    _end(migration, result)
    return result


def _reason(error: Exception) -> str:
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


def _begin(team: Team, actor: Any, total: int) -> LegacyMigration:
    migration = migration_of(team)
    migration.status = MigrationStatus.RUNNING
    migration.models_total, migration.models_done = total, 0
    migration.error = ""
    migration.started_at, migration.finished_at = timezone.now(), None
    if getattr(actor, "is_authenticated", False):
        migration.started_by = actor
    migration.save()
    return migration


def _end(migration: LegacyMigration, result: TeamResult) -> None:
    migration.refresh_from_db()
    migration.status = MigrationStatus.DONE if result.ok else MigrationStatus.FAILED
    migration.error = "\n".join(f"{what}: {why}" for what, why in result.failed)
    migration.finished_at = timezone.now()
    migration.save(update_fields=["status", "error", "finished_at"])


@transaction.atomic
def _target_registry(team: Team, actor: Any) -> Registry:
    """The team's migrated registry, made on the first run; its members, accepted types and
    protected aliases brought up to date with the legacy registry on every run."""
    migration = LegacyMigration.objects.select_for_update().get(team=team)
    registry = migration.registry
    if registry is None:
        name = registry_name(team)
        if clash := _registry_clash(team, name):
            raise MigrationConflict(clash)
        registry = services.new_registry(
            actor=actor,
            organization=team.organization,
            name=name,
            description=f"Migrated from the legacy Model Registry of team {team.name}.",
            visibility=Visibility.RESTRICTED,
            artifact_types=_types(team),
        )
        migration.registry = registry
        migration.save(update_fields=["registry"])
    _grant_members(team, registry, actor)
    _accept_types(registry, _types(team))
    for name in team.legacy_protected.values_list("name", flat=True):
        validate_alias(name)
        _, created = ProtectedAlias.objects.get_or_create(registry=registry, name=name)
        if created:
            _record(AuditAction.PROTECTED_ALIAS_ADD, actor, registry, alias=name)
    return registry


def _types(team: Team) -> list[str]:
    return sorted(set(team.legacy_models.values_list("artifact_type", flat=True))) or ["model"]


def _accept_types(registry: Registry, types: list[str]) -> None:
    if registry.accepts_all_types:
        return
    known = set(registry.accepted_types.values_list("name", flat=True))
    RegistryArtifactType.objects.bulk_create(
        RegistryArtifactType(registry=registry, name=name) for name in types if name not in known
    )


def _grant_members(team: Team, registry: Registry, actor: Any) -> None:
    """Give each team member their mapped role, never lowering one granted since."""
    grants = {grant.user_id: grant for grant in registry.grants.filter(user__isnull=False)}
    for user_id, (user, role) in _members(team).items():
        grant = grants.get(user_id)
        if grant is not None and ROLE_RANK[RegistryRole(grant.role)] >= ROLE_RANK[role]:
            continue
        RegistryGrant.objects.update_or_create(
            registry=registry, user=user, defaults={"role": role}
        )
        _record(
            AuditAction.GRANT_SET,
            actor,
            registry,
            kind="user",
            grantee=user.get_username(),
            role=role.value,
        )


def _record(action: AuditAction, actor: Any, registry: Registry, **data: Any) -> None:
    AuditEvent.record(
        action,
        organization=registry.organization,
        actor=actor,
        target=services.registry_path(registry),
        registry=registry,
        **data,
    )


def _migrate_model(model_id: int, registry: Registry, actor: Any) -> int | None:
    """Move one registered model, in the caller's transaction; the number of versions linked,
    or None if an earlier run moved it."""
    model = (
        LegacyRegisteredModel.objects.select_for_update().select_related("team").get(pk=model_id)
    )
    if model.migrated_to_id:
        return None
    versions = list(
        model.versions.select_related("version__artifact__project__team")
        .prefetch_related("aliases", "tags")
        .order_by("number")
    )
    if registry.collections.filter(name=model.name).exists():
        raise MigrationConflict(_name_taken(model.name, registry.name))
    for legacy in versions:
        if legacy.version.artifact.artifact_type != model.artifact_type:
            raise MigrationConflict(
                f"v{legacy.number} is a {legacy.version.artifact.artifact_type}, but "
                f"{model.name} holds {model.artifact_type} versions; unlink it from the legacy "
                "registry or fix the type, then run the migration again."
            )
    collection = Collection.objects.create(
        registry=registry,
        name=model.name,
        artifact_type=model.artifact_type,
        description=model.description,
        next_link_number=versions[-1].number + 1 if versions else 0,
        created_by=model.created_by,
    )
    CollectionTag.objects.bulk_create(
        CollectionTag(collection=collection, name=name)
        for name in model.tags.values_list("name", flat=True)
    )
    links = _link_versions(collection, versions)
    _carry_history(model, collection, {link.number: link for link in links}, actor)
    model.migrated_to, model.migrated_at = collection, timezone.now()
    model.save(update_fields=["migrated_to", "migrated_at"])
    return len(links)


def _link_versions(collection: Collection, versions: list[LegacyModelVersion]) -> list[Link]:
    """Links under the legacy numbers, times and actors; aliases and version tags with them.
    `latest` goes on the newest link, as it always does in the Registry."""
    links = Link.objects.bulk_create(
        Link(
            collection=collection,
            version=legacy.version,
            number=legacy.number,
            linked_by=legacy.linked_by,
            linked_at=legacy.linked_at,
        )
        for legacy in versions
    )
    aliases = []
    for legacy, link in zip(versions, links, strict=True):
        for alias in legacy.aliases.all():
            if alias.name != LATEST:
                validate_alias(alias.name)
                aliases.append(Alias(collection=collection, link=link, name=alias.name))
    if links:
        aliases.append(Alias(collection=collection, link=links[-1], name=LATEST))
    Alias.objects.bulk_create(aliases)
    VersionTag.objects.bulk_create(
        (
            VersionTag(version=legacy.version, name=tag.name)
            for legacy in versions
            for tag in legacy.tags.all()
        ),
        ignore_conflicts=True,  # the source version may carry the tag already
    )
    return links


# How each legacy history entry reads in the audit log.
EVENT_ACTIONS = {
    LegacyAction.CREATE: AuditAction.COLLECTION_CREATE,
    LegacyAction.LINK: AuditAction.LINK,
    LegacyAction.UNLINK: AuditAction.UNLINK,
    LegacyAction.ALIAS_ADD: AuditAction.ALIAS_ADD,
    LegacyAction.ALIAS_MOVE: AuditAction.ALIAS_MOVE,
    LegacyAction.ALIAS_REMOVE: AuditAction.ALIAS_REMOVE,
    LegacyAction.DESCRIPTION: AuditAction.COLLECTION_UPDATE,
}


def _carry_history(
    model: LegacyRegisteredModel, collection: Collection, links: dict[int, Link], actor: Any
) -> None:
    """The registered model's history as audit events at their original times, then one
    entry for the migration itself."""
    registry = collection.registry
    path = services.collection_path(collection)
    events = []
    for event in model.events.select_related("actor").order_by("created_at", "id"):
        data = dict(event.data)
        number = data.pop("version", None)
        link = links.get(number)
        if event.action in (LegacyAction.TAG_ADD, LegacyAction.TAG_REMOVE):
            on_version = number is not None
            action = {
                (LegacyAction.TAG_ADD, False): AuditAction.COLLECTION_TAG_ADD,
                (LegacyAction.TAG_ADD, True): AuditAction.VERSION_TAG_ADD,
                (LegacyAction.TAG_REMOVE, False): AuditAction.COLLECTION_TAG_REMOVE,
                (LegacyAction.TAG_REMOVE, True): AuditAction.VERSION_TAG_REMOVE,
            }[(event.action, on_version)]
        else:
            action = EVENT_ACTIONS[event.action]
        if event.action == LegacyAction.DESCRIPTION:
            data.setdefault("field", "description")
        if event.action == LegacyAction.CREATE:
            data.setdefault("type", model.artifact_type)
        if event.action == LegacyAction.LINK and link:
            data.setdefault("source", str(link.version))
        events.append(
            AuditEvent(
                organization=registry.organization,
                action=action,
                actor=event.actor,
                actor_name=event.actor.get_username() if event.actor else "",
                registry=registry,
                collection=collection,
                version=link.version if link else None,
                target=f"{path}:v{number}" if number is not None else path,
                data=data,
                created_at=event.created_at,
            )
        )
    is_user = getattr(actor, "is_authenticated", False)
    events.append(
        AuditEvent(
            organization=registry.organization,
            action=AuditAction.MIGRATE,
            actor=actor if is_user else None,
            actor_name=actor.get_username() if is_user else "",
            registry=registry,
            collection=collection,
            target=path,
            data={"source": legacy_path(model), "versions": len(links)},
        )
    )
    AuditEvent.objects.bulk_create(events)
