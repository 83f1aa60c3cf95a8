"""Old Model Registry paths, `[<org>/]<team>/model-registry/<model>:<ref>`, and where they lead.

Scripts written before the move keep working: once a team's registered model is migrated, its
legacy path resolves to the collection it became, under the same reference (the migration keeps
version numbers and aliases). Before that, whoever may see the team is told why the path does not
resolve and how to migrate; anyone else gets the 404 a missing path gets, so nothing leaks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from apps.accounts.models import Team
from apps.accounts.policy import Action, can, not_found
from apps.legacy.migration import registry_name
from apps.legacy.models import IN_PROGRESS, LegacyMigration, LegacyRegisteredModel
from apps.lib.api import ApiError
from apps.lib.validators import LEGACY_REGISTRY_SLUG
from apps.registries.models import Link
from apps.registries.paths import VersionPath, resolve_path, split_path


class NotMigrated(Exception):
    """The path names a registered model still in its team's legacy registry."""


@dataclass(frozen=True)
class LegacyPath:
    organization: str  # empty when the path leaves it out
    team: str
    model: str
    ref: str  # vN or an alias; `latest` when the path names none

    def __str__(self) -> str:
        prefix = f"{self.organization}/" if self.organization else ""
        return f"{prefix}{self.team}/{LEGACY_REGISTRY_SLUG}/{self.model}:{self.ref}"


def parse_legacy_path(path: str) -> LegacyPath | None:
    """The parts of a legacy path, or None for any other path.

    A path is legacy when the part before the model is exactly `model-registry`: no registry may
    take that slug, so `<org>/<registry>/<collection>` paths never look like one.
    """
    parts, ref = split_path(path)
    if len(parts) == 3 and parts[1] == LEGACY_REGISTRY_SLUG:
        organization, (team, _, model) = "", parts
    elif len(parts) == 4 and parts[2] == LEGACY_REGISTRY_SLUG:
        organization, team, _, model = parts
    else:
        return None
    if not team or not model or (len(parts) == 4 and not organization):
        raise ValidationError(
            f"{path!r} is not a legacy Model Registry path: write "
            "[<org>/]<team>/model-registry/<model>:<vN or alias>, "
            "e.g. acme/ml/model-registry/classifier:production.",
            code="invalid_path",
        )
    return LegacyPath(organization, team, model, ref)


def _teams(user: Any, parsed: LegacyPath) -> list[Team]:
    """The teams the path may mean whose legacy registry the user sees (one unless ambiguous)."""
    teams = Team.objects.select_related("organization").filter(slug=parsed.team)
    if parsed.organization:
        teams = teams.filter(organization__slug=parsed.organization)
    else:
        # Without an organization the team is looked for in the user's organizations only.
        teams = teams.filter(organization__memberships__user=user)
    return [team for team in teams[:10] if can(user, Action.VIEW_LEGACY, team)]


def resolve_legacy_path(user: Any, parsed: LegacyPath) -> Link:
    """The live link a migrated legacy path now names, as `resolve_path` finds it.

    Raises NotMigrated, naming the team and how to migrate, for a model not migrated yet; Http404
    alike for missing and hidden paths.
    """
    teams = _teams(user, parsed)
    if len(teams) > 1:
        choices = ", ".join(f"{team.organization.slug}/{parsed}" for team in teams)
        raise ValidationError(
            f"Team {parsed.team} is in several of your organizations; put the organization "
            f"first: {choices}.",
            code="ambiguous_path",
        )
    if not teams:
        raise not_found(str(parsed))
    team = teams[0]
    model = (
        LegacyRegisteredModel.objects.select_related("migrated_to__registry__organization")
        .filter(team=team, name=parsed.model)
        .first()
    )
    if model is None:
        raise not_found(str(parsed))
    if model.migrated_to is not None:
        collection = model.migrated_to
        registry = collection.registry
        target = VersionPath(registry.organization.slug, registry.slug, collection.name, parsed.ref)
        return resolve_path(user, str(target))
    if model.migrated_at is not None:
        raise Http404(
            f"{parsed} was migrated to the Registry, but the collection it became has since "
            "been deleted."
        )
    raise NotMigrated(_not_migrated_message(team, parsed))


def resolve_legacy_link(user: Any, path: str) -> tuple[Link, str] | None:
    """For the API (apps.registries.api.path_resolvers): the live link a migrated legacy path
    leads to and the legacy path, None for any other path, 409 while it is not migrated yet."""
    if (legacy := parse_legacy_path(path)) is None:
        return None
    try:
        return resolve_legacy_path(user, legacy), str(legacy)
    except NotMigrated as error:
        raise ApiError(409, "not_migrated", str(error)) from None


def _not_migrated_message(team: Team, parsed: LegacyPath) -> str:
    migration = LegacyMigration.objects.filter(team=team).select_related("registry").first()
    target = migration.registry.name if migration and migration.registry else registry_name(team)
    org = team.organization.slug
    becomes = VersionPath(org, target, parsed.model, parsed.ref)
    where = f"{team.name}'s legacy Model Registry"
    if migration and migration.current_status in IN_PROGRESS:
        return (
            f"{parsed.model} is in team {where}, which is being migrated to the Registry now; "
            f"try again when it finishes. It will then resolve as {becomes}."
        )
    page = reverse("legacy:migration_team", kwargs={"org": org, "team": team.slug})
    return (
        f"{parsed.model} is in team {where} and has not been migrated to the Registry yet, so "
        f"no Registry version has this path. A team admin or an organization admin can migrate "
        f"the team on {page} or with `manage.py migrate_legacy_registry --org {org} "
        f"--team {team.slug}`; the path then resolves to {becomes}."
    )
