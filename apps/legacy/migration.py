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
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import Organization, RegistryRole, Team, TeamRole, Visibility
from apps.audit.models import AuditAction, AuditEvent
from apps.jobs.conf import job_settings
from apps.jobs.heartbeat import Heartbeat
from apps.legacy.models import (
    LegacyAction,
    LegacyAlias,
    LegacyEvent,
    LegacyMigration,
    LegacyModelVersion,
    LegacyRegisteredModel,
    MigrationStatus,
)
from apps.lib.validators import LATEST, validate_alias, validate_collection_name
from apps.registries import services
from apps.registries.models import (
    Alias,
    Collection,
    CollectionTag,
    Link,
    LinkTag,
    ProtectedAlias,
    Registry,
    RegistryArtifactType,
    RegistryGrant,
)
from apps.registries.paths import collection_path, registry_path, version_path

log = logging.getLogger(__name__)

TEAM_ROLE_TO_REGISTRY_ROLE = {
    TeamRole.ADMIN: RegistryRole.ADMIN,
    TeamRole.MEMBER: RegistryRole.MEMBER,
    TeamRole.VIEWER: RegistryRole.VIEWER,
}

# The legacy registry is read-only once its migration starts, so its data is fixed by staff.
FIX_LEGACY = (
    "in the legacy data (a staff member can, in the Django admin), then run the migration again"
)


class MigrationConflict(Exception):
    """Something in the way that a person must settle; the message says what and how."""


def registry_name(team: Team) -> str:
    return f"{team.slug}-mr-migrated"


def legacy_path(model: LegacyRegisteredModel) -> str:
    return f"{model.team.slug}/model-registry/{model.name}"


def migration_of(team: Team) -> LegacyMigration:
    migration, _ = LegacyMigration.objects.get_or_create(team=team)
    return migration


def _is_user(actor: Any) -> bool:
    return getattr(actor, "is_authenticated", False)


# What stops a migration, each with what to fix


def _registry_clash(organization: Organization, name: str) -> str:
    """A registry this migration did not make holds the name, or the slug it would take."""
    slug = slugify(name, allow_unicode=True)
    registries = organization.registries
    clash = registries.filter(name__iexact=name).first() or registries.filter(slug=slug).first()
    if clash is None:
        return ""
    return (
        f"A registry named {clash.name} already exists in {organization.name}, and this "
        f"migration did not make it, so it cannot become {name}: rename that registry (on its "
        "settings page), then run the migration again."
    )


def _protected_problem(names: list[str], team: Team) -> str:
    for name in names:
        try:
            validate_alias(name)
        except ValidationError as error:
            return (
                f"Protected alias {name!r} of team {team.name} cannot be carried over: "
                f"{error.messages[0]} Remove or rename it {FIX_LEGACY}."
            )
    return ""


def _name_problem(name: str, taken: set[str], registry: str) -> str:
    try:
        validate_collection_name(name)
    except ValidationError as error:
        return (
            f"Registered model {name!r} cannot become a collection: {error.messages[0]} "
            f"Rename it {FIX_LEGACY}."
        )
    if name in taken:
        return (
            f"Collection {name} already exists in {registry} with other content; nothing was "
            f"overwritten. Delete that collection from {registry} (the versions it links stay "
            "in their projects), or ask its owners to, then run the migration again."
        )
    return ""


def _version_problem(
    model: LegacyRegisteredModel, legacy: LegacyModelVersion, organization_id: int
) -> str:
    """Why a linked version cannot move into a collection of the model, or ""."""
    source = legacy.version
    where = f"v{legacy.number} of {model.name} points at {source}"
    if source.artifact.project.team.organization_id != organization_id:
        return (
            f"{where}, which belongs to another organization; a registry only links its own "
            f"organization's versions. Remove v{legacy.number} from {model.name} {FIX_LEGACY}."
        )
    if source.artifact.artifact_type != model.artifact_type:
        return (
            f"{where}, a {source.artifact.artifact_type}, but {model.name} holds "
            f"{model.artifact_type} versions. Remove v{legacy.number} from {model.name}, or "
            f"correct the registered model's type, {FIX_LEGACY}."
        )
    return ""


def _alias_problem(model_name: str, number: int, alias: str) -> str:
    if alias == LATEST:
        return ""  # the migration puts `latest` on the newest version itself
    try:
        validate_alias(alias)
    except ValidationError as error:
        return (
            f"Alias {alias!r} on v{number} of {model_name} cannot be carried over: "
            f"{error.messages[0]} Rename it {FIX_LEGACY}."
        )
    return ""


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
    """What a migration of the team would do now, and what would stop it, changing nothing.

    A fixed few queries whatever the team's size: problems are found by queries that return
    only the rows at fault.
    """
    migration = LegacyMigration.objects.filter(team=team).select_related("registry").first()
    registry = migration.registry if migration else None
    name = registry.name if registry else registry_name(team)
    protected = list(team.legacy_protected.values_list("name", flat=True))
    conflict = ""
    if registry is None:
        conflict = _registry_clash(team.organization, name) or _protected_problem(protected, team)
    taken = set(registry.collections.values_list("name", flat=True)) if registry else set()
    problems = _team_problems(team)
    models = []
    for model in team.legacy_models.annotate(
        version_count=Count("versions", distinct=True), alias_count=Count("aliases", distinct=True)
    ).order_by("name"):
        plan = ModelPlan(model.name, model.version_count, model.alias_count, "migrate")
        if model.migrated_to_id:
            plan.state = "done"
        elif note := _name_problem(model.name, taken, name) or problems.get(model.pk, ""):
            plan.state, plan.note = "conflict", note
        models.append(plan)
    return TeamPlan(
        team=team,
        registry=name,
        registry_exists=registry is not None,
        members=[(user.get_username(), role) for user, role in _members(team).values()],
        protected_aliases=protected,
        models=models,
        conflict=conflict,
    )


def _team_problems(team: Team) -> dict[int, str]:
    """The first problem of each registered model whose versions or aliases cannot move."""
    problems: dict[int, str] = {}
    # A version is at fault if its type or its organization differs from its model's.
    faulty = (
        LegacyModelVersion.objects.filter(registered_model__team=team)
        .exclude(
            version__artifact__artifact_type=F("registered_model__artifact_type"),
            version__artifact__project__team__organization=F(
                "registered_model__team__organization"
            ),
        )
        .select_related("registered_model", "version__artifact__project__team")
        .order_by("registered_model", "number")
    )
    for legacy in faulty:
        problems.setdefault(
            legacy.registered_model_id,
            _version_problem(legacy.registered_model, legacy, team.organization_id),
        )
    aliases = (
        LegacyAlias.objects.filter(registered_model__team=team)
        .exclude(name=LATEST)
        .values_list(
            "registered_model_id", "registered_model__name", "model_version__number", "name"
        )
        .order_by("registered_model", "name")
    )
    for model_id, model_name, number, alias in aliases:
        if model_id not in problems and (problem := _alias_problem(model_name, number, alias)):
            problems[model_id] = problem
    return problems


def _members(team: Team) -> dict[int, tuple[Any, RegistryRole]]:
    """The registry role of each team member, legacy registry admins as admins.

    Only people still in the organization: a registry grant needs that. A legacy registry
    admin who has left the team gets nothing, as the team's privacy boundary requires.
    """
    in_organization = team.organization.memberships.values("user_id")
    members = {
        membership.user_id: (membership.user, TEAM_ROLE_TO_REGISTRY_ROLE[membership.role])
        for membership in team.memberships.filter(user_id__in=in_organization)
        .select_related("user")
        .order_by("user__username")
    }
    for user_id in team.legacy_admins.filter(user_id__in=list(members)).values_list(
        "user_id", flat=True
    ):
        members[user_id] = (members[user_id][0], RegistryRole.ADMIN)
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


def migrate_team(
    team: Team, *, actor: Any = None, on_progress: Progress | None = None
) -> TeamResult:
    """Migrate every registered model of the team not yet migrated; return what happened.

    Failures are reported in the result and on the team's LegacyMigration row, never raised,
    so one bad registered model does not stop the others. An interruption (Ctrl-C, a stopped
    worker) is recorded on the row too, then raised; what moved before it stays moved.
    """
    result = TeamResult(team)
    with transaction.atomic():
        # The team row is what legacy writes lock (services.check_writable): holding it while
        # the status turns to running lets writes in flight land first and refuses later ones,
        # so the registered models listed here are all there will be.
        Team.objects.select_for_update().only("pk").get(pk=team.pk)
        models = list(team.legacy_models.order_by("name").values_list("pk", "name", "migrated_to"))
        state = LegacyMigration.objects.filter(team=team).select_related("registry").first()
        if not models or (
            state is not None
            and state.status == MigrationStatus.DONE
            and all(migrated for *_, migrated in models)
        ):
            # Nothing to move: leave every row as it is, this migration's own included.
            result.registry, result.already = state.registry if state else None, len(models)
            return result
        migration = migration_of(team)
        _start(migration, actor, total=len(models))
    # Renewed however long one registered model takes: readers take a running migration whose
    # heartbeat stopped (its process killed outright) for interrupted.
    with Heartbeat(partial(_renew_heartbeat, migration.pk), job_settings().heartbeat):
        try:
            result.registry = _target_registry(team, actor)
        except (MigrationConflict, ValidationError) as error:
            result.failed.append((registry_name(team), _reason(error)))
            _end(migration, result)
            return result
        done = 0
        try:
            for pk, name, _ in models:
                _migrate_one(pk, name, result, actor)
                done += 1
                LegacyMigration.objects.filter(pk=migration.pk).update(
                    models_done=done, heartbeat_at=timezone.now()
                )
                if on_progress:
                    on_progress(done, len(models))
        except BaseException:
            _interrupted(migration, done, len(models))
            raise
        _end(migration, result)
    return result


def _renew_heartbeat(migration_pk: int) -> None:
    with transaction.atomic():
        # Skipped while the run holds the row itself (making the registry): it is alive then.
        running = LegacyMigration.objects.select_for_update(skip_locked=True).filter(
            pk=migration_pk, status=MigrationStatus.RUNNING
        )
        LegacyMigration.objects.filter(pk__in=list(running.values_list("pk", flat=True))).update(
            heartbeat_at=timezone.now()
        )


def _migrate_one(pk: int, name: str, result: TeamResult, actor: Any) -> None:
    try:
        with transaction.atomic():
            outcome = _migrate_model(pk, result.registry, actor)
    except (MigrationConflict, ValidationError) as error:
        result.failed.append((name, _reason(error)))
    except Exception as error:  # an unforeseen failure must not stop the other models
        log.exception("Migrating registered model %s (pk %s) failed", name, pk)
        result.failed.append(
            (name, f"Unexpected error ({error}); it is logged. Run the migration again.")
        )
    else:
        if outcome is None:
            result.already += 1
        else:
            result.migrated.append(name)
            result.versions += outcome


def _reason(error: Exception) -> str:
    return error.messages[0] if isinstance(error, ValidationError) else str(error)


def _start(migration: LegacyMigration, actor: Any, total: int) -> None:
    migration.status = MigrationStatus.RUNNING
    migration.models_total, migration.models_done = total, 0
    migration.error = ""
    migration.started_at, migration.finished_at = timezone.now(), None
    migration.heartbeat_at = migration.started_at
    if _is_user(actor):
        migration.started_by = actor
    migration.save()


def _end(migration: LegacyMigration, result: TeamResult) -> None:
    migration.refresh_from_db()
    migration.status = MigrationStatus.DONE if result.ok else MigrationStatus.FAILED
    migration.error = "\n".join(f"{what}: {why}" for what, why in result.failed)
    migration.finished_at = timezone.now()
    migration.save(update_fields=["status", "error", "finished_at"])


def _interrupted(migration: LegacyMigration, done: int, total: int) -> None:
    """Say on the row where an interrupted run stopped, so it does not look like running."""
    try:
        LegacyMigration.objects.filter(pk=migration.pk).update(
            status=MigrationStatus.FAILED,
            error=f"Interrupted after {done} of {total} registered models; run the migration "
            "again to migrate the rest.",
            finished_at=timezone.now(),
        )
    except Exception:  # the interruption itself is what the caller must see
        log.exception("Could not record the interruption of %s", migration)


@transaction.atomic
def _target_registry(team: Team, actor: Any) -> Registry:
    """The team's migrated registry, made with its members and protected aliases on the first
    run. Later runs leave those alone: its admins may have changed them since."""
    migration = (
        # Only this row: PostgreSQL refuses FOR UPDATE on the nullable side of the registry join.
        LegacyMigration.objects.select_for_update(of=("self",))
        .select_related("registry")
        .get(team=team)
    )
    if migration.registry is not None:
        _accept_types(migration.registry, _types(team))
        return migration.registry
    name = registry_name(team)
    protected = list(team.legacy_protected.values_list("name", flat=True))
    if problem := _registry_clash(team.organization, name) or _protected_problem(protected, team):
        raise MigrationConflict(problem)
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
    for user, role in _members(team).values():
        RegistryGrant.objects.create(registry=registry, user=user, role=role)
        _record(
            AuditAction.GRANT_SET,
            actor,
            registry,
            kind="user",
            grantee=user.get_username(),
            role=role.value,
        )
    for alias in protected:
        ProtectedAlias.objects.create(registry=registry, name=alias)
        _record(AuditAction.PROTECTED_ALIAS_ADD, actor, registry, alias=alias)
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


def _record(action: AuditAction, actor: Any, registry: Registry, **data: Any) -> None:
    AuditEvent.record(
        action,
        organization=registry.organization,
        actor=actor,
        target=registry_path(registry),
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
    taken = set(registry.collections.filter(name=model.name).values_list("name", flat=True))
    if problem := _name_problem(model.name, taken, registry.name):
        raise MigrationConflict(problem)
    for legacy in versions:
        problems = [
            _version_problem(model, legacy, registry.organization_id),
            *(_alias_problem(model.name, legacy.number, a.name) for a in legacy.aliases.all()),
        ]
        if problem := next(filter(None, problems), ""):
            raise MigrationConflict(problem)
    events = list(model.events.select_related("actor").order_by("created_at", "id"))
    collection = Collection.objects.create(
        registry=registry,
        name=model.name,
        artifact_type=model.artifact_type,
        description=model.description,
        next_link_number=versions[-1].number + 1 if versions else 0,
        created_by_id=model.created_by_id,
    )
    # Its times are the registered model's, not the migration's (auto_now ignores values given).
    collection.created_at = model.created_at
    collection.updated_at = max(
        [model.created_at, *(v.linked_at for v in versions), *(e.created_at for e in events)]
    )
    Collection.objects.filter(pk=collection.pk).update(
        created_at=collection.created_at, updated_at=collection.updated_at
    )
    CollectionTag.objects.bulk_create(
        CollectionTag(collection=collection, name=name)
        for name in model.tags.values_list("name", flat=True)
    )
    links = _link_versions(collection, versions)
    _carry_history(model, collection, {link.number: link for link in links}, events, actor)
    model.migrated_to, model.migrated_at = collection, timezone.now()
    model.save(update_fields=["migrated_to", "migrated_at"])
    return len(links)


def _link_versions(collection: Collection, versions: list[LegacyModelVersion]) -> list[Link]:
    """Links under the legacy numbers, times and actors; aliases and version tags with them.
    `latest` goes on the newest link, as it always does in the Registry, with no event of its
    own: the history carried over already records each of its moves."""
    links = Link.objects.bulk_create(
        Link.in_collection(
            collection,
            version=legacy.version,
            number=legacy.number,
            linked_by_id=legacy.linked_by_id,
            linked_at=legacy.linked_at,
        )
        for legacy in versions
    )
    aliases = [
        Alias(collection=collection, link=link, name=alias.name)
        for legacy, link in zip(versions, links, strict=True)
        for alias in legacy.aliases.all()
        if alias.name != LATEST
    ]
    if links:
        aliases.append(Alias(collection=collection, link=links[-1], name=LATEST))
    Alias.objects.bulk_create(aliases)
    # A legacy tag was on this model version alone: on the link, it shows nowhere else.
    LinkTag.objects.bulk_create(
        LinkTag(link=link, name=tag.name)
        for legacy, link in zip(versions, links, strict=True)
        for tag in legacy.tags.all()
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
# Tag entries name a version when the tag was on one, and read as version tags then.
TAG_ACTIONS = {
    (LegacyAction.TAG_ADD, False): AuditAction.COLLECTION_TAG_ADD,
    (LegacyAction.TAG_ADD, True): AuditAction.VERSION_TAG_ADD,
    (LegacyAction.TAG_REMOVE, False): AuditAction.COLLECTION_TAG_REMOVE,
    (LegacyAction.TAG_REMOVE, True): AuditAction.VERSION_TAG_REMOVE,
}


def _carry_history(
    model: LegacyRegisteredModel,
    collection: Collection,
    links: dict[int, Link],
    history: list[LegacyEvent],
    actor: Any,
) -> None:
    """The registered model's history as audit events at their original times and actors, then
    one entry for the migration itself."""
    registry = collection.registry
    path = collection_path(collection)
    org, slug = registry.organization.slug, registry.slug
    events = []
    for event in history:
        data = dict(event.data)
        number = data.pop("version", None)
        link = links.get(number)
        if (event.action, number is not None) in TAG_ACTIONS:
            action = TAG_ACTIONS[(event.action, number is not None)]
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
                target=(
                    version_path(org, slug, collection.name, number) if number is not None else path
                ),
                data=data,
                created_at=event.created_at,
            )
        )
    events.append(
        AuditEvent(
            organization=registry.organization,
            action=AuditAction.MIGRATE,
            actor=actor if _is_user(actor) else None,
            actor_name=actor.get_username() if _is_user(actor) else "",
            registry=registry,
            collection=collection,
            target=path,
            data={"source": legacy_path(model), "versions": len(links)},
        )
    )
    AuditEvent.objects.bulk_create(events)
