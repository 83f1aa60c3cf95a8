"""The benchmark commands stay runnable; their figures are printed, never asserted."""

from __future__ import annotations

import urllib.parse
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.registries.models import Collection, Link


def test_seed_scale_makes_what_it_says(db):
    out = StringIO()
    call_command("seed_scale", collections=5, links=50, metrics=200, restricted=2, stdout=out)
    models = {"registry__organization__slug": "scale", "registry__slug": "model"}
    assert Collection.objects.filter(**models).count() == 5
    assert Link.objects.filter(**{f"collection__{k}": v for k, v in models.items()}).count() == 50
    hidden = Collection.objects.filter(registry__slug="restricted")
    assert hidden.count() == 2 and not hidden.filter(registry__visibility="organization")
    assert Link.objects.filter(collection__in=hidden).count() == 20
    assert "5 collections, 50 links" in out.getvalue()
    with pytest.raises(CommandError, match="exists already"):
        call_command("seed_scale", collections=5, links=50, metrics=200, stdout=StringIO())


def test_bench_pages_prints_a_line_per_page(db):
    call_command("seed_scale", collections=4, links=20, metrics=40, stdout=StringIO())
    out = StringIO()
    call_command("bench_pages", repeat=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[1].split() == ["page", "p50", "ms", "p95", "ms", "queries"]
    assert len(lines) == 2 + 17 + 1
    assert "Target p50" in lines[-1]


def test_bench_search_prints_a_line_per_query(db):
    call_command("seed_scale", collections=4, links=20, metrics=40, restricted=1, stdout=StringIO())
    out = StringIO()
    call_command("bench_search", repeat=1, stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Load average at the start: ")
    assert lines[3].split() == ["query", "p50", "ms", "p95", "ms", "queries"]
    assert len(lines) == 4 + 11 + 5 + 2
    assert "Target p50" in lines[-2] and lines[-1].startswith("Load average at the end: ")


def test_bench_search_needs_the_seed(db):
    with pytest.raises(CommandError, match="seed_scale"):
        call_command("bench_search", stdout=StringIO())


def test_bench_pages_needs_the_seed(db):
    with pytest.raises(CommandError, match="seed_scale"):
        call_command("bench_pages", stdout=StringIO())


def _maintenance_url() -> str:
    """The test database's server, at its maintenance database."""
    db = connection.settings_dict
    password = f":{urllib.parse.quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/postgres"


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="bench_serve runs on PostgreSQL")
def test_bench_serve_runs_ours_tiny_and_checks_numbering():
    pg_url, prefix = _maintenance_url(), "bench_serve_test"
    out = StringIO()
    try:
        call_command(
            "bench_serve",
            only="ours",
            collections=2,
            versions=3,
            big_versions=4,
            requests=2,
            duration=0.4,
            clients=2,
            pg_url=pg_url,
            db_prefix=prefix,
            stdout=out,
        )
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {prefix}_registry WITH (FORCE)")
    report = out.getvalue()
    for line in ("list collections", "resolve :champion", "create + link, 1 client"):
        assert line in report
    assert "0 duplicate and 0 missing numbers" in report
    assert "version page" in report
    assert "Start to first 200: ours" in report
    assert "MLflow" not in report.split("Memory after the load")[1]


def test_bench_serve_says_how_to_install_mlflow(tmp_path):
    with pytest.raises(CommandError, match="--only ours"):
        call_command("bench_serve", mlflow_venv=str(tmp_path), stdout=StringIO())
