"""Addresses of linked versions: `<org>/<registry>/<collection>:<vN or alias>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from apps.artifacts.lookups import visible
from apps.lib.validators import LATEST, VERSION_REF_RE
from apps.registries.models import Link


@dataclass(frozen=True)
class VersionPath:
    organization: str
    registry: str
    collection: str
    ref: str  # vN or an alias; `latest` when the path names none

    def __str__(self) -> str:
        return f"{self.organization}/{self.registry}/{self.collection}:{self.ref}"


def parse_path(path: str) -> VersionPath:
    """Split a path; the reference after the first ':' defaults to `latest`."""
    location, _, ref = path.strip().partition(":")
    parts = location.split("/")
    if len(parts) != 3 or not all(parts):
        raise ValidationError(
            f"{path!r} is not a version path: write <org>/<registry>/<collection>:<vN or alias>, "
            "e.g. acme/model/classifier:production.",
            code="invalid_path",
        )
    return VersionPath(*parts, ref or LATEST)


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
