"""manage.py migrate_legacy_registry: choosing teams, the dry run, the progress bar and summary,
the exit status, and saying there is nothing to do."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from io import StringIO

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import transaction

from apps.accounts.models import Organization, Team, User
from apps.artifacts.models import Project
from apps.legacy import migration
from apps.legacy.models import (
    LegacyMigration,
    LegacyModelVersion,
    LegacyRegisteredModel,
    MigrationStatus,
)
from apps.registries.models import Collection, Registry
from tests.factories import make_registry, make_version

# fast_leases is a fixture, used by name.
from tests.jobs.conftest import fast_leases, needs_postgresql, wait_for, worker_env  # noqa: F401

HEADER = ["team", "registry", "migrated", "now", "already", "versions", "failed"]
REGISTRY = "legacy-1-mr-migrated"


def generate(org: str = "gen", teams: int = 1, models: int = 3, versions: int = 2) -> None:
    call_command(
        "seed_legacy", org=org, teams=teams, models=models, versions=versions, stdout=StringIO()
    )


def migrate(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("migrate_legacy_registry", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def migrated_teams() -> list[str]:
    registries = Registry.objects.filter(name__endswith="-mr-migrated")
    return sorted(
        f"{r.organization.slug}/{r.name.removesuffix('-mr-migrated')}" for r in registries
    )


def break_a_version(team_slug: str = "legacy-1", org: str = "gen") -> str:
    """Point v1 of the team's first registered model at a dataset; returns the model's name."""
    team = Team.objects.get(organization__slug=org, slug=team_slug)
    model = team.legacy_models.order_by("name").first()
    actor = team.memberships.get(role="admin").user
    dataset = make_version(Project.objects.get(team=team), actor, "images", "dataset")
    LegacyModelVersion.objects.filter(registered_model=model, number=1).update(version=dataset)
    return model.name


def test_it_migrates_every_team_with_a_summary_table(db):
    generate(teams=2)
    out, _ = migrate("--all")
    lines = out.splitlines()
    assert lines[:2] == ["Team gen/legacy-1:", "Team gen/legacy-2:"]
    assert lines[2].split() == HEADER
    assert lines[3].split() == ["gen/legacy-1", "legacy-1-mr-migrated", "3", "0", "6", "0"]
    assert lines[4].split() == ["gen/legacy-2", "legacy-2-mr-migrated", "3", "0", "6", "0"]
    assert lines[5].startswith("Migrated 6 registered models (12 versions) in ")
    assert "Nothing to do" not in out
    assert migrated_teams() == ["gen/legacy-1", "gen/legacy-2"]


def test_a_second_run_says_there_is_nothing_to_do_and_changes_nothing(db):
    generate()
    migrate("--all")
    counts = row_counts()
    out, _ = migrate("--all")
    assert out.splitlines()[2].split() == ["gen/legacy-1", REGISTRY, "0", "3", "0", "0"]
    assert out.splitlines()[-1] == "Nothing to do: every registered model is already migrated."
    assert row_counts() == counts


def test_the_progress_bar_goes_to_stderr_and_reaches_the_total(db):
    generate(models=4)
    out, err = migrate("--team", "legacy-1")
    assert "\r  [" + "#" * 30 + "] 4/4 registered models" in err
    assert err.count("registered models") == 4
    assert "[" not in out


def test_verbosity_zero_hides_the_progress_bar(db):
    generate()
    _, err = migrate("--all", "--verbosity", "0")
    assert err == ""


def test_the_dry_run_prints_the_plan_and_changes_nothing(db):
    generate(models=2)
    counts = row_counts()
    out, err = migrate("--all", "--dry-run")
    assert row_counts() == counts
    assert err == ""
    assert out.splitlines() == [
        "Team gen/legacy-1 (dry run, nothing changes):",
        "  create restricted registry legacy-1-mr-migrated",
        "  members: gen-legacy-1-admin as admin, gen-legacy-1-member1 as admin, "
        "gen-legacy-1-member2 as member, gen-legacy-1-viewer as viewer",
        "  protected aliases: production",
        "  + collection classifier-000: 2 versions, 3 aliases",
        "  + collection detector-001: 2 versions, 4 aliases",
        "Dry run: 2 registered models would be migrated; nothing was changed.",
    ]


def test_the_dry_run_after_a_migration_says_there_is_nothing_to_do(db):
    generate()
    migrate("--all")
    out, _ = migrate("--all", "--dry-run")
    assert "  reuse restricted registry legacy-1-mr-migrated" in out
    assert "  3 registered models migrated already" in out
    assert out.splitlines()[-1] == "Nothing to do: every registered model is already migrated."


def test_the_dry_run_shows_problems_with_what_to_fix_and_exits_non_zero(db):
    generate()
    broken = break_a_version()
    counts = row_counts()
    out = StringIO()
    with pytest.raises(CommandError, match=r"found 1 problem\(s\), listed above"):
        call_command("migrate_legacy_registry", "--all", "--dry-run", stdout=out)
    assert f"  ! {broken}: v1 of {broken} points at legacy-1/training/images:v0" in out.getvalue()
    assert "then run the migration again" in out.getvalue()
    assert row_counts() == counts


def test_a_failure_is_listed_and_exits_non_zero_after_migrating_the_rest(db):
    generate()
    broken = break_a_version()
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 teams did not migrate completely") as failed:
        call_command("migrate_legacy_registry", "--all", stdout=out, stderr=StringIO())
    assert "run the command again: it resumes where it stopped" in str(failed.value)
    lines = out.getvalue().splitlines()
    assert lines[2].split() == ["gen/legacy-1", "legacy-1-mr-migrated", "2", "0", "4", "1"]
    assert lines[3].startswith(f"legacy-1: {broken}: v1 of {broken} points at")
    assert LegacyMigration.objects.get().status == MigrationStatus.FAILED
    assert not Collection.objects.filter(name=broken).exists()


def test_the_process_exits_with_status_one_on_failure(db, capsys):
    generate()
    break_a_version()
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "migrate_legacy_registry", "--all"]).execute()
    assert exited.value.code == 1
    assert "CommandError: 1 of 1 teams did not migrate completely" in capsys.readouterr().err


def test_a_conflicting_registry_name_is_reported_with_what_to_fix(db):
    generate()
    admin = User.objects.get(username="gen-admin")
    make_registry(Organization.objects.get(slug="gen"), admin, "legacy-1-mr-migrated")
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("migrate_legacy_registry", "--all", stdout=out, stderr=StringIO())
    assert (
        "legacy-1: legacy-1-mr-migrated: A registry named legacy-1-mr-migrated already exists"
        in out.getvalue()
    )
    assert "rename that registry" in out.getvalue()


def test_an_interrupted_run_says_how_to_resume_and_the_next_run_does(db, monkeypatch):
    generate(models=4)
    real = migration._migrate_model
    calls = []

    def interrupted(*args):
        calls.append(args)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(migration, "_migrate_model", interrupted)
    with pytest.raises(CommandError, match="Interrupted while migrating team legacy-1"):
        migrate("--all")
    assert Collection.objects.count() == 2
    monkeypatch.undo()
    out, _ = migrate("--all")
    assert out.splitlines()[2].split() == ["gen/legacy-1", REGISTRY, "2", "2", "4", "0"]
    assert Collection.objects.count() == 4


def test_team_may_be_repeated_and_only_those_teams_move(db):
    generate(teams=3)
    migrate("--team", "legacy-1", "--team", "legacy-3", "--team", "legacy-1")
    assert migrated_teams() == ["gen/legacy-1", "gen/legacy-3"]
    assert not LegacyMigration.objects.filter(team__slug="legacy-2").exists()


def test_org_limits_all_to_its_own_teams(db):
    generate(org="one")
    generate(org="two")
    migrate("--all", "--org", "two")
    assert migrated_teams() == ["two/legacy-1"]


def test_a_team_in_two_organizations_must_be_told_apart(db):
    generate(org="one")
    generate(org="two")
    with pytest.raises(CommandError) as ambiguous:
        migrate("--team", "legacy-1")
    assert str(ambiguous.value) == (
        "Team 'legacy-1' exists in several organizations (one, two): say which with --org, or "
        "write --team one/legacy-1."
    )
    assert migrated_teams() == []
    migrate("--team", "legacy-1", "--org", "two")
    migrate("--team", "one/legacy-1")
    assert migrated_teams() == ["one/legacy-1", "two/legacy-1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--team", "nope"], "There is no team 'nope'."),
        (["--team", "legacy-1", "--org", "nope"], "There is no organization 'nope'."),
        (
            ["--team", "legacy-9", "--org", "gen"],
            "There is no team 'legacy-9' in organization gen.",
        ),
        ([], "Name the teams to migrate with --team (repeatable), or choose --all."),
        (["--all", "--team", "legacy-1"], "Name the teams to migrate with --team"),
        (["--dry-run"], "Name the teams to migrate with --team"),
    ],
)
def test_it_refuses_a_choice_of_teams_it_cannot_follow(db, args, message):
    generate()
    counts = row_counts()
    with pytest.raises(CommandError) as refused:
        migrate(*args)
    assert str(refused.value).startswith(message)
    assert row_counts() == counts


def test_all_with_no_legacy_registries_has_nothing_to_do(organization):
    out, _ = migrate("--all")
    assert out.splitlines()[-1] == "Nothing to do: every registered model is already migrated."


# A run killed as a process


def start_migration_process(tmp_path) -> subprocess.Popen:
    """`manage.py migrate_legacy_registry --all` in a process of its own, short leases."""
    log = (tmp_path / "migrate.log").open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", "migrate_legacy_registry", "--all"],
        cwd=settings.BASE_DIR,
        env=worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stopped_at_the_third_model(tmp_path, stop: Callable[[subprocess.Popen], None]) -> None:
    """Start a run, hold it at the third registered model (its row locked here), stop it."""
    third = LegacyRegisteredModel.objects.order_by("name")[2]
    with transaction.atomic():
        LegacyRegisteredModel.objects.select_for_update().get(pk=third.pk)
        process = start_migration_process(tmp_path)
        migration = LegacyMigration.objects.filter(models_done=2)
        wait_for(migration.exists, what="the run to reach the third model")
        assert migration.get().current_status == MigrationStatus.RUNNING  # its heartbeat beats
        time.sleep(1.5)  # longer than the lease: the heartbeat, not progress, keeps it running
        assert migration.get().current_status == MigrationStatus.RUNNING
        stop(process)
        process.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_leases")
@needs_postgresql
def test_a_killed_run_reads_interrupted_and_the_next_run_resumes(client, tmp_path):
    generate(models=4)
    stopped_at_the_third_model(tmp_path, subprocess.Popen.kill)
    migration = LegacyMigration.objects.get()
    assert migration.status == MigrationStatus.RUNNING  # as the killed process left it
    wait_for(lambda: migration.current_status == MigrationStatus.INTERRUPTED, timeout=5)
    client.force_login(User.objects.get(username="gen-admin"))
    row = client.get("/orgs/gen/legacy/migration/legacy-1/", headers={"HX-Request": "true"})
    assert 'data-status="interrupted"' in row.content.decode()
    assert "Stopped after 2 of 4 registered models" in row.content.decode()

    out, _ = migrate("--all")
    assert out.splitlines()[2].split() == ["gen/legacy-1", REGISTRY, "2", "2", "4", "0"]
    assert LegacyMigration.objects.get().status == MigrationStatus.DONE
    assert Collection.objects.count() == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("fast_leases")
@needs_postgresql
def test_a_terminated_run_records_where_it_stopped(tmp_path):
    generate(models=4)
    stopped_at_the_third_model(tmp_path, subprocess.Popen.terminate)
    migration = LegacyMigration.objects.get()
    assert migration.status == MigrationStatus.FAILED
    assert migration.error.startswith("Interrupted after 2 of 4 registered models")
    assert "Interrupted while migrating team legacy-1" in (tmp_path / "migrate.log").read_text()
