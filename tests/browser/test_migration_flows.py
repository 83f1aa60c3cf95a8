"""Migrating a team's legacy Model Registry, watched in a real browser while a worker runs."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from apps.accounts.models import TeamRole
from apps.legacy.models import LegacyMigration, LegacyProtectedAlias, MigrationStatus
from tests.legacy.test_migration_view import make_legacy_registry

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def legacy(team, member, org_admin):
    """Team ml's legacy registry: classifier with 3 versions, detector with 1."""
    team.add_member(org_admin, TeamRole.ADMIN)
    make_legacy_registry(team, member, {"classifier": 3, "detector": 1})
    LegacyProtectedAlias.objects.create(team=team, name="production")
    return team


class BackgroundWorker:
    """`manage.py db_worker` in a thread of the test process, batch after batch, until stopped.

    On SQLite's in-memory test database the thread uses the live server's connection, as the
    server thread does: a connection of its own would reach the same shared-cache database, but
    a read by the server while a migration writes fails there with "database table is locked"
    (shared cache takes table locks, and they ignore the busy timeout). On PostgreSQL it opens
    its own connection and closes it when stopped.
    """

    def __init__(self, live_server) -> None:
        self.shared = live_server.thread.connections_override.get("default")
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._loop, name="db_worker", daemon=True)

    def _loop(self) -> None:
        from django.db import connections
        from django_tasks_db.management.commands.db_worker import Worker

        if self.shared is not None:
            connections["default"] = self.shared
        worker = Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default",
            startup_delay=False, max_tasks=None, worker_id="browser-test",
            excluded_queue_names=[],
        )  # fmt: skip
        try:
            while not self.stopping.is_set():
                worker.run()  # every task ready now, then back here
                self.stopping.wait(0.2)
        except BaseException as error:
            self.errors.append(error)
        finally:
            if self.shared is None:
                connections.close_all()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "the worker did not stop"
        assert not self.errors, self.errors


@pytest.fixture
def worker(live_server) -> Iterator[BackgroundWorker]:
    """A worker, started by the test when it wants one; always stopped before the database is
    flushed."""
    background = BackgroundWorker(live_server)
    yield background
    if background.thread.is_alive():
        background.stop()


def test_starting_a_migration_and_watching_it_finish_in_place(
    page, sign_in, org_admin, legacy, worker, screenshot
):
    sign_in(org_admin)
    page.goto("/orgs/acme/legacy/migration/")
    row = page.locator("#team-ml")
    expect(row).to_contain_text("Not started")
    page.get_by_text("Dry run: what migrating ml will create").click()
    plan = page.locator(".plan")
    expect(plan).to_contain_text("Creates the restricted registry ml-mr-migrated")
    expect(plan).to_contain_text("maria (member), olivia (admin)")
    expect(plan.get_by_role("rowheader", name="classifier")).to_be_visible()
    screenshot("dry-run")

    # Marks this page: a reload or a navigation would lose it.
    page.evaluate("window.notReloaded = true")
    expect(page.get_by_role("columnheader", name="Action")).to_be_visible()
    expect(row).to_contain_text("Copies the legacy registry into ml-mr-migrated, and makes it")
    # Nothing starts until the box says the legacy registry becomes read-only.
    row.get_by_role("button", name="Start migration").click()
    beside_the_box = page.locator("#team-ml td.action").get_by_role("alert")
    expect(beside_the_box).to_contain_text("Nothing started: tick the box to confirm")
    assert not LegacyMigration.objects.filter(team=legacy).exists()
    screenshot("unconfirmed")
    row.get_by_label("Make the legacy registry of ml read-only").check()
    row.get_by_role("button", name="Start migration").click()
    expect(row).to_have_attribute("data-status", "queued")
    expect(row).to_contain_text("Waiting for a worker")
    screenshot("queued")

    # The worker starts only once "queued" is committed and the start request is over: on
    # SQLite the server and the worker share one connection, and two transactions on it at
    # once would interleave.
    worker.start()
    expect(row).to_have_attribute("data-status", "done", timeout=20_000)
    worker.stop()
    expect(row).to_contain_text("Done")
    expect(row).to_contain_text("Finished just now")
    expect(row).to_contain_text("all 2 registered models, with 4 versions, are in ml-mr-migrated")
    expect(row).to_contain_text("nothing is copied twice")
    cells = row.locator("td.num")
    expect(cells).to_have_text(["2", "4", "4", "2", "4"])
    # The dry run opened before the start was reloaded when the migration finished.
    expect(plan).to_contain_text("Nothing to do: every registered model is migrated already.")
    assert page.evaluate("window.notReloaded") is True
    assert LegacyMigration.objects.get(team=legacy).status == MigrationStatus.DONE
    screenshot("done")

    row.get_by_role("link", name="ml-mr-migrated").click()
    expect(page.get_by_role("heading", name="ml-mr-migrated", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="classifier")).to_be_visible()
    expect(page.get_by_role("link", name="detector")).to_be_visible()
    screenshot("registry")


def test_without_javascript_a_first_start_is_confirmed_with_the_box(
    signed_in_page, org_admin, legacy
):
    page = signed_in_page(org_admin, java_script_enabled=False)
    page.goto("/orgs/acme/legacy/migration/")
    page.locator("#team-ml").get_by_role("button", name="Start migration").click()

    # The team's page: its dry run, and the row saying why nothing started.
    expect(page.get_by_role("heading", name="Migrating team ml")).to_be_visible()
    expect(page.locator("#team-ml")).to_contain_text("Nothing started: tick the box to confirm")
    assert not LegacyMigration.objects.filter(team=legacy).exists()
    page.get_by_label("Make the legacy registry of ml read-only").check()
    page.get_by_role("button", name="Start migration").click()
    expect(page.get_by_role("status")).to_contain_text("Queued the migration of team ml")
    assert LegacyMigration.objects.get(team=legacy).status == MigrationStatus.QUEUED
