"""The benchmark commands stay runnable; their figures are printed, never asserted."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.registries.models import Collection, Link


def test_seed_scale_makes_what_it_says(db):
    out = StringIO()
    call_command("seed_scale", collections=5, links=50, metrics=200, stdout=out)
    assert Collection.objects.filter(registry__organization__slug="scale").count() == 5
    assert Link.objects.filter(collection__registry__organization__slug="scale").count() == 50
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


def test_bench_pages_needs_the_seed(db):
    with pytest.raises(CommandError, match="seed_scale"):
        call_command("bench_pages", stdout=StringIO())
