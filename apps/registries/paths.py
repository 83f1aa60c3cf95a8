"""Addresses of linked versions: `<org>/<registry>/<collection>:<vN or alias>`.

The one place the server writes and reads them (legacy paths split theirs here too). The client
package `registry/` keeps its own parser, since it imports nothing from the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from apps.artifacts.lookups import visible
from apps.lib.validators import LATEST, VERSION_REF_RE
from apps.registries.models import Collection, Link, Registry


@dataclass(frozen=True)
class VersionPath:
    organization: str
    registry: str
    collection: str
    ref: str  # vN or an alias; `latest` when the path names none

    def __str__(self) -> str:
        return f"{self.organization}/{self.registry}/{self.collection}:{self.ref}"


def registry_path(registry: Registry) -> str:
    return f"{registry.organization.slug}/{registry.slug}"


def collection_path(collection: Collection) -> str:
    return f"{registry_path(collection.registry)}/{collection.name}"


def version_path(organization: str, registry: str, collection: str, number: int) -> str:
    """The address of a collection's link by its number, from the slugs and the name."""
    return str(VersionPath(organization, registry, collection, f"v{number}"))


def link_path(link: Link) -> str:
    collection = link.collection
    registry = collection.registry
    return version_path(registry.organization.slug, registry.slug, collection.name, link.number)


def split_path(path: str) -> tuple[list[str], str]:
    """A path's parts before the first ':', and the reference after it (`latest` if none)."""
    location, _, ref = path.strip().partition(":")
    return location.split("/"), ref or LATEST


def parse_path(path: str) -> VersionPath:
    parts, ref = split_path(path)
    if len(parts) != 3 or not all(parts):
        raise ValidationError(
            f"{path!r} is not a version path: write <org>/<registry>/<collection>:<vN or alias>, "
            "e.g. acme/model/classifier:production.",
            code="invalid_path",
        )
    return VersionPath(*parts, ref)


def resolve_path(user: Any, path: str) -> Link:
    """The live link a path names, if the user may see it; 404 alike for missing and hidden."""
    parsed = parse_path(path)
    links = Link.objects.live().select_related(
        "collection__registry__organization", "version__artifact__project__team"
    )
    links = links.filter(
        collection__registry__organization__slug=parsed.organization,
        collection__registry__slug=parsed.registry,
        collection__name=parsed.collection,
    )
    if match := VERSION_REF_RE.match(parsed.ref):
        link = links.filter(number=int(match.group(1))).first()
    else:
        link = links.filter(aliases__name=parsed.ref).first()
    return visible(user, link, str(parsed))
