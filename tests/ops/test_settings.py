"""Production settings as the environment gives them, read afresh by a new process each time."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD

BEHIND_TLS_PROXY = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "registry.example.com",
    "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}
POSTGRES = "postgres://registry@127.0.0.1:5432/registry"  # never connected to here


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the variables given: none of the test run's own (DEBUG, DATABASE_URL, ...) leak in.
    return subprocess.run(
        [sys.executable, *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deploy_checks_pass_behind_a_tls_proxy():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], BEHIND_TLS_PROXY)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_the_tls_settings_the_deploy_checks_warn():
    plain = {k: v for k, v in BEHIND_TLS_PROXY.items() if not k.startswith("SECURE_")}
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], plain)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


def setting(name: str, env: dict[str, str]):
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps(settings.{name}))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "registry_site.settings", "DEBUG": "true", **env}
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def database_settings(env: dict[str, str]) -> dict:
    return setting("DATABASES['default']", env)


def test_the_proxy_header_is_named_as_the_proxy_sends_it():
    header = setting("SECURE_PROXY_SSL_HEADER", BEHIND_TLS_PROXY)
    assert header == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_behind_the_proxy_https_is_recognised_and_forms_pass_csrf(db, settings, member):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    client = Client(enforce_csrf_checks=True)
    assert client.get("/login/").status_code == 301  # plain HTTP
    over_tls = {"X-Forwarded-Proto": "https", "Host": "testserver"}  # as the proxy passes them
    page = client.get("/login/", headers=over_tls)
    assert page.status_code == 200
    signed_in = client.post(
        "/login/",
        {
            "username": member.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": page.context["csrf_token"],
        },
        headers={**over_tls, "Origin": "https://testserver"},
    )
    assert signed_in.status_code == 302


def test_postgresql_gets_a_checked_pool_sized_for_the_threads():
    database = database_settings({"DATABASE_URL": POSTGRES, "WEB_THREADS": "6"})
    assert database["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 6, "timeout": 5.0}
    assert database["CONN_HEALTH_CHECKS"] is True  # Django then has the pool check each one
    assert database["CONN_MAX_AGE"] == 0


def test_a_request_waits_for_a_pooled_connection_as_long_as_the_setting_says():
    database = database_settings({"DATABASE_URL": POSTGRES, "DATABASE_POOL_TIMEOUT": "0.5"})
    assert database["OPTIONS"]["pool"]["timeout"] == 0.5


def test_conn_max_age_is_for_when_the_pool_is_off():
    refused = run(
        ["manage.py", "check"], {"DEBUG": "true", "DATABASE_URL": POSTGRES, "CONN_MAX_AGE": "60"}
    )
    assert refused.returncode != 0
    assert "set DATABASE_POOL=false to use it" in refused.stderr
    database = database_settings(
        {"DATABASE_URL": POSTGRES, "CONN_MAX_AGE": "60", "DATABASE_POOL": "false"}
    )
    assert database["CONN_MAX_AGE"] == 60 and "pool" not in database["OPTIONS"]


def test_the_local_demo_runs_with_debug_off_and_its_own_switch():
    """`make run`: the product's pages, yet the laptop's key, hosts, cookies and static files."""
    local = {"DEBUG": "false", "LOCAL": "true"}
    assert setting("DEBUG", local) is False
    assert setting("SECRET_KEY", local) == "insecure-local-development-key"
    assert setting("ALLOWED_HOSTS", local) == ["127.0.0.1", "localhost"]
    assert setting("SESSION_COOKIE_SECURE", local) is False
    assert setting("CSRF_COOKIE_SECURE", local) is False
    storage = setting("STORAGES['staticfiles']['BACKEND']", local)
    assert storage == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_production_stays_strict_without_the_local_switch():
    refused = run(["manage.py", "check"], {"DEBUG": "false"})
    assert refused.returncode != 0
    assert "SECRET_KEY is required unless LOCAL or DEBUG is on" in refused.stderr
    production = {"DEBUG": "false", "SECRET_KEY": "x" * 50}
    assert setting("ALLOWED_HOSTS", production) == []
    assert setting("SESSION_COOKIE_SECURE", production) is True
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in setting("MIDDLEWARE", production)
