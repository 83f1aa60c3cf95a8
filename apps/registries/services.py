"""Every change to registries and what is in them: each one transaction with its audit event.

Each function checks the actor's role through the policy, validates its input with the rules in
apps.lib.validators, and raises ValidationError naming the rule broken; nothing is half-made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.models import BASELINE_ROLES, Organization, RegistryRole, Team, Visibility
from apps.accounts.policy import Action, check
from apps.artifacts.models import ArtifactVersion, VersionTag
from apps.artifacts.services import PendingUpload, begin_version, complete_version
from apps.audit.models import AuditAction, AuditEvent
from apps.lib.validators import (
    LATEST,
    clean_aliases,
    clean_tags,
    validate_alias,
    validate_artifact_type,
    validate_collection_name,
    validate_metadata,
    validate_registry_name,
    validate_tag,
)
from apps.registries.models import (
    CORE_REGISTRIES,
    Alias,
    Collection,
    CollectionTag,
    Direction,
    Link,
    MetricDirection,
    ProtectedAlias,
    Registry,
    RegistryArtifactType,
    RegistryGrant,
    Star,
)
from apps.registries.paths import collection_path, link_path, registry_path

METRIC_NAME_MAX = MetricDirection._meta.get_field("metric").max_length


def _audit(action: AuditAction, *, actor: Any, target: Any, **data: Any) -> None:
    """Record an event about a registry, collection or link, filling in where it happened."""
    registry = collection = version = None
    if isinstance(target, Registry):
        registry, path = target, registry_path(target)
    elif isinstance(target, Collection):
        registry, collection, path = target.registry, target, collection_path(target)
    else:
        registry, collection = target.collection.registry, target.collection
        version, path = target.version, link_path(target)
    AuditEvent.record(
        action,
        organization=registry.organization,
        actor=actor,
        target=path,
        registry=registry,
        collection=collection,
        version=version,
        **data,
    )


# Registries


def create_core_registries(*, organization: Organization, **signal: Any) -> None:
    """A new organization's Models and Datasets registries; received from organization_created,
    inside the transaction that creates the organization."""
    for slug, (name, description, artifact_type) in CORE_REGISTRIES.items():
        registry = Registry.objects.create(
            organization=organization,
            slug=slug,
            name=name,
            description=description,
            is_core=True,
            visibility=Visibility.ORGANIZATION,
            accepts_all_types=False,
        )
        RegistryArtifactType.objects.create(registry=registry, name=artifact_type)


def _clean_types(artifact_types: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(validate_artifact_type(t) for t in artifact_types))


@transaction.atomic
def create_registry(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    description: str = "",
    visibility: str = Visibility.ORGANIZATION,
    artifact_types: Iterable[str] = (),
) -> Registry:
    """A custom registry. No types means it accepts all types.

    The creator becomes its admin: on a restricted registry so they can still see it, and on
    any registry so they can configure and delete what they made.
    """
    check(actor, Action.CREATE_REGISTRY, organization)
    registry = new_registry(
        actor=actor,
        organization=organization,
        name=name,
        description=description,
        visibility=visibility,
        artifact_types=artifact_types,
    )
    RegistryGrant.objects.create(registry=registry, user=actor, role=RegistryRole.ADMIN)
    return registry


def new_registry(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    description: str,
    visibility: str,
    artifact_types: Iterable[str],
) -> Registry:
    """Make a custom registry under the naming rules, and record it; grants no role.

    Callers decide who may: `create_registry` for people, the legacy migration for itself.
    """
    validate_registry_name(name)
    if visibility not in Visibility.values:
        raise ValidationError(
            f"Visibility {visibility!r} is unknown; use organization or restricted.",
            code="invalid_visibility",
        )
    types = _clean_types(artifact_types)
    slug = slugify(name, allow_unicode=True)
    if not slug:
        raise ValidationError(
            f"Registry name {name!r} needs at least one letter or digit.", code="invalid_name"
        )
    clash = organization.registries.filter(name__iexact=name).first() or (
        organization.registries.filter(slug=slug).first()
    )
    if clash is not None:
        raise ValidationError(
            f"A registry named {clash.name!r} already exists in {organization.name} "
            f"(names must differ by more than case or punctuation). Choose another name.",
            code="duplicate_name",
        )
    registry = Registry.objects.create(
        organization=organization,
        name=name,
        slug=slug,
        description=description,
        visibility=visibility,
        accepts_all_types=not types,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    RegistryArtifactType.objects.bulk_create(
        RegistryArtifactType(registry=registry, name=t) for t in types
    )
    _audit(
        AuditAction.REGISTRY_CREATE,
        actor=actor,
        target=registry,
        visibility=visibility,
        artifact_types=types or "all",
    )
    return registry


@transaction.atomic
def delete_registry(*, actor: Any, registry: Registry) -> None:
    """Delete a custom registry with its collections and links; source versions stay."""
    check(actor, Action.DELETE_REGISTRY, registry)
    _audit(AuditAction.REGISTRY_DELETE, actor=actor, target=registry, name=registry.name)
    registry.delete()


@transaction.atomic
def star(*, actor: Any, registry: Registry) -> None:
    check(actor, Action.VIEW, registry)
    _, created = Star.objects.get_or_create(user=actor, registry=registry)
    if created:
        _audit(AuditAction.REGISTRY_STAR, actor=actor, target=registry)


@transaction.atomic
def unstar(*, actor: Any, registry: Registry) -> None:
    check(actor, Action.VIEW, registry)
    deleted, _ = Star.objects.filter(user=actor, registry=registry).delete()
    if deleted:
        _audit(AuditAction.REGISTRY_UNSTAR, actor=actor, target=registry)


# Collections


def _check_type_accepted(registry: Registry, artifact_type: str) -> None:
    if not registry.accepts(artifact_type):
        accepted = ", ".join(registry.accepted_type_names())
        raise ValidationError(
            f"Registry {registry.name} does not accept type {artifact_type!r}; "
            f"it accepts: {accepted}. A registry admin can add the type in settings.",
            code="type_not_accepted",
        )


def _new_collection(
    *, actor: Any, registry: Registry, name: str, artifact_type: str, description: str = ""
) -> Collection:
    validate_collection_name(name)
    validate_artifact_type(artifact_type)
    _check_type_accepted(registry, artifact_type)
    if registry.collections.filter(name=name).exists():
        raise ValidationError(
            f"Registry {registry.name} already has a collection named {name!r}.",
            code="duplicate_name",
        )
    collection = Collection.objects.create(
        registry=registry,
        name=name,
        artifact_type=artifact_type,
        description=description,
        created_by=actor,
    )
    _audit(AuditAction.COLLECTION_CREATE, actor=actor, target=collection, type=artifact_type)
    return collection


@transaction.atomic
def create_collection(
    *,
    actor: Any,
    registry: Registry,
    name: str,
    artifact_type: str,
    description: str = "",
    tags: Iterable[str] = (),
) -> Collection:
    check(actor, Action.CREATE_COLLECTION, registry)
    tags = clean_tags(tags)
    collection = _new_collection(
        actor=actor,
        registry=registry,
        name=name,
        artifact_type=artifact_type,
        description=description,
    )
    _add_collection_tags(actor, collection, tags)
    return collection


@transaction.atomic
def delete_collection(*, actor: Any, collection: Collection) -> None:
    """Delete a collection and its links (a registry admin's job if it holds a protected alias)."""
    check(actor, Action.DELETE_COLLECTION, collection)
    _audit(AuditAction.COLLECTION_DELETE, actor=actor, target=collection, name=collection.name)
    collection.delete()


@transaction.atomic
def update_collection_description(*, actor: Any, collection: Collection, description: str) -> None:
    check(actor, Action.EDIT_COLLECTION, collection)
    if description == collection.description:
        return
    collection.description = description
    collection.save(update_fields=["description", "updated_at"])
    _audit(AuditAction.COLLECTION_UPDATE, actor=actor, target=collection, field="description")


@transaction.atomic
def set_metric_direction(
    *, actor: Any, collection: Collection, metric: str, direction: str
) -> None:
    """Say which way is better for a metric in this collection; "" goes back to the rule that
    reads the metric's name (lower for losses and errors, higher for the rest)."""
    check(actor, Action.EDIT_COLLECTION, collection)
    if not metric.strip() or len(metric) > METRIC_NAME_MAX:
        raise ValidationError(
            f"A metric name is 1 to {METRIC_NAME_MAX} characters to set its direction.",
            code="invalid_metric",
        )
    if direction not in ("", *Direction.values):
        raise ValidationError(
            f"Direction {direction!r} is not one of higher, lower or the default.",
            code="invalid_direction",
        )
    current = collection.metric_directions.filter(metric=metric).first()
    if (current.direction if current else "") == direction:
        return
    if not direction:
        current.delete()
    else:
        MetricDirection.objects.update_or_create(
            collection=collection, metric=metric, defaults={"direction": direction, "set_by": actor}
        )
    _audit(
        AuditAction.COLLECTION_UPDATE,
        actor=actor,
        target=collection,
        field="metric direction",
        metric=metric,
        direction=direction or "by its name",
    )


def _add_collection_tags(actor: Any, collection: Collection, tags: list[str]) -> list[str]:
    existing = set(collection.tags.values_list("name", flat=True))
    added = [tag for tag in tags if tag not in existing]
    CollectionTag.objects.bulk_create(CollectionTag(collection=collection, name=t) for t in added)
    for tag in added:
        _audit(AuditAction.COLLECTION_TAG_ADD, actor=actor, target=collection, tag=tag)
    if added:
        collection.save(update_fields=["updated_at"])
    return added


@transaction.atomic
def add_collection_tags(*, actor: Any, collection: Collection, tags: Iterable[str]) -> list[str]:
    """Add tags to a collection; returns the ones that were new."""
    check(actor, Action.EDIT_COLLECTION, collection)
    return _add_collection_tags(actor, collection, clean_tags(tags))


@transaction.atomic
def remove_collection_tag(*, actor: Any, collection: Collection, tag: str) -> None:
    check(actor, Action.EDIT_COLLECTION, collection)
    deleted, _ = collection.tags.filter(name=tag).delete()
    if deleted:
        collection.save(update_fields=["updated_at"])
        _audit(AuditAction.COLLECTION_TAG_REMOVE, actor=actor, target=collection, tag=tag)


# Links


def link_version(
    *,
    actor: Any,
    version: ArtifactVersion,
    registry: Registry,
    collection_name: str,
    aliases: Iterable[str] = (),
) -> Link:
    """Point a collection at a source version, creating the collection if it is missing.

    Linking a version that is already in the collection returns its link and adds any new
    aliases. The new link takes the collection's next number and `latest`.
    """
    aliases = clean_aliases(aliases)
    validate_collection_name(collection_name)
    check(actor, Action.LINK, registry)
    check(actor, Action.VIEW_PROJECT, version)
    if not version.is_committed:
        raise ValidationError(
            "This version is still pending: finish uploading its files before linking it.",
            code="version_pending",
        )
    project = version.artifact.project
    if project.team.organization_id != registry.organization_id:
        raise ValidationError(
            f"Version {version} belongs to another organization; only versions logged in "
            f"{registry.organization.name}'s projects can be linked into its registries.",
            code="wrong_organization",
        )
    with transaction.atomic():
        return _link(actor, version, registry, collection_name, aliases)


@transaction.atomic
def log_and_link(
    *,
    actor: Any,
    manifest: Mapping[str, Any],
    sources: Mapping[str, bytes],
    registry: Registry,
    collection_name: str,
    aliases: Iterable[str] = (),
) -> Link | PendingUpload:
    """Log a version (`manifest` holds begin_version's arguments) whose files are at hand in
    `sources` or stored already, and link it: one step, all or nothing, so a refused link
    leaves no version behind. If files are still missing, the version stays pending, unlinked,
    saying what to upload, as the first phase of logging would."""
    pending = begin_version(actor=actor, **manifest)
    logged = complete_version(actor=actor, pending=pending, sources=sources)
    if logged.missing:
        return logged
    return link_version(
        actor=actor,
        version=logged.version,
        registry=registry,
        collection_name=collection_name,
        aliases=aliases,
    )


def _link(
    actor: Any, version: ArtifactVersion, registry: Registry, name: str, aliases: list[str]
) -> Link:
    artifact_type = version.artifact.artifact_type
    collection = _locked_collection(actor, registry, name, artifact_type)
    if collection.artifact_type != artifact_type:
        raise ValidationError(
            f"Collection {collection.name} holds type {collection.artifact_type!r}; "
            f"version {version} is type {artifact_type!r}. Link it into a "
            f"{artifact_type!r} collection instead.",
            code="type_mismatch",
        )
    _check_type_accepted(registry, artifact_type)
    for alias in aliases:
        check(actor, Action.SET_ALIAS, Alias(collection=collection, name=alias))

    link = collection.links.live().filter(version=version).first()
    if link is None:
        now = timezone.now()
        link = Link.in_collection(
            collection,
            version=version,
            number=collection.next_link_number,
            linked_by=actor,
            linked_at=now,
        )
        link.save()
        collection.next_link_number += 1
        collection.save(update_fields=["next_link_number", "updated_at"])
        _audit(AuditAction.LINK, actor=actor, target=link, source=str(version))
        _move_latest(actor, collection, linked=link)
    for alias in aliases:
        _place_alias(actor, link, alias)
    return link


def _locked_collection(actor: Any, registry: Registry, name: str, artifact_type: str) -> Collection:
    """The collection to link into, locked for numbering; created first if it is missing."""
    collection = Collection.objects.select_for_update().filter(registry=registry, name=name).first()
    if collection is None:
        check(actor, Action.CREATE_COLLECTION, registry)
        try:
            # A savepoint, so that losing a race to create it leaves the transaction usable.
            with transaction.atomic():
                _new_collection(
                    actor=actor, registry=registry, name=name, artifact_type=artifact_type
                )
        except IntegrityError:
            pass  # another writer created it at the same moment; theirs is committed now
        except ValidationError as error:
            # Another writer created it since the lookup above: link into theirs.
            if error.code != "duplicate_name":
                raise
        collection = Collection.objects.select_for_update().get(registry=registry, name=name)
    collection.registry = registry  # the policy and the audit read it; spare the query
    return collection


def _move_latest(actor: Any, collection: Collection, linked: Link | None = None) -> None:
    """Put `latest` on the collection's newest linked version, with its audit event: the one
    place it moves, after a link and after an unlink. An emptied collection keeps no `latest`.

    `linked` is a link just made, the newest by its number, so it needs no looking up.
    """
    newest = linked or collection.links.live().select_related("version").order_by("-number").first()
    if newest is not None:
        newest.collection = collection  # the audit reads its registry; spare the query
        _place_alias(actor, newest, LATEST)


def _place_alias(actor: Any, link: Link, name: str) -> None:
    """Put the alias on the link, moving it from whichever link held it."""
    current = Alias.objects.select_related("link").filter(collection=link.collection_id, name=name)
    current = current.first()
    if current is None:
        Alias.objects.create(collection=link.collection, link=link, name=name)
        _audit(AuditAction.ALIAS_ADD, actor=actor, target=link, alias=name)
    elif current.link_id != link.pk:
        previous = current.link
        current.link = link
        current.save(update_fields=["link"])
        _audit(
            AuditAction.ALIAS_MOVE,
            actor=actor,
            target=link,
            alias=name,
            from_version=previous.label,
            to_version=link.label,
        )


def _lock_collection(link: Link) -> Link:
    """Lock the link's collection and reload the link, so alias and link writes serialize."""
    Collection.objects.select_for_update().get(pk=link.collection_id)
    return Link.objects.select_related("collection__registry").get(pk=link.pk)


@transaction.atomic
def unlink(*, actor: Any, link: Link) -> None:
    """Take a version out of a collection, keeping the link row for history.

    Its aliases go with it; `latest` moves back to the newest link still there.
    """
    link = _lock_collection(link)
    if not link.is_live:
        return
    check(actor, Action.UNLINK, link)
    aliases = [a.name for a in link.aliases.all() if not a.is_latest]
    link.unlinked_at = timezone.now()
    link.unlinked_by = actor
    link.save(update_fields=["unlinked_at", "unlinked_by"])
    _audit(AuditAction.UNLINK, actor=actor, target=link, removed_aliases=aliases)
    # `latest` moves first, from this link to the newest left; the aliases still here go with it.
    _move_latest(actor, link.collection)
    link.aliases.all().delete()
    link.collection.save(update_fields=["updated_at"])


@transaction.atomic
def set_alias(*, actor: Any, link: Link, name: str) -> None:
    """Put an alias on a linked version, moving it if another version holds it."""
    validate_alias(name)
    link = _lock_collection(link)
    if not link.is_live:
        raise ValidationError("This version was unlinked; aliases need a linked version.")
    check(actor, Action.SET_ALIAS, Alias(collection=link.collection, name=name))
    _place_alias(actor, link, name)


@transaction.atomic
def remove_alias(*, actor: Any, link: Link, name: str) -> None:
    if name == LATEST:
        raise ValidationError(
            "'latest' cannot be removed: it always sits on the newest version.",
            code="reserved_alias",
        )
    link = _lock_collection(link)
    check(actor, Action.REMOVE_ALIAS, Alias(collection=link.collection, name=name))
    deleted, _ = link.aliases.filter(name=name).delete()
    if not deleted:
        raise ValidationError(f"{link.label} has no alias {name!r}.", code="no_such_alias")
    _audit(AuditAction.ALIAS_REMOVE, actor=actor, target=link, alias=name)


# Version tags: they belong to the source version, so they show through every link (tags
# migrated from the legacy Model Registry belong to one link: see LinkTag).


@transaction.atomic
def add_version_tags(*, actor: Any, link: Link, tags: Iterable[str]) -> list[str]:
    check(actor, Action.EDIT_COLLECTION, link)
    tags = clean_tags(tags)
    existing = set(link.tag_names())
    added = [tag for tag in tags if tag not in existing]
    VersionTag.objects.bulk_create(VersionTag(version=link.version, name=t) for t in added)
    for tag in added:
        _audit(AuditAction.VERSION_TAG_ADD, actor=actor, target=link, tag=tag)
    return added


@transaction.atomic
def remove_version_tag(*, actor: Any, link: Link, tag: str) -> None:
    check(actor, Action.EDIT_COLLECTION, link)
    validate_tag(tag)
    # Wherever it is held: on the version, shared by every link, or on this link alone.
    shared, _ = link.version.tags.filter(name=tag).delete()
    own, _ = link.tags.filter(name=tag).delete()
    if shared or own:
        _audit(AuditAction.VERSION_TAG_REMOVE, actor=actor, target=link, tag=tag)


# Protected aliases and members: registry admins' work.


@transaction.atomic
def add_protected_alias(*, actor: Any, registry: Registry, name: str) -> None:
    check(actor, Action.EDIT_REGISTRY, registry)
    validate_alias(name)
    _, created = ProtectedAlias.objects.get_or_create(registry=registry, name=name)
    if created:
        _audit(AuditAction.PROTECTED_ALIAS_ADD, actor=actor, target=registry, alias=name)


@transaction.atomic
def remove_protected_alias(*, actor: Any, registry: Registry, name: str) -> None:
    """Stop protecting an alias; versions keep it, as an ordinary alias."""
    check(actor, Action.EDIT_REGISTRY, registry)
    deleted, _ = registry.protected_aliases.filter(name=name).delete()
    if deleted:
        _audit(AuditAction.PROTECTED_ALIAS_REMOVE, actor=actor, target=registry, alias=name)


@transaction.atomic
def set_grant(
    *, actor: Any, registry: Registry, role: str, user: Any = None, team: Team | None = None
) -> RegistryGrant:
    """Give a user or a team a role on the registry, replacing any role they had there."""
    check(actor, Action.EDIT_REGISTRY, registry)
    if role not in RegistryRole.values:
        raise ValidationError(
            f"Role {role!r} is unknown; use one of {', '.join(RegistryRole.values)}.",
            code="invalid_role",
        )
    if (user is None) == (team is None):
        raise ValidationError("Grant a role to one user or one team.", code="invalid_grantee")
    if team is not None and team.organization_id != registry.organization_id:
        raise ValidationError(f"Team {team} is not in {registry.organization}.", code="wrong_org")
    if user is not None and not registry.organization.memberships.filter(user=user).exists():
        raise ValidationError(
            f"{user} is not a member of {registry.organization}; add them there first.",
            code="wrong_org",
        )
    grant, _ = RegistryGrant.objects.update_or_create(
        registry=registry, user=user, team=team, defaults={"role": role}
    )
    _audit(
        AuditAction.GRANT_SET,
        actor=actor,
        target=registry,
        grantee=str(user or team),
        kind="user" if user else "team",
        role=role,
    )
    return grant


@transaction.atomic
def remove_grant(*, actor: Any, grant: RegistryGrant) -> None:
    check(actor, Action.EDIT_REGISTRY, grant.registry)
    _audit(
        AuditAction.GRANT_REMOVE,
        actor=actor,
        target=grant.registry,
        grantee=str(grant.user or grant.team),
        kind="user" if grant.user_id else "team",
        role=grant.role,
    )
    grant.delete()


# Registry settings


@transaction.atomic
def update_registry_details(
    *, actor: Any, registry: Registry, name: str, description: str
) -> Registry:
    """Rename a custom registry or change its description; its address follows the name."""
    check(actor, Action.EDIT_REGISTRY, registry)
    if registry.is_core:
        raise ValidationError(
            f"{registry.name} is a core registry: its name and description are fixed.",
            code="core_registry",
        )
    validate_registry_name(name)
    slug = slugify(name, allow_unicode=True)
    if not slug:
        raise ValidationError(
            f"Registry name {name!r} needs at least one letter or digit.", code="invalid_name"
        )
    others = registry.organization.registries.exclude(pk=registry.pk)
    if clash := (others.filter(name__iexact=name).first() or others.filter(slug=slug).first()):
        raise ValidationError(
            f"A registry named {clash.name!r} already exists in {registry.organization.name}.",
            code="duplicate_name",
        )
    changed = {
        field: value
        for field, value in {"name": name, "slug": slug, "description": description}.items()
        if getattr(registry, field) != value
    }
    if changed:
        for field, value in changed.items():
            setattr(registry, field, value)
        registry.save(update_fields=[*changed, "updated_at"])
        _audit(AuditAction.REGISTRY_UPDATE, actor=actor, target=registry, fields=sorted(changed))
    return registry


@transaction.atomic
def set_visibility(*, actor: Any, registry: Registry, visibility: str) -> None:
    """Restrict a registry (its admins), or open it to the organization (organization admins)."""
    if visibility not in Visibility.values:
        raise ValidationError(
            f"Visibility {visibility!r} is unknown; use organization or restricted.",
            code="invalid_visibility",
        )
    if visibility == registry.visibility:
        return
    if registry.is_core:
        raise ValidationError(
            "Core registries are always visible to the whole organization.", code="core_registry"
        )
    widening = visibility == Visibility.ORGANIZATION
    check(actor, Action.WIDEN_VISIBILITY if widening else Action.EDIT_REGISTRY, registry)
    registry.visibility = visibility
    registry.save(update_fields=["visibility", "updated_at"])
    _audit(AuditAction.REGISTRY_UPDATE, actor=actor, target=registry, visibility=visibility)


@transaction.atomic
def set_access(
    *, actor: Any, registry: Registry, visibility: str, baseline_role: str | None = None
) -> None:
    """Set who sees the registry and, when given, the baseline role, which only an
    organization-visible registry has: it is set after opening one and before restricting it."""
    if visibility == Visibility.RESTRICTED and baseline_role is not None:
        set_baseline_role(actor=actor, registry=registry, role=baseline_role)
    set_visibility(actor=actor, registry=registry, visibility=visibility)
    if visibility != Visibility.RESTRICTED and baseline_role is not None:
        set_baseline_role(actor=actor, registry=registry, role=baseline_role)


@transaction.atomic
def set_baseline_role(*, actor: Any, registry: Registry, role: str) -> None:
    """The role every organization member has on an organization-visible registry."""
    check(actor, Action.EDIT_REGISTRY, registry)
    if role not in [r.value for r in BASELINE_ROLES]:
        raise ValidationError(
            f"The baseline role is restricted_viewer, viewer or member, not {role!r}.",
            code="invalid_role",
        )
    if registry.is_restricted:
        raise ValidationError(
            "A restricted registry has no baseline role: only the people and teams invited "
            "see it, with the roles they were granted. Open it to the organization first.",
            code="restricted_registry",
        )
    if role != registry.baseline_role:
        registry.baseline_role = role
        registry.save(update_fields=["baseline_role", "updated_at"])
        _audit(AuditAction.REGISTRY_UPDATE, actor=actor, target=registry, baseline_role=role)


@transaction.atomic
def add_accepted_types(
    *, actor: Any, registry: Registry, artifact_types: Iterable[str] = (), accept_all: bool = False
) -> None:
    """Accept more types. The list only grows: saved types are never removed."""
    check(actor, Action.EDIT_REGISTRY, registry)
    types = _clean_types(artifact_types)
    if accept_all and not registry.accepts_all_types:
        registry.accepts_all_types = True
        registry.save(update_fields=["accepts_all_types", "updated_at"])
        _audit(AuditAction.REGISTRY_UPDATE, actor=actor, target=registry, artifact_types="all")
    if types and registry.accepts_all_types:
        raise ValidationError(
            f"{registry.name} already accepts all types.", code="accepts_all_types"
        )
    existing = set(registry.accepted_type_names())
    added = [t for t in types if t not in existing]
    RegistryArtifactType.objects.bulk_create(
        RegistryArtifactType(registry=registry, name=t) for t in added
    )
    if added:
        _audit(AuditAction.REGISTRY_UPDATE, actor=actor, target=registry, added_types=added)


@transaction.atomic
def update_version_details(
    *, actor: Any, link: Link, description: str | None = None, metadata: dict | None = None
) -> None:
    """Change the description or metadata of a linked version's source (shown by every link)."""
    check(actor, Action.EDIT_COLLECTION, link)
    version = link.version
    changed = []
    if description is not None and description != version.description:
        version.description = description
        changed.append("description")
    if metadata is not None and metadata != version.metadata:
        version.metadata = validate_metadata(metadata)
        changed.append("metadata")
    if changed:
        version.save(update_fields=[*changed, "updated_at"])
        _audit(AuditAction.VERSION_UPDATE, actor=actor, target=link, fields=changed)


def record_download(*, actor: Any, link: Link, path: str = "") -> None:
    """Note who downloaded what (a file, or the whole version when `path` is empty)."""
    check(actor, Action.DOWNLOAD, link)
    _audit(AuditAction.DOWNLOAD, actor=actor, target=link, path=path or "*")
