"""Changes to a team's legacy Model Registry, each with its history entry, until it is migrated.

The legacy pages write through these, as do the demo and imports. A person's change is checked
through the policy; no actor means an import, which copies what was decided elsewhere. Each
refuses once the team's migration has started, so what was migrated cannot drift from what stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Team
from apps.accounts.policy import Action, LegacyAliasName, check
from apps.artifacts.models import ArtifactVersion
from apps.legacy.models import (
    LegacyAction,
    LegacyAlias,
    LegacyEvent,
    LegacyMigration,
    LegacyModelTag,
    LegacyModelVersion,
    LegacyRegisteredModel,
    LegacyVersionTag,
    MigrationStatus,
)
from apps.lib.validators import (
    LATEST,
    clean_tags,
    validate_alias,
    validate_artifact_type,
    validate_collection_name,
)


def check_writable(team: Team) -> None:
    """Refuse if the team's migration has started.

    Call it inside the write's transaction: it locks the team row, which the migration also
    locks to start, so a write either lands before the migration reads the team or is refused.
    """
    if transaction.get_connection().in_atomic_block:
        Team.objects.select_for_update().only("pk").get(pk=team.pk)
    migration = LegacyMigration.objects.filter(team=team).select_related("registry").first()
    if migration is None or not migration.is_read_only:
        return
    where = f" to the registry {migration.registry.name}" if migration.registry else ""
    if migration.status == MigrationStatus.DONE:
        state = f"it has been migrated{where}. Make the change there instead"
    elif migration.status == MigrationStatus.FAILED:
        state = (
            f"its migration{where} has started and stopped on a problem; fix it and run the "
            "migration again, then make the change in the migrated registry"
        )
    else:
        state = f"it is being migrated{where}. Make the change there once the migration is done"
    raise ValidationError(
        f"The legacy Model Registry of team {team.name} is read-only: {state}.", code="read_only"
    )


def _check(actor: Any, action: Action, team: Team) -> None:
    if actor is not None:
        check(actor, action, team)


def _check_alias(actor: Any, team: Team, name: str) -> None:
    """A name a person may set (`latest` is nobody's to move), by whom the policy says."""
    validate_alias(name)
    _check(actor, Action.SET_LEGACY_ALIAS, LegacyAliasName(team, name))


def _event(
    model: LegacyRegisteredModel,
    action: LegacyAction,
    actor: Any,
    at: datetime | None,
    **data: Any,
) -> None:
    LegacyEvent.objects.create(
        registered_model=model,
        action=action,
        actor=actor,
        created_at=at or timezone.now(),
        data=data,
    )


@transaction.atomic
def register_model(
    *,
    actor: Any,
    team: Team,
    name: str,
    artifact_type: str = "model",
    description: str = "",
    tags: Iterable[str] = (),
    at: datetime | None = None,
) -> LegacyRegisteredModel:
    """A new registered model; `at` backdates it and its history entries."""
    _check(actor, Action.EDIT_LEGACY, team)
    check_writable(team)
    # It becomes a collection of the same name, so the collection rules apply now.
    validate_collection_name(name)
    validate_artifact_type(artifact_type)
    tags = clean_tags(tags)
    if team.legacy_models.filter(name=name).exists():
        raise ValidationError(
            f"Team {team.name} already has a registered model named {name!r}.",
            code="duplicate_name",
        )
    model = LegacyRegisteredModel.objects.create(
        team=team,
        name=name,
        artifact_type=artifact_type,
        description=description,
        created_by=actor,
        created_at=at or timezone.now(),
    )
    _event(model, LegacyAction.CREATE, actor, at)
    for tag in tags:
        LegacyModelTag.objects.create(registered_model=model, name=tag)
        _event(model, LegacyAction.TAG_ADD, actor, at, tag=tag)
    return model


@transaction.atomic
def link_version(
    *,
    actor: Any,
    registered_model: LegacyRegisteredModel,
    version: ArtifactVersion,
    aliases: Iterable[str] = (),
    at: datetime | None = None,
) -> LegacyModelVersion:
    """Link a source version as the model's next version; `latest` moves to it."""
    # The row lock serializes numbering in the registered model.
    model = (
        LegacyRegisteredModel.objects.select_for_update()
        .select_related("team")
        .get(pk=registered_model.pk)
    )
    _check(actor, Action.EDIT_LEGACY, model.team)
    check_writable(model.team)
    if not version.is_committed:
        raise ValidationError(
            "This version is still pending: finish uploading its files before linking it.",
            code="version_pending",
        )
    if version.artifact.project.team.organization_id != model.team.organization_id:
        raise ValidationError(
            f"{version} belongs to another organization; a team's registered models only "
            f"link versions logged in {model.team.organization.name}'s projects.",
            code="wrong_organization",
        )
    if version.artifact.artifact_type != model.artifact_type:
        raise ValidationError(
            f"{version} is a {version.artifact.artifact_type}; registered model {model.name} "
            f"holds {model.artifact_type} versions.",
            code="type_mismatch",
        )
    if model.versions.filter(version=version).exists():
        raise ValidationError(f"{version} is linked in {model.name} already.", code="linked")
    highest = model.versions.aggregate(Max("number"))["number__max"]
    number = 0 if highest is None else highest + 1
    linked = LegacyModelVersion.objects.create(
        registered_model=model,
        version=version,
        number=number,
        linked_by=actor,
        linked_at=at or timezone.now(),
    )
    _event(model, LegacyAction.LINK, actor, at, version=number)
    _place_alias(actor, linked, LATEST, at)
    for name in dict.fromkeys(aliases):
        set_alias(actor=actor, model_version=linked, name=name, at=at)
    return linked


@transaction.atomic
def set_alias(
    *, actor: Any, model_version: LegacyModelVersion, name: str, at: datetime | None = None
) -> None:
    """Put an alias on a version, moving it from the version that held it.

    Not `latest`, which moves by itself; protected aliases need a registry admin.
    """
    team = model_version.registered_model.team
    _check(actor, Action.EDIT_LEGACY, team)
    check_writable(team)
    _check_alias(actor, team, name)
    _place_alias(actor, model_version, name, at)


@transaction.atomic
def remove_alias(*, actor: Any, model_version: LegacyModelVersion, name: str) -> None:
    """Take an alias off a version; protected aliases need a registry admin."""
    model = model_version.registered_model
    _check(actor, Action.EDIT_LEGACY, model.team)
    check_writable(model.team)
    _check_alias(actor, model.team, name)
    deleted, _ = model_version.aliases.filter(name=name).delete()
    if not deleted:
        raise ValidationError(
            f"v{model_version.number} of {model.name} has no alias {name!r}.", code="no_alias"
        )
    _event(model, LegacyAction.ALIAS_REMOVE, actor, None, version=model_version.number, alias=name)


def _place_alias(
    actor: Any, model_version: LegacyModelVersion, name: str, at: datetime | None
) -> None:
    model = model_version.registered_model
    held = model.aliases.select_related("model_version").filter(name=name).first()
    if held is None:
        LegacyAlias.objects.create(registered_model=model, model_version=model_version, name=name)
        _event(model, LegacyAction.ALIAS_ADD, actor, at, version=model_version.number, alias=name)
    elif held.model_version_id != model_version.pk:
        before = held.model_version.label
        held.model_version = model_version
        held.save(update_fields=["model_version"])
        _event(
            model,
            LegacyAction.ALIAS_MOVE,
            actor,
            at,
            version=model_version.number,
            alias=name,
            from_version=before,
            to_version=model_version.label,
        )


@transaction.atomic
def tag_version(
    *,
    actor: Any,
    model_version: LegacyModelVersion,
    tags: Iterable[str],
    at: datetime | None = None,
) -> list[str]:
    """Add tags to a linked version; returns the ones that were new."""
    model = model_version.registered_model
    _check(actor, Action.EDIT_LEGACY, model.team)
    check_writable(model.team)
    existing = set(model_version.tags.values_list("name", flat=True))
    added = [tag for tag in clean_tags(tags) if tag not in existing]
    for tag in added:
        LegacyVersionTag.objects.create(model_version=model_version, name=tag)
        _event(model, LegacyAction.TAG_ADD, actor, at, version=model_version.number, tag=tag)
    return added


@transaction.atomic
def describe(
    *,
    actor: Any,
    registered_model: LegacyRegisteredModel,
    description: str,
    at: datetime | None = None,
) -> None:
    """Replace the registered model's description (its model card)."""
    _check(actor, Action.EDIT_LEGACY, registered_model.team)
    check_writable(registered_model.team)
    if description == registered_model.description:
        return
    registered_model.description = description
    registered_model.save(update_fields=["description"])
    _event(registered_model, LegacyAction.DESCRIPTION, actor, at)


@transaction.atomic
def tag_model(
    *, actor: Any, registered_model: LegacyRegisteredModel, tags: Iterable[str]
) -> list[str]:
    """Add tags to a registered model; returns the ones that were new."""
    _check(actor, Action.EDIT_LEGACY, registered_model.team)
    check_writable(registered_model.team)
    existing = set(registered_model.tags.values_list("name", flat=True))
    added = [tag for tag in clean_tags(tags) if tag not in existing]
    for tag in added:
        LegacyModelTag.objects.create(registered_model=registered_model, name=tag)
        _event(registered_model, LegacyAction.TAG_ADD, actor, None, tag=tag)
    return added
