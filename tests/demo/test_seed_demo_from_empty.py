"""seed_demo on an empty database, or on a demo made before the legacy registry existed."""

from __future__ import annotations

from apps.legacy.models import LegacyRegisteredModel
from tests.demo.seeding import seed


def test_it_prints_how_to_sign_in(db):
    output = seed()
    assert "registry-demo" in output and "http://127.0.0.1:8000/" in output


def test_the_first_run_says_where_to_try_the_migration(db):
    lines = seed().splitlines()
    assert lines[0] == "Seeded the demo organization 'acme'."
    assert "migrate_legacy_registry --all --dry-run" in lines[1]
    assert "/orgs/acme/legacy/migration/" in lines[1]
    assert lines[3].startswith("Demo accounts (local use only)")


def test_a_demo_made_before_the_legacy_registry_gets_it_on_the_next_run(db, monkeypatch):
    from apps.demo.management.commands import seed_demo

    monkeypatch.setattr(seed_demo.Command, "seed_legacy", lambda self, *args: None)
    seed()
    assert not LegacyRegisteredModel.objects.exists()
    monkeypatch.undo()
    output = seed()
    assert "Added a legacy Model Registry to the demo's teams." in output
    assert LegacyRegisteredModel.objects.count() == 4
    assert "nothing to do" in seed()
