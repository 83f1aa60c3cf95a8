"""The header's navigation: every place a person goes, from any page, if they may use it."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from apps.accounts.policy import Action, can, may_migrate_some_team

register = template.Library()


@register.inclusion_tag("includes/site_nav.html", takes_context=True)
def site_nav(context: template.Context) -> dict:
    """Links for the signed-in user, each shown only if the policy lets them use it: those of the
    page's organization, or else of the user's first; for a user in none, only the API reference
    and, for staff, Django's admin."""
    request = context.get("request")  # absent from pages rendered without a request (503)
    # No user on a request refused before the middleware ran (a 400 for a disallowed host).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Pages outside an organization (the API reference) lead to the user's first, as home does.
    organization = context.get("organization") or context.get("home_organization") or None
    # (label, address, the views of its section: a namespace, or namespace:name)
    links = []
    if organization is not None and can(user, Action.VIEW_ORGANIZATION, organization):
        org = {"org": organization.slug}
        if settings.ENABLE_REGISTRY_UI:
            landing = reverse("registries:landing", kwargs=org)
            links.append(("Registries", landing, {"registries", "search"}))
            # Projects have no list of their own: the landing page lists the user's.
            links.append(
                ("Projects", f"{landing}#projects-heading", {"lineage:project", "lineage:run"})
            )
        links.append(("Automations", reverse("automations:list", kwargs=org), {"automations"}))
        links.append(("Legacy registry", reverse("legacy:home", kwargs=org), {"legacy"}))
        if may_migrate_some_team(user, organization):
            migration = {"legacy:migration", "legacy:migration_team"}
            links.append(("Migration", reverse("legacy:migration", kwargs=org), migration))
        if can(user, Action.VIEW_AUDIT_LOG, organization):
            links.append(("Audit log", reverse("lineage:audit", kwargs=org), {"lineage:audit"}))
    links.append(("API docs", reverse("api-docs"), {"api-docs"}))
    if user.is_staff:
        links.append(("Admin", reverse("admin:index"), {"admin"}))
    return {"links": _marked(request, links)}


def _marked(request: HttpRequest, links: list[tuple[str, str, set[str]]]) -> list[dict]:
    """The links, the one whose section holds this page marked as current: `page` on its very
    page, `true` below it. A view named outright beats its namespace (Migration over Legacy)."""
    match = request.resolver_match
    view_name = match.view_name if match else ""
    namespace = match.namespace if match else ""
    named = next((href for _, href, views in links if view_name in views), None)
    by_namespace = next((href for _, href, views in links if namespace in views), None)
    current = named or by_namespace
    return [
        {
            "label": label,
            "href": href,
            "current": ("page" if request.path == href else "true") if href == current else None,
        }
        for label, href, _ in links
    ]
