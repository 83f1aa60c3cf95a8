"""Finding the project a URL names, for pages and API alike: 404 for whoever may not see it."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from apps.accounts.policy import Action, check
from apps.artifacts.models import Project


def project_for(user: Any, org: str, team: str, project: str) -> Project:
    """The team's project, or 404 for anyone outside the team (and not an organization admin)."""
    found = get_object_or_404(
        Project.objects.select_related("team__organization"),
        team__organization__slug=org,
        team__slug=team,
        name=project,
    )
    check(user, Action.VIEW_PROJECT, found)
    return found
