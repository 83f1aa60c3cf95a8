"""axe-core's rules over the main pages, at desktop and phone widths: any violation fails.

axe.min.js comes from the axe-playwright-python package (the `test` extra), injected into each
page by Playwright; nothing of it is copied here.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

from apps.audit.models import AuditAction, AuditEvent
from apps.registries.services import update_collection_description
from tests.factories import make_link, make_version

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [1280, 390]
PAGES = [
    "/orgs/acme/registry/",
    "/orgs/acme/registry/model/",
    "/orgs/acme/registry/model/classifier/?metrics=1",
    "/orgs/acme/registry/model/classifier/history/",
    "/orgs/acme/registry/model/classifier/v1/",
    "/orgs/acme/registry/model/classifier/v1/files/",
    "/orgs/acme/registry/model/classifier/v1/usage/",
    "/orgs/acme/registry/model/classifier/compare/?v=0&v=1",
    "/orgs/acme/projects/ml/mnist/",
    "/orgs/acme/audit/",
    "/orgs/acme/automations/",
    "/orgs/acme/legacy/",
    "/orgs/acme/search/?q=classifier",
    "/account/",
    "/api/v1/docs/",
]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def catalogue(organization, org_admin, project, member, models_registry):
    links = [
        make_link(make_version(project, member, metrics={"accuracy": a}), models_registry, member)
        for a in (0.9, 0.95, 0.85)
    ]
    update_collection_description(
        actor=member,
        collection=links[0].collection,
        description="| metric | value |\n|---|---|\n| accuracy | 0.9 |\n\n> A quote.",
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(action=AuditAction.REGISTRY_UPDATE, organization=organization, target=f"t{n}")
        for n in range(60)
    )
    return links


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_the_main_pages_have_no_accessibility_violations(
    page, sign_in, org_admin, catalogue, axe, width
):
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(org_admin)
    found = {}
    for path in PAGES:
        page.goto(path)
        results = axe.run(page)
        if results.violations_count:
            found[path] = results.generate_report()
    assert not found, "\n\n".join(f"{path}\n{report}" for path, report in found.items())
