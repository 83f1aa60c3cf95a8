"""Finding what a URL names, for pages and API alike: 404 for whoever may not see it."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404

from apps.accounts.models import Organization
from apps.accounts.policy import Action, check
from apps.registries.models import Registry


def organization_for(user: Any, slug: str) -> Organization:
    """The organization, or 404 for anyone who is not in it."""
    organization = get_object_or_404(Organization, slug=slug)
    check(user, Action.VIEW_ORGANIZATION, organization)
    return organization


def registry_for(user: Any, org: str, slug: str) -> Registry:
    """The registry, or 404 for anyone who may not see it (its existence does not leak)."""
    registry = get_object_or_404(
        Registry.objects.select_related("organization"), organization__slug=org, slug=slug
    )
    check(user, Action.VIEW, registry)
    return registry
