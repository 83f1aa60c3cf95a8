"""The migration view: who may see and start migrations, the dry run, counts, the task."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from apps.accounts.models import Team, TeamRole, User
from apps.audit.models import AuditAction, AuditEvent
from apps.jobs.models import Worker
from apps.legacy import services
from apps.legacy.migration import migrate_team, migration_of
from apps.legacy.models import LegacyMigration, LegacyProtectedAlias, MigrationStatus
from apps.registries.models import Registry
from tests.factories import (
    make_legacy_model,
    make_link,
    make_member,
    make_project,
    make_registry,
    make_version,
)

OVERVIEW = "/orgs/acme/legacy/migration/"
TEAM = "/orgs/acme/legacy/migration/ml/"
HTMX = {"HX-Request": "true"}
# The box that confirms a first start, which makes the legacy registry read-only.
CONFIRMED = {"confirm": "yes"}


def make_legacy_registry(team: Team, actor: User, models: dict[str, int]) -> None:
    """Registered models with that many versions each; `production` on each model's v0."""
    project = make_project(team)
    for name, versions in models.items():
        aliases = [["production"], *[[] for _ in range(versions - 1)]]
        make_legacy_model(project, actor, name, aliases=aliases[:versions], artifact=name)


@pytest.fixture
def team_admin(organization, team) -> User:
    """Tara: organization member and admin of team `ml`, so she may migrate ml and only ml."""
    user = make_member(organization, "tara")
    team.add_member(user, TeamRole.ADMIN)
    return user


@pytest.fixture
def legacy(team, member, team_admin) -> Team:
    """Team ml's legacy registry: classifier with 3 versions, detector with 1; each has `latest`
    and `production` (on v0), so 4 aliases in all (detector's v0 holds both); `production` is
    protected."""
    make_legacy_registry(team, member, {"classifier": 3, "detector": 1})
    LegacyProtectedAlias.objects.create(team=team, name="production")
    return team


def status_of(team: Team) -> str:
    return LegacyMigration.objects.get(team=team).status


# Who may see and start migrations


def test_it_shows_organization_admins_every_team_with_a_legacy_registry(
    client, organization, org_admin, legacy, member
):
    vision = organization.create_team("Vision")
    make_legacy_registry(vision, org_admin, {"segmenter": 1})
    organization.create_team("Empty")
    client.force_login(org_admin)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="team-ml"' in page
    assert 'id="team-vision"' in page
    assert 'id="team-empty"' not in page
    assert "Start migration" in page


def test_it_shows_team_admins_only_their_teams(client, organization, org_admin, legacy, team_admin):
    make_legacy_registry(organization.create_team("Vision"), org_admin, {"segmenter": 1})
    client.force_login(team_admin)
    page = client.get(OVERVIEW).content.decode()
    assert 'id="team-ml"' in page
    assert 'id="team-vision"' not in page
    assert client.get("/orgs/acme/legacy/migration/vision/").status_code == 404


def test_it_lets_team_admins_start_their_teams_migration(client, legacy, team_admin):
    client.force_login(team_admin)
    assert client.get(TEAM).status_code == 200
    assert client.post(TEAM, CONFIRMED).status_code == 302
    migration = LegacyMigration.objects.get(team=legacy)
    assert migration.status == MigrationStatus.QUEUED
    assert migration.started_by == team_admin


@pytest.mark.parametrize("path", [OVERVIEW, TEAM])
def test_it_refuses_team_members_naming_their_role(client, legacy, member, path):
    client.force_login(member)
    response = client.get(path)
    assert response.status_code == 403
    assert "you are a member" in response.content.decode()


def test_it_refuses_a_team_member_who_posts(client, legacy, member):
    client.force_login(member)
    response = client.post(TEAM, CONFIRMED)
    assert response.status_code == 403
    assert "needs the admin role in the team" in response.content.decode()
    assert not LegacyMigration.objects.filter(team=legacy).exists()


def test_it_hides_the_team_from_organization_viewers(client, legacy, viewer):
    client.force_login(viewer)
    assert client.get(TEAM).status_code == 404
    assert client.post(TEAM, CONFIRMED).status_code == 404
    response = client.get(OVERVIEW)
    assert response.status_code == 403
    assert "you are a viewer" in response.content.decode()


@pytest.mark.parametrize("path", [OVERVIEW, TEAM])
def test_it_hides_everything_from_outsiders(client, legacy, outsider, path):
    client.force_login(outsider)
    assert client.get(path).status_code == 404
    assert client.post(TEAM, CONFIRMED).status_code == 404


@pytest.mark.parametrize("path", [OVERVIEW, TEAM])
def test_it_sends_anonymous_visitors_to_login(client, legacy, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"
    assert client.post(TEAM, CONFIRMED).status_code == 302
    assert not LegacyMigration.objects.exists()


def test_it_rejects_other_methods(client, legacy, org_admin):
    client.force_login(org_admin)
    assert client.post(OVERVIEW).status_code == 405
    assert client.put(TEAM).status_code == 405
    assert client.delete(TEAM).status_code == 405


def test_it_has_no_page_for_a_team_without_a_legacy_registry(client, organization, org_admin):
    organization.create_team("Empty")
    client.force_login(org_admin)
    assert client.get("/orgs/acme/legacy/migration/empty/").status_code == 404
    assert client.post("/orgs/acme/legacy/migration/empty/", CONFIRMED).status_code == 404
    assert not LegacyMigration.objects.exists()


# The dry run and the counts


def cells(page: str, team: str) -> list[str]:
    """The numbers in a team's row: legacy models, versions, aliases; migrated models, versions."""
    row = re.search(rf'<tr id="team-{team}".*?</tr>', page, re.S).group(0)
    return re.findall(r'<td class="num">(\d+)</td>', row)


def test_it_counts_what_the_legacy_registry_holds(client, legacy, org_admin):
    client.force_login(org_admin)
    page = client.get(OVERVIEW).content.decode()
    assert cells(page, "ml") == ["2", "4", "4", "0", "0"]
    assert "Not started" in page


def test_the_team_page_shows_the_dry_run(client, legacy, org_admin, team_admin):
    client.force_login(org_admin)
    response = client.get(TEAM)
    page = response.content.decode()
    assert "Creates the restricted registry <strong>ml-mr-migrated</strong>" in page
    assert "2 to create with 4 versions" in page
    assert "maria (member), tara (admin)" in page
    assert 'class="chip chip-protected"' in page
    assert "production" in page
    assert '<th scope="row">classifier</th>\n        <td class="num">3</td>' in page
    assert '<th scope="row">detector</th>\n        <td class="num">1</td>' in page
    # Opened on the overview, the same dry run comes alone.
    fragment = client.get(f"{TEAM}?part=plan", headers=HTMX).content.decode()
    assert "Creates the restricted registry <strong>ml-mr-migrated</strong>" in fragment
    assert "<html" not in fragment


def test_the_dry_run_shows_a_registry_name_already_taken(client, organization, legacy, org_admin):
    make_registry(organization, org_admin, "ml-mr-migrated")
    client.force_login(org_admin)
    page = client.get(TEAM).content.decode()
    assert "Cannot migrate now: A registry named ml-mr-migrated already exists" in page


def test_the_dry_run_shows_collections_in_conflict(
    client, organization, legacy, org_admin, project
):
    """An earlier run made the registry; someone since made a collection named like a model."""
    registry = make_registry(organization, org_admin, "ml-mr-migrated")
    LegacyMigration.objects.create(team=legacy, registry=registry, status=MigrationStatus.FAILED)
    make_link(make_version(project, org_admin), registry, org_admin, "classifier")
    client.force_login(org_admin)
    page = client.get(TEAM).content.decode()
    assert "Brings the restricted registry <strong>ml-mr-migrated</strong>" in page
    assert "1 to create with 1 version, <strong>1 in conflict</strong>" in page
    assert "Conflict: Collection classifier already exists in ml-mr-migrated" in page


def test_the_overview_loads_each_dry_run_when_opened(client, legacy, org_admin):
    client.force_login(org_admin)
    page = client.get(OVERVIEW).content.decode()
    assert f'hx-get="{TEAM}?part=plan" hx-trigger="toggle once, migration-finished-ml' in page
    assert f'<a href="{TEAM}">See the dry run of ml</a>' in page
    assert "Creates the restricted registry" not in page


def test_overview_query_count_does_not_grow_with_teams_or_models(
    client, organization, legacy, org_admin, django_assert_num_queries
):
    """Intended to prevent an n+1: counts come from subqueries, migrations from one join."""
    client.force_login(org_admin)
    with django_assert_num_queries(6):
        client.get(OVERVIEW)
    for name in ("Vision", "Speech", "Tabular"):
        make_legacy_registry(organization.create_team(name), org_admin, {"a": 2, "b": 1})
    migration_of(legacy)
    with django_assert_num_queries(6):
        page = client.get(OVERVIEW).content.decode()
    assert page.count("<tbody>") == 4


def test_row_query_count_is_fixed(client, legacy, org_admin, django_assert_num_queries):
    """Intended to prevent an n+1: a polled row costs the same however much the team holds."""
    client.force_login(org_admin)
    with django_assert_num_queries(5):
        client.get(TEAM, headers=HTMX)
    make_legacy_registry(legacy, org_admin, {"c": 3, "d": 2})
    with django_assert_num_queries(5):
        client.get(TEAM, headers=HTMX)


# Starting


def test_starting_queues_the_migration_and_enqueues_one_task_after_commit(
    client, legacy, org_admin, django_capture_on_commit_callbacks
):
    client.force_login(org_admin)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(TEAM, CONFIRMED)
        assert status_of(legacy) == MigrationStatus.QUEUED
        assert not DBTaskResult.objects.exists()
    assert response.status_code == 302
    assert response["Location"] == OVERVIEW
    assert len(callbacks) == 1
    callbacks[0]()
    task = DBTaskResult.objects.get()
    assert task.task_path == "apps.legacy.tasks.migrate_legacy_team"
    assert task.args_kwargs == {"args": [legacy.pk, org_admin.pk], "kwargs": {}}
    page = client.get(OVERVIEW).content.decode()
    assert "Queued the migration of team ml" in page
    assert 'data-status="queued" hx-get="/orgs/acme/legacy/migration/ml/"' in page


def test_starting_makes_the_legacy_registry_read_only(client, legacy, org_admin, member):
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    with pytest.raises(Exception, match="read-only"):
        services.register_model(actor=member, team=legacy, name="late")


def test_starting_with_htmx_answers_the_polling_row(
    client, legacy, org_admin, django_capture_on_commit_callbacks
):
    client.force_login(org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TEAM, CONFIRMED, headers=HTMX)
    row = response.content.decode()
    assert response.status_code == 200
    assert row.lstrip().startswith('<tr id="team-ml" data-status="queued"')
    assert 'hx-trigger="every 1s"' in row
    assert "Start migration" not in row
    assert DBTaskResult.objects.count() == 1


@pytest.mark.parametrize("status", [MigrationStatus.QUEUED, MigrationStatus.RUNNING])
def test_starting_twice_is_refused(
    client, legacy, org_admin, status, django_capture_on_commit_callbacks
):
    LegacyMigration.objects.create(team=legacy, status=status, heartbeat_at=timezone.now())
    client.force_login(org_admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(TEAM, CONFIRMED, follow=True)
        fragment = client.post(TEAM, CONFIRMED, headers=HTMX).content.decode()
    assert callbacks == []
    assert not DBTaskResult.objects.exists()
    assert status_of(legacy) == status
    message = (
        f"The migration of team ml is {status.label.lower()} already; it was not started again."
    )
    assert message in response.content.decode()
    assert message in fragment


@pytest.mark.parametrize("status", [MigrationStatus.DONE, MigrationStatus.FAILED])
def test_a_finished_migration_may_be_started_again(
    client, legacy, org_admin, status, django_capture_on_commit_callbacks
):
    LegacyMigration.objects.create(team=legacy, status=status, error="x: it broke")
    client.force_login(org_admin)
    page = client.get(OVERVIEW).content.decode()
    assert ("Run again" if status == MigrationStatus.DONE else "Try again") in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(TEAM, CONFIRMED)
    migration = LegacyMigration.objects.get(team=legacy)
    assert migration.status == MigrationStatus.QUEUED
    assert migration.error == ""
    assert DBTaskResult.objects.count() == 1


def test_a_first_start_says_what_happens_and_waits_for_the_box(client, legacy, org_admin):
    client.force_login(org_admin)
    page = client.get(OVERVIEW).content.decode()
    assert '<th scope="col" rowspan="2">Action</th>' in page
    assert (
        "Copies the legacy registry into ml-mr-migrated, and makes it read-only: nobody can "
        "register, tag or alias its models there any more."
    ) in page
    assert 'name="confirm"' in page and "Make the legacy registry of ml read-only" in page

    notice = (
        "Nothing started: tick the box to confirm that the legacy Model Registry of team ml "
        "becomes read-only."
    )
    response = client.post(TEAM)  # without JavaScript: the team's page, its dry run and why
    assert response.status_code == 400
    assert notice in response.content.decode()
    assert "Dry run: what migrating ml will create" in response.content.decode()
    fragment = client.post(TEAM, headers=HTMX)  # with htmx: the row, in place
    assert fragment.status_code == 400
    assert (
        fragment.content.decode().lstrip().startswith('<tr id="team-ml" data-status="not_started"')
    )
    assert notice in fragment.content.decode()
    assert not LegacyMigration.objects.exists()
    services.register_model(actor=org_admin, team=legacy, name="still-writable")


@pytest.mark.parametrize("status", [MigrationStatus.DONE, MigrationStatus.FAILED])
def test_a_later_run_needs_no_box_the_registry_is_read_only_already(
    client, legacy, org_admin, status
):
    LegacyMigration.objects.create(team=legacy, status=status, finished_at=timezone.now())
    client.force_login(org_admin)
    assert 'name="confirm"' not in client.get(OVERVIEW).content.decode()
    assert client.post(TEAM).status_code == 302
    assert status_of(legacy) == MigrationStatus.QUEUED


@pytest.mark.parametrize(
    ("ago", "shown"), [(timedelta(seconds=5), ">just now<"), (timedelta(minutes=3), ">3")]
)
def test_a_finished_row_says_when_and_what_it_did(client, legacy, org_admin, ago, shown):
    LegacyMigration.objects.create(
        team=legacy, status=MigrationStatus.DONE, finished_at=timezone.now() - ago
    )
    client.force_login(org_admin)
    row = client.get(TEAM, headers=HTMX).content.decode()
    assert shown in row and "0\xa0minutes" not in row
    assert "are in ml-mr-migrated. The legacy registry is read-only." in row
    assert "nothing is copied twice" in row


def test_a_running_row_shows_its_progress(client, legacy, org_admin):
    LegacyMigration.objects.create(
        team=legacy,
        status=MigrationStatus.RUNNING,
        models_total=2,
        models_done=1,
        heartbeat_at=timezone.now() - timedelta(seconds=3),
    )
    client.force_login(org_admin)
    response = client.get(TEAM, headers=HTMX)
    row = response.content.decode()
    assert '<progress max="2" value="1"' in row
    assert "1 of 2 registered models; last heartbeat 3 s ago" in row
    assert 'hx-trigger="every 1s"' in row
    assert "<form" not in row
    assert "HX-Trigger" not in response


# The worker


@pytest.mark.django_db(transaction=True)
def test_the_worker_migrates_and_the_row_shows_done(client, legacy, org_admin, run_worker):
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    assert status_of(legacy) == MigrationStatus.QUEUED
    run_worker()
    migration = LegacyMigration.objects.select_related("registry").get(team=legacy)
    assert migration.status == MigrationStatus.DONE
    assert (migration.models_done, migration.models_total) == (2, 2)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    registry = Registry.objects.get(slug="ml-mr-migrated")
    assert migration.registry == registry
    # The task ran as the admin who pressed Start.
    assert (
        AuditEvent.objects.filter(
            registry=registry, action=AuditAction.MIGRATE, actor=org_admin
        ).count()
        == 2
    )
    response = client.get(TEAM, headers=HTMX)
    row = response.content.decode()
    assert 'data-status="done"' in row
    assert "hx-trigger" not in row
    # The last poll tells the overview's dry run to reload.
    assert json.loads(response["HX-Trigger"]) == {"migration-finished-ml": {}}
    assert cells(row, "ml") == ["2", "4", "4", "2", "4"]
    url = reverse("registries:registry", kwargs={"org": "acme", "registry": registry.slug})
    assert f'<a href="{url}">ml-mr-migrated</a>' in row
    assert "Run again" in row


@pytest.mark.django_db(transaction=True)
def test_a_failure_shows_failed_with_the_reason(
    client, organization, legacy, org_admin, run_worker
):
    make_registry(organization, org_admin, "ml-mr-migrated")
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    run_worker()
    assert status_of(legacy) == MigrationStatus.FAILED
    row = client.get(TEAM, headers=HTMX).content.decode()
    assert 'data-status="failed"' in row
    assert "A registry named ml-mr-migrated already exists" in row
    assert cells(row, "ml") == ["2", "4", "4", "0", "0"]
    assert "Try again" in row


@pytest.mark.django_db(transaction=True)
def test_an_error_in_every_attempt_leaves_the_row_failed_with_the_reason(
    client, legacy, org_admin, run_worker, monkeypatch, settings
):
    """Before migrate_team turns the row to running, nothing else would move it on from queued."""
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "OPTIONS": {"RETRY_DELAY_SECONDS": 0}}
    }

    def broken(team, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("apps.legacy.tasks.migrate_team", broken)
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    run_worker()
    task = DBTaskResult.objects.get()
    assert (task.status, len(task.worker_ids)) == ("FAILED", 3)
    migration = LegacyMigration.objects.get(team=legacy)
    assert migration.status == MigrationStatus.FAILED
    assert migration.error == (
        "The migration stopped: RuntimeError: disk full (attempt 3 of 3). What moved stays; "
        "start it again to resume."
    )
    assert "Try again" in client.get(TEAM, headers=HTMX).content.decode()


@pytest.mark.django_db(transaction=True)
def test_between_attempts_the_row_says_why_the_last_stopped_and_when_the_next_runs(
    client, legacy, org_admin, run_worker, monkeypatch, settings
):
    settings.TASKS = {
        "default": {**settings.TASKS["default"], "OPTIONS": {"RETRY_DELAY_SECONDS": 60}}
    }
    calls = []

    def broken_once(team, **kwargs):
        calls.append(team)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return migrate_team(team, **kwargs)

    monkeypatch.setattr("apps.legacy.tasks.migrate_team", broken_once)
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    run_worker()

    migration = LegacyMigration.objects.get(team=legacy)
    task = DBTaskResult.objects.get()
    again_at = timezone.localtime(task.run_after).strftime("%H:%M:%S")
    assert migration.status == MigrationStatus.QUEUED
    note = (
        "The last run stopped: RuntimeError: disk full (attempt 1 of 3). "
        f"It runs again at {again_at}, resuming where it stopped."
    )
    assert migration.error == note
    assert note in client.get(TEAM, headers=HTMX).content.decode()

    DBTaskResult.objects.update(run_after=timezone.now())
    run_worker()
    migration.refresh_from_db()
    assert (migration.status, migration.error) == (MigrationStatus.DONE, "")


@pytest.mark.django_db(transaction=True)
def test_a_team_with_nothing_left_to_move_does_not_stay_queued(
    client, legacy, org_admin, run_worker
):
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    legacy.legacy_models.all().delete()  # by staff, between the start and the worker
    run_worker()
    assert status_of(legacy) == MigrationStatus.DONE


# The truth when nothing runs it


def test_a_running_migration_whose_heartbeat_stopped_reads_interrupted_and_resumes(
    client, legacy, org_admin, django_capture_on_commit_callbacks
):
    """Its worker or command was killed outright: nothing runs it, so it is not running."""
    LegacyMigration.objects.create(
        team=legacy,
        status=MigrationStatus.RUNNING,
        models_total=2,
        models_done=1,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    client.force_login(org_admin)
    response = client.get(TEAM, headers=HTMX)
    row = response.content.decode()
    assert 'data-status="interrupted"' in row
    assert "Stopped after 1 of 2 registered models: what ran it (a worker or the command) " in row
    assert "stopped answering at <time" in row
    assert ">Resume</button>" in row
    assert "hx-trigger" not in row  # nothing to wait for: polling stops
    assert json.loads(response["HX-Trigger"]) == {"migration-finished-ml": {}}

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TEAM, CONFIRMED, follow=True)
    assert "Queued the migration of team ml" in response.content.decode()
    assert status_of(legacy) == MigrationStatus.QUEUED
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_migration_started_again_resumes_where_it_stopped(
    client, legacy, org_admin, run_worker
):
    client.force_login(org_admin)
    client.post(TEAM, CONFIRMED)
    run_worker()
    # As a killed run leaves it: one model moved back to not migrated, the row running, silent.
    legacy.legacy_models.filter(name="detector").update(migrated_to=None, migrated_at=None)
    Registry.objects.get(slug="ml-mr-migrated").collections.filter(name="detector").delete()
    LegacyMigration.objects.filter(team=legacy).update(
        status=MigrationStatus.RUNNING, models_done=1, heartbeat_at=None
    )
    assert 'data-status="interrupted"' in client.get(TEAM, headers=HTMX).content.decode()
    client.post(TEAM, CONFIRMED)
    run_worker()
    migration = LegacyMigration.objects.get(team=legacy)
    assert (migration.status, migration.models_done) == (MigrationStatus.DONE, 2)
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 2
    row = client.get(TEAM, headers=HTMX).content.decode()
    assert cells(row, "ml") == ["2", "4", "4", "2", "4"]


def test_a_queued_migration_says_when_no_worker_is_there_to_run_it(client, legacy, org_admin):
    LegacyMigration.objects.create(team=legacy, status=MigrationStatus.QUEUED)
    client.force_login(org_admin)
    row = client.get(TEAM, headers=HTMX).content.decode()
    assert "Waiting for a worker, but none is running: start one with" in row
    assert "<code>manage.py db_worker</code>" in row
    assert 'hx-trigger="every 1s"' in row  # so the row moves on once one starts

    Worker.objects.create(worker_id="w1", hostname="h", pid=1)
    row = client.get(TEAM, headers=HTMX).content.decode()
    assert "Waiting for a worker (<code>manage.py db_worker</code>) to pick it up." in row
    assert "none is running" not in row

    Worker.objects.update(heartbeat_at=timezone.now() - timedelta(hours=1))
    assert "none is running" in client.get(TEAM, headers=HTMX).content.decode()
