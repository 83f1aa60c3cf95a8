"""Creating organizations, which always come with their core registries: apps.registries makes
them when told that an organization was created (apps.accounts.signals)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from apps.accounts.models import Organization, OrganizationMembership, OrganizationRole
from apps.accounts.signals import organization_created
from apps.audit.models import AuditAction, AuditEvent


@transaction.atomic
def create_organization(*, name: str, slug: str = "", admin: Any = None) -> Organization:
    """An organization with its Models and Datasets registries, and its first admin if given."""
    organization = Organization.objects.create(name=name, slug=slug or slugify(name))
    set_up_organization(organization, actor=admin)
    if admin is not None:
        OrganizationMembership.objects.create(
            organization=organization, user=admin, role=OrganizationRole.ADMIN
        )
    return organization


def set_up_organization(organization: Organization, *, actor: Any) -> None:
    """What every new organization gets: its core registries, and the event of its creation."""
    organization_created.send(sender=Organization, organization=organization)
    AuditEvent.record(
        AuditAction.ORGANIZATION_CREATE,
        organization=organization,
        actor=actor,
        target=organization.slug,
    )
