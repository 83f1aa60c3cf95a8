"""Every change in the registries writes exactly one entry of its kind, naming who and what."""

from __future__ import annotations

import pytest

from apps.accounts.models import RegistryRole, Visibility
from apps.audit.models import AuditAction, AuditEvent
from apps.registries import services
from tests.factories import make_link, make_registry, make_version

# (the change, the action it writes, words its entry must show)
CHANGES = [
    (lambda c: services.create_collection(actor=c.admin, registry=c.models, name="fresh",
                                          artifact_type="model"),
     AuditAction.COLLECTION_CREATE, "type model"),
    (lambda c: services.delete_collection(actor=c.admin, collection=c.link.collection),
     AuditAction.COLLECTION_DELETE, ""),
    (lambda c: services.update_collection_description(actor=c.admin, collection=c.link.collection,
                                                      description="New words"),
     AuditAction.COLLECTION_UPDATE, "field: description"),
    (lambda c: services.add_collection_tags(actor=c.admin, collection=c.link.collection,
                                            tags=["vision"]),
     AuditAction.COLLECTION_TAG_ADD, "tag vision"),
    (lambda c: services.remove_collection_tag(actor=c.admin, collection=c.link.collection,
                                              tag="old"),
     AuditAction.COLLECTION_TAG_REMOVE, "tag old"),
    (lambda c: services.link_version(actor=c.admin, version=c.other, registry=c.models,
                                     collection_name="classifier"),
     AuditAction.LINK, "source ml/mnist/"),
    (lambda c: services.unlink(actor=c.admin, link=c.link), AuditAction.UNLINK, ""),
    (lambda c: services.set_alias(actor=c.admin, link=c.link, name="staging"),
     AuditAction.ALIAS_ADD, "alias staging"),
    (lambda c: services.set_alias(actor=c.admin, link=c.second, name="candidate"),
     AuditAction.ALIAS_MOVE, "candidate moved from v0 to v1"),
    (lambda c: services.remove_alias(actor=c.admin, link=c.link, name="candidate"),
     AuditAction.ALIAS_REMOVE, "alias candidate"),
    (lambda c: services.add_version_tags(actor=c.admin, link=c.link, tags=["reviewed"]),
     AuditAction.VERSION_TAG_ADD, "tag reviewed"),
    (lambda c: services.remove_version_tag(actor=c.admin, link=c.link, tag="draft"),
     AuditAction.VERSION_TAG_REMOVE, "tag draft"),
    (lambda c: services.update_version_details(actor=c.admin, link=c.link, description="Better"),
     AuditAction.VERSION_UPDATE, "fields: description"),
    (lambda c: services.add_protected_alias(actor=c.admin, registry=c.models, name="prod"),
     AuditAction.PROTECTED_ALIAS_ADD, "alias prod"),
    (lambda c: services.remove_protected_alias(actor=c.admin, registry=c.models, name="gold"),
     AuditAction.PROTECTED_ALIAS_REMOVE, "alias gold"),
    (lambda c: services.set_grant(actor=c.admin, registry=c.custom, role=RegistryRole.MEMBER,
                                  user=c.member),
     AuditAction.GRANT_SET, "user maria as member"),
    (lambda c: services.set_visibility(actor=c.admin, registry=c.custom,
                                       visibility=Visibility.ORGANIZATION),
     AuditAction.REGISTRY_UPDATE, "visibility organization"),
    (lambda c: services.set_baseline_role(actor=c.admin, registry=c.models,
                                          role=RegistryRole.VIEWER),
     AuditAction.REGISTRY_UPDATE, "baseline role viewer"),
    (lambda c: services.update_registry_details(actor=c.admin, registry=c.custom, name="Renamed",
                                                description="d"),
     AuditAction.REGISTRY_UPDATE, "fields: description, name"),
    (lambda c: services.delete_registry(actor=c.admin, registry=c.custom),
     AuditAction.REGISTRY_DELETE, ""),
    (lambda c: services.record_download(actor=c.member, link=c.link, path="weights.bin"),
     AuditAction.DOWNLOAD, "path weights.bin"),
]  # fmt: skip


class Context:
    def __init__(self, org_admin, member, project, organization, models_registry) -> None:
        self.admin, self.member, self.models = org_admin, member, models_registry
        self.link = make_link(make_version(project, member), models_registry, member)
        self.second = make_link(make_version(project, member), models_registry, member)
        self.other = make_version(project, member)
        self.custom = make_registry(
            organization, org_admin, "Custom", visibility=Visibility.RESTRICTED
        )
        services.add_collection_tags(actor=member, collection=self.link.collection, tags=["old"])
        services.add_version_tags(actor=member, link=self.link, tags=["draft"])
        services.set_alias(actor=member, link=self.link, name="candidate")
        services.add_protected_alias(actor=org_admin, registry=models_registry, name="gold")


@pytest.mark.parametrize(("change", "action", "words"), CHANGES)
def test_the_change_writes_its_entry(
    change, action, words, org_admin, member, project, organization, models_registry
):
    context = Context(org_admin, member, project, organization, models_registry)
    before = AuditEvent.objects.count()
    change(context)
    written = list(AuditEvent.objects.order_by("id")[before:])
    [entry] = [event for event in written if event.action == action]
    assert entry.actor_name in {"olivia", "maria"} and entry.target.startswith("acme/")
    assert words in entry.details
    assert entry.organization == organization
