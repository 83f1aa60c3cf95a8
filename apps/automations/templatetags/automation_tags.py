"""Automations' place on the Registry's pages, so that they need not import this app."""

from __future__ import annotations

from django import template

from apps.registries.models import Collection, Registry

register = template.Library()


@register.inclusion_tag("automations/includes/tabs.html")
def automation_tabs(
    registry: Registry,
    collection: Collection | None = None,
    *,
    shown: bool,
    current: str = "contents",
) -> dict:
    """The tabs of a registry's or collection's page: its contents and its Automations, for
    those who may manage automations there (`shown`, which the page already knows)."""
    return {"registry": registry, "collection": collection, "shown": shown, "current": current}
