"""Changes to a team's legacy Model Registry, each with its history entry, until it is migrated.

The legacy registry has no pages that write: these load it (the demo, imports, tests), and each
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
)
from apps.lib.validators import (
    LATEST,
    clean_tags,
    validate_alias,
    validate_artifact_type,
    validate_collection_name,
)


def check_writable(team: Team) -> None:
    migration = LegacyMigration.objects.filter(team=team).select_related("registry").first()
    if migration is not None and migration.is_read_only:
        where = f" to registry {migration.registry.name}" if migration.registry else ""
        raise ValidationError(
            f"The legacy Model Registry of team {team.name} is read-only: it has been "
            f"migrated{where}. Make the change there instead.",
            code="read_only",
        )


def _event(
    model: LegacyRegisteredModel, action: LegacyAction, actor: Any, at: datetime | None, **data
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
    check_writable(team)
    validate_collection_name(name)
    validate_artifact_type(artifact_type)
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
    for tag in clean_tags(tags):
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
    model = LegacyRegisteredModel.objects.select_for_update().get(pk=registered_model.pk)
    check_writable(model.team)
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
    for name in (LATEST, *aliases):
        set_alias(actor=actor, model_version=linked, name=name, at=at)
    return linked


@transaction.atomic
def set_alias(
    *, actor: Any, model_version: LegacyModelVersion, name: str, at: datetime | None = None
) -> None:
    """Put an alias on a version, moving it from the version that held it."""
    model = model_version.registered_model
    check_writable(model.team)
    if name != LATEST:
        validate_alias(name)
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
    *, actor: Any, model_version: LegacyModelVersion, tags: Iterable[str], at=None
) -> None:
    model = model_version.registered_model
    check_writable(model.team)
    existing = set(model_version.tags.values_list("name", flat=True))
    for tag in clean_tags(tags):
        if tag not in existing:
            LegacyVersionTag.objects.create(model_version=model_version, name=tag)
            _event(model, LegacyAction.TAG_ADD, actor, at, version=model_version.number, tag=tag)


@transaction.atomic
def describe(
    *, actor: Any, registered_model: LegacyRegisteredModel, description: str, at=None
) -> None:
    check_writable(registered_model.team)
    registered_model.description = description
    registered_model.save(update_fields=["description"])
    _event(registered_model, LegacyAction.DESCRIPTION, actor, at)
