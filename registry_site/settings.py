"""Settings for the registry, read from the environment.

The defaults are safe for a laptop: SQLite and a local folder under the project. Production
must set SECRET_KEY (refused unless LOCAL or DEBUG is on) and usually DATABASE_URL and
ARTIFACT_S3_BUCKET.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean strictly: a typo such as DEBUG=ture fails loudly instead of meaning False."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Running on a laptop, as `make run`'s demo does with DEBUG off so that its pages (404 and 500
# included) look as the product's do: an insecure default key, localhost as the host, cookies
# over plain http, and static files served by `runserver --insecure` from the source tree.
# On with DEBUG; never on a server.
LOCAL = env_bool("LOCAL", DEBUG)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not LOCAL:
        raise ImproperlyConfigured(
            "SECRET_KEY is required unless LOCAL or DEBUG is on. Set SECRET_KEY, or LOCAL=true "
            "for local use."
        )
    SECRET_KEY = "insecure-local-development-key"

# Off, as on servers that have not switched yet: only the legacy Model Registry's pages show;
# `/` and every Registry page lead there. The API is unaffected.
ENABLE_REGISTRY_UI = env_bool("ENABLE_REGISTRY_UI", True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if LOCAL else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    # Before django_tasks_db: its `db_worker` command, leased, takes the place of theirs.
    "apps.jobs",
    "django_tasks_db",
    "apps.audit",
    "apps.accounts",
    "apps.artifacts",
    "apps.registries",
    "apps.lineage",
    "apps.legacy",
    "apps.automations",
    "apps.search",
    "apps.demo",
]

MIDDLEWARE = [
    # First, so that its id, timing and log line cover every request, redirects included.
    "registry_site.observability.ObserveRequests",
    "django.middleware.security.SecurityMiddleware",
    "apps.lib.security.SecurityHeaders",
    "apps.lib.middleware.RejectNulCharacters",
    # Before SignInRequired: its process_view reads the user first, answering 503 when
    # the database does not answer, as it does for views.
    "apps.lib.middleware.DatabaseOutage",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says @login_not_required.
    "apps.lib.middleware.SignInRequired",
    "apps.legacy.middleware.RegistryUISwitch",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if not LOCAL:
    # In production the app serves its own collected static files; locally runserver does.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

ROOT_URLCONF = "registry_site.urls"
WSGI_APPLICATION = "registry_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.accounts.context_processors.home_organization",
            ],
            "builtins": ["apps.lib.humanize"],
        },
    },
]

CONN_MAX_AGE = int(os.environ.get("CONN_MAX_AGE", "0"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'registry.sqlite3'}",
        conn_max_age=CONN_MAX_AGE,
        # A reused connection is checked before it serves a request, so one the server dropped
        # is replaced instead of failing the request; with the pool, psycopg_pool checks it.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_POOL", True
):
    if CONN_MAX_AGE:
        raise ImproperlyConfigured(
            "CONN_MAX_AGE keeps a connection per thread, and the connection pool (on by default "
            "on PostgreSQL) shares connections between threads; Django takes one or the other. "
            "Unset CONN_MAX_AGE, or set DATABASE_POOL=false to use it."
        )
    # One connection per thread serving requests (WEB_THREADS, as gunicorn_conf runs them); one
    # kept open when idle, the rest opened as load needs them and closed after idling. A request
    # waits at most DATABASE_POOL_TIMEOUT seconds for one (psycopg_pool's default is 30): past
    # that the database is as good as gone, and the request answers 503 to be retried.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": int(os.environ.get("WEB_THREADS", "4")),
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "5")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # Server-side binding lets psycopg prepare a statement on its second use on a connection,
    # so PostgreSQL stops planning the same joins on every request: planning them took longer
    # than running them. Pooled connections live long, so each statement is prepared once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=2
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE takes the write lock at
    # BEGIN so two writers queue instead of failing with "database is locked" mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"

# Blobs go through the "artifacts" storage: a local folder by default, S3 when a bucket is named.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "artifacts": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT / "artifacts", "allow_overwrite": True},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if LOCAL
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if bucket := os.environ.get("ARTIFACT_S3_BUCKET"):
    STORAGES["artifacts"] = {
        "BACKEND": "apps.artifacts.s3.ArtifactS3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            # Blobs are private: every read goes through a short-lived presigned URL.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 3600,
            "file_overwrite": True,
        },
    }

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
        # apps.jobs: a worker renews its heartbeat every HEARTBEAT_SECONDS; one silent for
        # LEASE_SECONDS is gone, and its task runs again. A task that raises runs again after
        # RETRY_DELAY_SECONDS, doubled each time up to the MAX; MAX_ATTEMPTS runs in all.
        "OPTIONS": {
            "HEARTBEAT_SECONDS": 5,
            "LEASE_SECONDS": 30,
            "MAX_ATTEMPTS": 3,
            "RETRY_DELAY_SECONDS": 10,
            "RETRY_DELAY_MAX_SECONDS": 3600,
        },
    }
}

SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not LOCAL)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not LOCAL)

# Behind a TLS-terminating proxy: the header it sets to "https" on requests that came over TLS
# (e.g. X-Forwarded-Proto). Trust it only when the proxy always sets it, overwriting the client's.
if proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Probes and the metrics scraper reach the server directly, over plain HTTP, past the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# SecurityMiddleware and XFrameOptionsMiddleware send, by Django's defaults: X-Content-Type-Options
# nosniff, Referrer-Policy same-origin, Cross-Origin-Opener-Policy same-origin, X-Frame-Options
# DENY. apps.lib.security adds these two to responses whose view did not set its own:
# no inline scripts or styles (htmx's indicator styles are off in base.html), nothing from
# elsewhere, and no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.ThrottledModelBackend",
    # The API's bearer tokens (apps.lib.api).
    "apps.accounts.backends.ApiTokenBackend",
]
# Failed sign-ins allowed per username and client address, and unknown API tokens per client
# address, within FAILURE_WINDOW of the first failure; past them the client waits the window out.
SIGN_IN_FAILURES_ALLOWED = int(os.environ.get("SIGN_IN_FAILURES_ALLOWED", "5"))
TOKEN_FAILURES_ALLOWED = int(os.environ.get("TOKEN_FAILURES_ALLOWED", "20"))
FAILURE_WINDOW = timedelta(seconds=int(os.environ.get("FAILURE_WINDOW_SECONDS", "900")))
# How many proxies in front append the address they were reached from to X-Forwarded-For (nginx:
# `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`). 0: the connection's address is
# the client's. Without it, behind a proxy every client has the proxy's address, and shares its
# throttle.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Automations. The address pages are reached at, for the links a webhook or Slack message carries
# (and the addresses seed_demo prints): by default where `make run`/`make serve` listen, HOST and
# PORT.
SITE_URL = os.environ.get("SITE_URL") or (
    f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
)
# Webhooks to private, loopback and link-local addresses are refused unless this is on (the demo
# receiver of `make run` and the tests need loopback).
AUTOMATIONS_ALLOW_PRIVATE_TARGETS = env_bool("AUTOMATIONS_ALLOW_PRIVATE_TARGETS", False)
# Seconds to connect, and for each read of the answer; attempts in all, with the worker's backoff.
AUTOMATIONS_TIMEOUT_SECONDS = float(os.environ.get("AUTOMATIONS_TIMEOUT_SECONDS", "10"))
AUTOMATIONS_MAX_ATTEMPTS = int(os.environ.get("AUTOMATIONS_MAX_ATTEMPTS", "5"))
# The demo's webhook receiver (/demo/webhooks/), which takes POSTs from anyone: on for local use
# only, never on a production deployment unless asked for.
DEMO_RECEIVER_ENABLED = env_bool("DEMO_RECEIVER_ENABLED", LOCAL)
# Passphrases that encrypt team secrets and webhook URLs at rest, newest first (apps/automations/
# crypto.py); unset, a key derived from SECRET_KEY.
SECRETS_ENCRYPTION_KEYS = env_list("SECRETS_ENCRYPTION_KEYS", [])

# `/metrics` answers a request bearing this token (or a signed-in staff user); unset, no token.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
