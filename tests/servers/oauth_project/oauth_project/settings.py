"""Settings of the test OAuth2 server, taken from environment variables set by ``servers.oauth``.

* ``MYCLIENT_OAUTH_DB`` - path of the SQLite database (in the run's temporary directory);
* ``MYCLIENT_OAUTH_SECRET_KEY`` - Django's ``SECRET_KEY``, random per run;
* ``MYCLIENT_OAUTH_ACCESS_TOKEN_SECONDS`` - access-token lifetime (default 2).

Refresh tokens rotate with no grace period, so reusing an old one is ``invalid_grant``.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"environment variable {name} is not set (see servers/oauth.py)")
    return value


PACKAGE_DIR = Path(__file__).resolve().parent

SECRET_KEY = _required("MYCLIENT_OAUTH_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "oauth2_provider",
    "login_api",  # token, npm and session logins (see login_api/__init__.py)
]

MIDDLEWARE = [
    "oauth_project.stats.TokenStatsMiddleware",  # first: answers /stats itself, counts token requests
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

ROOT_URLCONF = "oauth_project.urls"
WSGI_APPLICATION = "oauth_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,  # django-oauth-toolkit's own templates
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": _required("MYCLIENT_OAUTH_DB"),
        # gunicorn runs 16 threads: write transactions take the lock up front and wait for it.
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# No migrations: `migrate --run-syncdb` (see bootstrap) creates the tables straight from the
# models in 0.1 s instead of replaying 37 migrations in 1.2 s; their data steps only backfill
# existing rows, so a fresh database is the same either way.
MIGRATION_MODULES = {app: None for app in ("contenttypes", "auth", "sessions", "oauth2_provider")}

# Client secrets and passwords are hashed with the first hasher; PBKDF2 would cost ~0.3 s of CPU
# per token request (fatal for a 50-thread storm), so a fast, test-only hasher comes first.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False

OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": int(os.environ.get("MYCLIENT_OAUTH_ACCESS_TOKEN_SECONDS", "2")),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,  # only the authorization-code grant uses PKCE
    "SCOPES": {"read": "Read scope", "write": "Write scope"},
}

# Errors (and django-oauth-toolkit's warnings) go to stderr, i.e. the gunicorn log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": "WARNING"},
        "oauth2_provider": {"handlers": ["stderr"], "level": "ERROR"},
    },
}
