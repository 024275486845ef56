"""Settings built from the environment: one function, testable without reloading Django.

`build(environ)` returns the dict of Django settings. Local development gets safe defaults
(SQLite file under var/, DEBUG on); with DEBUG off every insecure default is refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_DIR = PACKAGE_DIR.parent.parent
# An editable install (the normal case) keeps var/ beside pyproject.toml; anywhere else cwd.
PROJECT_DIR = _REPO_DIR if (_REPO_DIR / "pyproject.toml").exists() else Path.cwd()

# Marks the development key so that production refuses it even if someone copies it.
DEV_SECRET_PREFIX = "insecure-dev-only-"  # noqa: S105 - a marker, not a secret
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}

# Every environment variable the application reads, with its meaning. The README documents
# each one (a test checks it).
SETTINGS_DOC: dict[str, str] = {
    "DEBUG": "development mode (default true); set false in production",
    "SECRET_KEY": "Django's signing key; required and non-default when DEBUG is false",
    "DATABASE_URL": "database URL; default sqlite:///<project>/var/cchc.sqlite3",
    "ALLOWED_HOSTS": "comma-separated host names served; required when DEBUG is false",
    "CSRF_TRUSTED_ORIGINS": "comma-separated origins (https://host) trusted for CSRF",
    "CCHC_VAR_DIR": "directory for the SQLite file, uploads and generated files (default var/)",
    "SECURE_SSL_REDIRECT": "redirect HTTP to HTTPS when DEBUG is false (default true)",
    "SECURE_HSTS_SECONDS": "HSTS max-age when DEBUG is false (default 31536000)",
    "EMAIL_HOST": "SMTP server for outgoing mail; unset = mail written to var/mail/",
    "EMAIL_PORT": "SMTP port (default 587)",
    "EMAIL_HOST_USER": "SMTP user name",
    "EMAIL_HOST_PASSWORD": "SMTP password",
    "DEFAULT_FROM_EMAIL": "sender address of outgoing mail",
    "LOGIN_FAILURE_LIMIT": "failed logins per user name and address before lock-out (default 5)",
    "LOGIN_COOLOFF_MINUTES": "minutes a lock-out lasts (default 15)",
    "CCHC_LATE_APOLOGY": "an apology later than 1 working day before the due: warn (default) "
    "or refuse",
}


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def _list(env: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in env.get(name, "").split(",") if item.strip()]


def _database(env: Mapping[str, str], var_dir: Path) -> dict[str, Any]:
    import dj_database_url

    url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'cchc.sqlite3'}"
    try:
        db = dj_database_url.parse(url, conn_max_age=0)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers proceed while a writer commits; IMMEDIATE avoids lock upgrades
        # failing under concurrent writers.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    db["ATOMIC_REQUESTS"] = False
    return {"default": db}


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or allowed[0]
    if value not in allowed:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def build(env: Mapping[str, str]) -> dict[str, Any]:
    """Return Django settings for this environment; raise ImproperlyConfigured if unsafe."""
    debug = _flag(env, "DEBUG", True)
    var_dir = Path(env.get("CCHC_VAR_DIR") or PROJECT_DIR / "var").resolve()

    secret = env.get("SECRET_KEY", "")
    allowed_hosts = _list(env, "ALLOWED_HOSTS")
    if debug:
        secret = secret or DEV_SECRET_PREFIX + "k3y-for-local-development-never-in-production"
        allowed_hosts = allowed_hosts or ["127.0.0.1", "localhost", "[::1]", "testserver"]
    else:
        if not secret:
            raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
        if secret.startswith(DEV_SECRET_PREFIX) or len(secret) < 50 or len(set(secret)) < 5:
            raise ImproperlyConfigured(
                "SECRET_KEY is a development default or too weak (need ≥ 50 varied characters); "
                f"generate one, e.g. {secrets.token_urlsafe(50)!r} (example only)."
            )
        if not allowed_hosts or "*" in allowed_hosts:
            raise ImproperlyConfigured("ALLOWED_HOSTS must list the served host names (no '*').")

    secure = not debug
    settings: dict[str, Any] = {
        "DEBUG": debug,
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": allowed_hosts,
        "CSRF_TRUSTED_ORIGINS": _list(env, "CSRF_TRUSTED_ORIGINS"),
        "CCHC_VAR_DIR": var_dir,
        "CCHC_LATE_APOLOGY": _choice(env, "CCHC_LATE_APOLOGY", ("warn", "refuse")),
        "DATABASES": _database(env, var_dir),
        # Security baseline: secure cookies and HTTPS whenever DEBUG is off.
        "SESSION_COOKIE_SECURE": secure,
        "CSRF_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_AGE": 8 * 3600,
        "SECURE_SSL_REDIRECT": secure and _flag(env, "SECURE_SSL_REDIRECT", True),
        "SECURE_HSTS_SECONDS": _int(env, "SECURE_HSTS_SECONDS", 31_536_000) if secure else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": secure,
        "SECURE_HSTS_PRELOAD": secure,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if secure else None,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "AXES_FAILURE_LIMIT": _int(env, "LOGIN_FAILURE_LIMIT", 5),
        "AXES_COOLOFF_TIME_MINUTES": _int(env, "LOGIN_COOLOFF_MINUTES", 15),
        "DEFAULT_FROM_EMAIL": env.get("DEFAULT_FROM_EMAIL", "cchc <no-reply@localhost>"),
    }
    if env.get("EMAIL_HOST"):
        settings.update(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=env["EMAIL_HOST"],
            EMAIL_PORT=_int(env, "EMAIL_PORT", 587),
            EMAIL_HOST_USER=env.get("EMAIL_HOST_USER", ""),
            EMAIL_HOST_PASSWORD=env.get("EMAIL_HOST_PASSWORD", ""),
            EMAIL_USE_TLS=True,
        )
    else:
        settings.update(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(var_dir / "mail"),
        )
    if settings["SECURE_PROXY_SSL_HEADER"] is None:
        del settings["SECURE_PROXY_SSL_HEADER"]
    return settings
