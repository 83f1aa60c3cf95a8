"""Finding what a URL names, for pages and API alike: 404 for whoever may not see it, the same
404 as for what does not exist, so that nothing's existence leaks. And which projects a user
sees, by the policy's rule."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import QuerySet
from django.http import Http404

from apps.accounts.models import Organization
from apps.accounts.policy import Action, check, not_found, visible_teams
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


def visible_projects(user: Any, organization: Organization) -> QuerySet[Project]:
    """The organization's projects the user may see, by the rule VIEW_PROJECT follows: those
    of the teams `visible_teams` gives (their own, or all for organization admins)."""
    return Project.objects.filter(team__in=visible_teams(user, organization))
