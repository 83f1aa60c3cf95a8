"""The legacy Model Registry's place on the Registry's pages, so that they need not import it."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.db.models import Count, Max, Q
from django.utils import timezone

from apps.accounts.models import Organization
from apps.accounts.policy import Action, can, visible_registries, visible_teams
from apps.legacy.models import LegacyMigration, LegacyRegisteredModel

register = template.Library()

# After the last of a user's teams is migrated, the banner says where models went for this long,
# then leaves the landing page: by then old bookmarks and paths have been followed or fixed.
LEGACY_NOTE_DAYS = 30


@register.inclusion_tag("legacy/includes/banner.html", takes_context=True)
def legacy_banner(context: template.Context, organization: Organization) -> dict:
    """The landing page's banner about the legacy Model Registry, if this user has one."""
    return {"organization": organization, "legacy": _banner(context["request"].user, organization)}


def _banner(user, organization: Organization) -> dict | None:
    """What the legacy Model Registry banner says to this user, or None for no banner."""
    teams = visible_teams(user, organization)
    counts = LegacyRegisteredModel.objects.filter(team__in=teams).aggregate(
        total=Count("pk"),
        waiting=Count("pk", filter=Q(migrated_at__isnull=True)),
        last_migrated=Max("migrated_at"),
    )
    if not counts["total"]:
        return None
    if counts["waiting"]:
        waiting_teams = teams.filter(legacy_models__migrated_at__isnull=True).distinct()
        return {
            "waiting": counts["waiting"],
            "can_migrate": any(
                can(user, Action.MIGRATE_LEGACY, team) for team in waiting_teams[:20]
            ),
        }
    if counts["last_migrated"] < timezone.now() - timedelta(days=LEGACY_NOTE_DAYS):
        return None
    migrated_to = LegacyMigration.objects.filter(team__in=teams).values("registry_id")
    return {
        "total": counts["total"],
        "registries": visible_registries(user, organization)
        .filter(pk__in=migrated_to)
        .order_by("name")[:10],
    }
