"""Finding what a URL names, for pages and API alike: the same 404 for what the user may not
see as for what does not exist (see `apps.artifacts.lookups.visible`). And which versions a user
sees, through their projects or the registries they are linked into."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.accounts.models import Organization
from apps.accounts.policy import Action, visible_registries
from apps.artifacts.lookups import visible, visible_projects
from apps.artifacts.models import ArtifactVersion
from apps.registries.models import Collection, Link, Registry
from apps.registries.paths import version_path


def organization_for(user: Any, slug: str) -> Organization:
    """The organization, or 404 for anyone who is not in it."""
    found = Organization.objects.filter(slug=slug).first()
    return visible(user, found, slug, Action.VIEW_ORGANIZATION)


def registry_for(user: Any, org: str, slug: str) -> Registry:
    """The registry, or 404 for anyone who may not see it."""
    found = (
        Registry.objects.select_related("organization")
        .filter(organization__slug=org, slug=slug)
        .first()
    )
    return visible(user, found, f"{org}/{slug}")


def collection_for(user: Any, org: str, registry: str, name: str) -> Collection:
    """The collection with its registry, in one query; 404 for anyone who may not see it."""
    found = (
        Collection.objects.select_related("registry__organization")
        .filter(registry__organization__slug=org, registry__slug=registry, name=name)
        .first()
    )
    return visible(user, found, f"{org}/{registry}/{name}")


def link_for(user: Any, org: str, registry: str, collection: str, number: int) -> Link:
    """The live link vN of a collection, with what its page and the services read, in one
    query; 404 for anyone who may not see it."""
    found = (
        Link.objects.live()
        .select_related(
            "collection__registry__organization",
            "version__artifact__project__team__organization",
            "version__created_by",
            "linked_by",
        )
        .filter(
            collection__registry__organization__slug=org,
            collection__registry__slug=registry,
            collection__name=collection,
            number=number,
        )
        .first()
    )
    return visible(user, found, version_path(org, registry, collection, number))


def visible_version_ids(user: Any, organization: Organization, version_ids) -> set[int]:
    """Which of these versions the user may see, in one query: those in a project they see, and
    those linked into a registry they see (a registry's viewers need not belong to the team)."""
    linked = Link.objects.live().filter(
        collection__registry__in=visible_registries(user, organization)
    )
    return set(
        ArtifactVersion.objects.filter(pk__in=version_ids)
        .filter(
            Q(artifact__project__in=visible_projects(user, organization))
            | Q(pk__in=linked.values("version_id"))
        )
        .values_list("pk", flat=True)
    )
