"""Finding what a URL names, for pages and API alike: 404 for whoever may not see it, the same
404 as for what does not exist, so that nothing's existence leaks."""

from __future__ import annotations

from typing import Any, TypeVar

from django.http import Http404

from apps.accounts.policy import Action, check, not_found
from apps.artifacts.models import ArtifactVersion, Project

Found = TypeVar("Found")


def visible(user: Any, found: Found | None, asked: str, action: Action = Action.VIEW) -> Found:
    """`found`, if it exists and the user may see it; else the 404 of `not_found(asked)`, whose
    message names only what was asked for. Every lookup goes through here."""
    if found is None:
        raise not_found(asked)
    try:
        check(user, action, found)
    except Http404:
        raise not_found(asked) from None
    return found


def project_for(user: Any, org: str, team: str, project: str) -> Project:
    """The team's project, or 404 for anyone outside the team (and not an organization admin)."""
    found = (
        Project.objects.select_related("team__organization")
        .filter(team__organization__slug=org, team__slug=team, name=project)
        .first()
    )
    return visible(user, found, f"{org}/{team}/{project}", Action.VIEW_PROJECT)


def version_for(user: Any, uid: Any) -> ArtifactVersion:
    """A logged version by its id, or 404 for anyone outside its project's team."""
    found = (
        ArtifactVersion.objects.select_related("artifact__project__team").filter(uid=uid).first()
    )
    return visible(user, found, f"version {uid}", Action.VIEW_PROJECT)
