"""After migration, every collection and version shows exactly the tags it showed before.

Legacy tags were on one model version; the source version they point at may be linked by other
registered models and by Registry collections too. Generated layouts: models sharing source
versions, tagged and untagged, beside a collection that links the same versions.
"""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import OrganizationRole, TeamRole
from apps.artifacts.models import VersionTag
from apps.legacy import services as legacy
from apps.legacy.migration import migrate_team
from apps.registries import services
from apps.registries.models import Collection, Registry
from tests.factories import (
    make_link,
    make_member,
    make_organization,
    make_project,
    make_team,
    make_version,
)

TAGS = ["eval", "fast", "gpu", "reviewed"]
SOURCES = 3

# Per registered model: the source versions its versions point at (each once), with their tags.
model_versions = st.dictionaries(
    st.integers(0, SOURCES - 1), st.sets(st.sampled_from(TAGS), max_size=2), max_size=SOURCES
)
layouts = st.fixed_dictionaries(
    {
        "models": st.lists(model_versions, min_size=1, max_size=3),
        # Tags on the source versions themselves, and which of them a Registry collection links.
        "source_tags": st.lists(
            st.sets(st.sampled_from(TAGS), max_size=2), min_size=SOURCES, max_size=SOURCES
        ),
        "linked": st.sets(st.integers(0, SOURCES - 1)),
    }
)


def shown(collection: Collection) -> dict[int, set[str]]:
    return {link.number: set(link.tag_names()) for link in collection.links.all()}


@pytest.mark.slow
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(layout=layouts)
def test_each_collection_and_version_shows_exactly_the_tags_it_showed(db, layout):
    with transaction.atomic():
        check_layout(layout)
        transaction.set_rollback(True)


def check_layout(layout: dict) -> None:
    organization = make_organization()
    admin = make_member(organization, role=OrganizationRole.ADMIN)
    team = make_team(organization, **{admin.username: TeamRole.ADMIN})
    project = make_project(team)
    sources = [make_version(project, admin) for _ in range(SOURCES)]
    for source, tags in zip(sources, layout["source_tags"], strict=True):
        VersionTag.objects.bulk_create(VersionTag(version=source, name=tag) for tag in tags)
    models = Registry.objects.get(organization=organization, slug="model")
    for index in sorted(layout["linked"]):
        make_link(sources[index], models, admin, collection="shared")
    shared = Collection.objects.filter(registry=models, name="shared").first()
    before = {
        # A legacy version shows its own tags and, as every link does, its source's.
        f"model-{m}": {
            number: tags | layout["source_tags"][index]
            for number, (index, tags) in enumerate(versions.items())
        }
        for m, versions in enumerate(layout["models"])
    }
    for m, versions in enumerate(layout["models"]):
        model = legacy.register_model(actor=admin, team=team, name=f"model-{m}")
        for index, tags in versions.items():
            version = legacy.link_version(
                actor=admin, registered_model=model, version=sources[index]
            )
            legacy.tag_version(actor=admin, model_version=version, tags=tags)
    shared_before = shown(shared) if shared else {}
    source_tags_before = set(VersionTag.objects.values_list("version", "name"))

    result = migrate_team(team, actor=admin)

    assert result.ok, result.failed
    migrated = Registry.objects.get(organization=organization, slug=f"{team.slug}-mr-migrated")
    assert {c.name: shown(c) for c in migrated.collections.all()} == before
    assert (shown(shared) if shared else {}) == shared_before
    assert set(VersionTag.objects.values_list("version", "name")) == source_tags_before


def test_a_tag_removed_through_a_migrated_link_goes_from_that_link_alone(db):
    organization = make_organization()
    admin = make_member(organization, role=OrganizationRole.ADMIN)
    team = make_team(organization, **{admin.username: TeamRole.ADMIN})
    source = make_version(make_project(team), admin)
    for name in ("first", "second"):
        model = legacy.register_model(actor=admin, team=team, name=name)
        version = legacy.link_version(actor=admin, registered_model=model, version=source)
        legacy.tag_version(actor=admin, model_version=version, tags=["reviewed"])
    migrate_team(team, actor=admin)
    first, second = Collection.objects.filter(name__in=["first", "second"]).order_by("name")

    services.remove_version_tag(actor=admin, link=first.links.get(), tag="reviewed")

    assert (shown(first), shown(second)) == ({0: set()}, {0: {"reviewed"}})
