"""seed_legacy: the data the migration tests and timings run on, with a history that replays to
exactly the rows it wrote."""

from __future__ import annotations

import re
from collections import defaultdict
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from apps.accounts.models import Organization, TeamRole
from apps.artifacts.models import ArtifactVersion
from apps.legacy.models import (
    LegacyAction,
    LegacyAlias,
    LegacyEvent,
    LegacyModelVersion,
    LegacyRegisteredModel,
    LegacyVersionTag,
)
from tests.factories import make_organization


def seed(**options) -> str:
    out = StringIO()
    options = {"org": "gen", "teams": 2, "models": 6, "versions": 5, **options}
    call_command("seed_legacy", stdout=out, **options)
    return out.getvalue()


def test_it_makes_what_it_says_and_how_long_it_took(db):
    output = seed()
    models = LegacyRegisteredModel.objects.filter(team__organization__slug="gen")
    assert models.count() == 12
    assert LegacyModelVersion.objects.filter(registered_model__in=models).count() == 60
    counts = re.search(
        r"(\d+) registered models, (\d+) linked versions, (\d+) aliases, (\d+) tags and (\d+) "
        r"history entries in [\d.]+ s",
        output,
    )
    assert counts is not None, output
    assert int(counts[3]) == LegacyAlias.objects.count()
    assert int(counts[5]) == LegacyEvent.objects.count()
    assert "legacy-1, legacy-2" in output
    assert "migrate_legacy_registry --org gen --all" in output


def test_it_makes_the_organization_when_missing_and_reuses_one_that_exists(db):
    make_organization("acme")
    seed(org="acme", teams=1, models=1, versions=1)
    seed(org="new", teams=1, models=1, versions=1)
    assert set(Organization.objects.values_list("slug", flat=True)) == {"acme", "new"}
    assert Organization.objects.get(slug="new").registries.filter(is_core=True).count() == 2


def test_each_team_has_every_role_a_legacy_admin_and_a_protected_production(db):
    seed(teams=1)
    team = Organization.objects.get(slug="gen").teams.get(slug="legacy-1")
    roles = dict(team.memberships.values_list("user__username", "role"))
    assert roles == {
        "gen-legacy-1-admin": TeamRole.ADMIN,
        "gen-legacy-1-member1": TeamRole.MEMBER,
        "gen-legacy-1-member2": TeamRole.MEMBER,
        "gen-legacy-1-viewer": TeamRole.VIEWER,
    }
    assert list(team.legacy_admins.values_list("user__username", flat=True)) == [
        "gen-legacy-1-member1"
    ]
    assert list(team.legacy_protected.values_list("name", flat=True)) == ["production"]
    assert team.organization.memberships.filter(user__username__in=roles).count() == 4


def test_sources_are_committed_models_of_the_team_logged_before_they_were_linked(db):
    seed()
    for legacy in LegacyModelVersion.objects.select_related(
        "version__artifact__project", "registered_model"
    ):
        source = legacy.version
        assert source.is_committed and source.files.count() == 1
        assert source.artifact.artifact_type == legacy.registered_model.artifact_type
        assert source.artifact.project.team_id == legacy.registered_model.team_id
        assert source.created_at == source.committed_at < legacy.linked_at
        assert legacy.registered_model.created_at < legacy.linked_at
    digests = ArtifactVersion.objects.values_list("artifact", "digest")
    assert len(set(digests)) == len(digests) == 60


def test_its_history_replays_to_exactly_the_rows_it_wrote(db):
    """Replaying each model's history gives its versions, aliases and tags: the migration
    carries this history over, so it has to tell the truth."""
    seed(teams=1, models=7, versions=6)
    linked_versions = defaultdict(dict)
    for legacy in LegacyModelVersion.objects.all():
        linked_versions[legacy.registered_model_id][legacy.number] = legacy
    version_tags = defaultdict(set)
    for tag in LegacyVersionTag.objects.select_related("model_version"):
        version_tags[tag.model_version.registered_model_id].add(
            (tag.model_version.number, tag.name)
        )
    for model in LegacyRegisteredModel.objects.prefetch_related("aliases__model_version", "tags"):
        holders, numbers, tags, model_tags = {}, [], set(), set()
        for event in model.events.order_by("created_at", "id"):
            data = event.data
            if event.action == LegacyAction.LINK:
                linked = linked_versions[model.pk][data["version"]]
                assert (event.actor_id, event.created_at) == (linked.linked_by_id, linked.linked_at)
                numbers.append(data["version"])
            elif event.action == LegacyAction.ALIAS_ADD:
                assert data["alias"] not in holders
                holders[data["alias"]] = data["version"]
            elif event.action == LegacyAction.ALIAS_MOVE:
                assert f"v{holders[data['alias']]}" == data["from_version"]
                assert data["to_version"] == f"v{data['version']}"
                holders[data["alias"]] = data["version"]
            elif event.action == LegacyAction.TAG_ADD and "version" in data:
                tags.add((data["version"], data["tag"]))
            elif event.action == LegacyAction.TAG_ADD:
                model_tags.add(data["tag"])
        assert numbers == list(range(6))
        assert holders == {a.name: a.model_version.number for a in model.aliases.all()}
        assert holders["latest"] == 5
        assert tags == version_tags[model.pk]
        assert model_tags == {tag.name for tag in model.tags.all()}
    moves = LegacyEvent.objects.filter(action=LegacyAction.ALIAS_MOVE)
    assert moves.filter(data__alias="staging").count() == 7
    assert moves.filter(data__alias="production").exists()


def test_it_refuses_to_overwrite_and_changes_nothing(db):
    seed()
    counts = {model: model.objects.count() for model in apps.get_models()}
    with pytest.raises(CommandError, match=r"legacy-1, legacy-2 exist in gen already.*never"):
        seed()
    assert {model: model.objects.count() for model in apps.get_models()} == counts


def test_another_prefix_adds_teams_beside_the_first(db):
    seed(teams=1)
    output = seed(teams=1, prefix="more")
    assert "more-1" in output
    teams = Organization.objects.get(slug="gen").teams.values_list("slug", flat=True)
    assert sorted(teams) == ["legacy-1", "more-1"]


def test_it_refuses_users_it_would_take_over(db):
    seed(org="gen", teams=1)
    Organization.objects.get(slug="gen").teams.update(slug="renamed", name="Renamed")
    with pytest.raises(CommandError, match=r"gen-legacy-1-admin.*exist already"):
        seed(org="gen", teams=1)


@pytest.mark.parametrize("sizes", [{"teams": 0}, {"models": 0}, {"versions": -1}])
def test_it_refuses_sizes_that_make_nothing(db, sizes):
    with pytest.raises(CommandError, match="at least one team"):
        seed(**sizes)
