"""The header's navigation: every place, from every page, shown only to those who may use it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from apps.accounts.models import OrganizationRole, TeamRole
from tests.factories import make_member, make_team

LANDING = "/orgs/acme/registry/"


def nav_links(client, path: str) -> dict[str, tuple[str, str | None]]:
    """The Main navigation's links on the page at `path`: label -> (href, aria-current)."""
    html = client.get(path).content.decode()
    [nav] = re.findall(r'<nav class="site-nav" aria-label="Main">(.*?)</nav>', html, re.S)
    return {
        label: (href, current or None)
        for href, current, label in re.findall(
            r'<a href="([^"]*)"(?: aria-current="([^"]*)")?>([^<]*)</a>', nav
        )
    }


def test_an_admin_reaches_every_place_from_any_page(client, org_admin):
    org_admin.is_staff = True
    org_admin.save(update_fields=["is_staff"])
    client.force_login(org_admin)
    links = nav_links(client, "/account/")
    assert list(links) == [
        "Registries",
        "Projects",
        "Automations",
        "Legacy registry",
        "Migration",
        "Audit log",
        "API docs",
        "Admin",
    ]
    assert links["Audit log"][0] == "/orgs/acme/audit/"
    assert links["Migration"][0] == "/orgs/acme/legacy/migration/"
    assert links["Projects"][0] == f"{LANDING}#projects-heading"
    assert links["Admin"][0] == "/admin/"


def test_a_member_sees_only_what_they_may_use(client, member):
    client.force_login(member)
    links = nav_links(client, LANDING)
    assert "Audit log" not in links and "Admin" not in links and "Migration" not in links
    assert {"Registries", "Projects", "Automations", "Legacy registry", "API docs"} <= set(links)


def test_a_team_admin_sees_the_migration(client, organization):
    make_member(organization, "tara")
    make_team(organization, "vision", tara=TeamRole.ADMIN)
    client.force_login(organization.memberships.get(user__username="tara").user)
    assert "Migration" in nav_links(client, LANDING)
    assert client.get("/orgs/acme/legacy/migration/").status_code == 200


def test_the_current_section_is_marked(client, org_admin, models_registry, team):
    client.force_login(org_admin)
    assert nav_links(client, LANDING)["Registries"] == (LANDING, "page")
    assert nav_links(client, f"{LANDING}model/")["Registries"] == (LANDING, "true")
    on_migration = nav_links(client, "/orgs/acme/legacy/migration/")
    assert on_migration["Migration"][1] == "page" and on_migration["Legacy registry"][1] is None
    on_audit = nav_links(client, "/orgs/acme/audit/")
    assert [label for label, (_, current) in on_audit.items() if current] == ["Audit log"]


def test_a_viewer_is_shown_no_audit_log_and_it_is_refused(client, organization):
    viewer = make_member(organization, "vic", OrganizationRole.VIEWER)
    client.force_login(viewer)
    assert "Audit log" not in nav_links(client, LANDING)
    assert client.get("/orgs/acme/audit/").status_code == 403


def test_signed_out_there_is_no_navigation(client):
    assert 'class="site-nav"' not in client.get("/login/").content.decode()


@pytest.mark.parametrize(
    ("env", "site"),
    [
        ({"HOST": "0.0.0.0", "PORT": "8011"}, "http://0.0.0.0:8011"),
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8011", "SITE_URL": "https://registry.example"}, "https://registry.example"),
    ],
)
def test_the_site_address_follows_host_and_port_unless_set(env, site):
    """seed_demo prints SITE_URL's address: where `make run` serves, HOST and PORT, if unset."""
    clean = {k: v for k, v in os.environ.items() if k not in {"HOST", "PORT", "SITE_URL"}}
    printed = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SITE_URL)"],
        env={**clean, **env, "DEBUG": "true", "DJANGO_SETTINGS_MODULE": "registry_site.settings"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert printed.stdout.strip() == site
