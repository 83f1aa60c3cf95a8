from __future__ import annotations

from io import StringIO

from django.core.management import call_command


def seed() -> str:
    """Run seed_demo; returns what it printed."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()
