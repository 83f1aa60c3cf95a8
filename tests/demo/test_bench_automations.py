"""bench_automations stays runnable; its figures are printed, never asserted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="its worker process shares the database: SQLite's test database is in memory",
)
def test_it_runs_tiny_and_loses_nothing():
    out = StringIO()
    call_command(
        "bench_automations", events=3, burst=10, backlog=5, worker_interval=0.1, stdout=out
    )
    report = out.getvalue()
    assert "Event to delivery, 3 events" in report and "p95" in report
    assert "10 executions, 10 delivered, 0 lost, 0 duplicated, 0 failed" in report
    assert "5 executions, 5 delivered, 0 lost, 0 duplicated, 0 failed" in report
    assert "signatures verified: 18 of 18 requests" in report
    assert report.count("Load average") == 4


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's test database is in memory")
def test_it_says_an_in_memory_database_cannot_be_shared(db):
    with pytest.raises(CommandError, match="in-memory SQLite"):
        call_command("bench_automations", events=1, burst=1, stdout=StringIO())
