"""Settings built from the environment: one function, testable without reloading Django.

`build(environ)` returns the dict of Django settings. Local development gets safe defaults
(SQLite file under var/, DEBUG on); with DEBUG off every insecure default is refused.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_DIR = PACKAGE_DIR.parent.parent
# An editable install (the normal case) keeps var/ beside pyproject.toml; anywhere else cwd.
PROJECT_DIR = _REPO_DIR if (_REPO_DIR / "pyproject.toml").exists() else Path.cwd()

# Marks the development key so that production refuses it even if someone copies it.
DEV_SECRET_PREFIX = "insecure-dev-only-"  # noqa: S105 - a marker, not a secret
# The payment simulator's hash secret: published in this source, so never a merchant secret.
SIMULATOR_HASH_SECRET = "SIMULATORSECRETKEYFORLOCALDEVONLY"  # noqa: S105 - public by design
# Keys anyone can read in this repository; production refuses them as credentials. The
# second is the simulator's forged-IPN hook (cchc.payments.simulator.FORGED_SECRET).
PUBLISHED_SECRETS = frozenset({SIMULATOR_HASH_SECRET, "NOT-THE-MERCHANT-SECRET"})
API_DOCS_MODES = ("public", "staff", "off")
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}

# Every environment variable the application reads, with its meaning. The README documents
# each one (a test checks it).
SETTINGS_DOC: dict[str, str] = {
    "DEBUG": "development mode (default true); set false in production",
    "SECRET_KEY": "Django's signing key; required and non-default when DEBUG is false",
    "DATABASE_URL": "database URL; default sqlite:///<project>/var/cchc.sqlite3",
    "ALLOWED_HOSTS": "comma-separated host names served; required when DEBUG is false",
    "CCHC_SITE_URL": "public address of the site, used for the links in e-mails (default: "
    "http://127.0.0.1:8000 with DEBUG, else https://<first ALLOWED_HOSTS entry>)",
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
    "CCHC_2FA_REQUIRED_ROLES": "comma-separated role codes that must sign in with two-factor "
    "authentication (TOTP); shortcuts: personal_data (every role that sees citizens' personal "
    "data), staff (every officer role), none; default administrator",
    # Imports (cchc.tabular.tables): bounds checked before and while a file is read.
    "CCHC_IMPORT_MAX_BYTES": "largest import file: a CSV's size, an XLSX's decompressed size, "
    "in bytes (default 536870912 = 512 MB)",
    "CCHC_IMPORT_MAX_ROWS": "most rows in one import file, header included (default 1048576, "
    "Excel's own limit)",
    "CCHC_IMPORT_MAX_COLUMNS": "most columns in one row of an import file (default 500)",
    "CCHC_LATE_APOLOGY": "an apology later than 1 working day before the due: warn (default) "
    "or refuse",
    # Indicators (cchc.indicators).
    "CCHC_PAR_CUTOFF_DAY": "day of the month on which PAR reporting periods start (BNV "
    "581/BNV-CCHC data cut-off, default 15: 15/12 of the previous year to 14/3, 14/6, 14/12)",
    # Citizen portal (cchc.portal) and its notifications.
    "CCHC_SMS_BACKEND": "SMS delivery: outbox (messages appended to <CCHC_VAR_DIR>/sms/"
    "outbox.jsonl; default when DEBUG), http (POST to CCHC_SMS_URL) or none (default otherwise)",
    "CCHC_SMS_URL": "HTTP SMS gateway endpoint (JSON {to, text}) when CCHC_SMS_BACKEND=http",
    "CCHC_SMS_TOKEN": "bearer token sent to the HTTP SMS gateway",
    "VNEID_CLIENT_ID": "national identity (VNeID) OAuth client id; unset = VNeID login hidden",
    "VNEID_CLIENT_SECRET": "VNeID OAuth client secret",
    "VNEID_AUTHORIZE_URL": "VNeID authorisation endpoint (where the citizen is sent to log in)",
    "VNEID_TOKEN_URL": "VNeID token endpoint",
    "VNEID_USERINFO_URL": "VNeID user-information endpoint",
    "PORTAL_LOOKUP_LIMIT": "anonymous status look-ups per address and per dossier code in the "
    "window (default 10)",
    "PORTAL_LOOKUP_WINDOW_MINUTES": "length of the look-up rate-limit window (default 15)",
    # Rate limits of anonymous requests (cchc.ratelimit).
    "CCHC_RATE_LIMITS": "per-scope limits of anonymous requests, per client address and per "
    "target, as scope=requests/minutes, comma-separated (0 = no limit); scopes and defaults: "
    "pakn=10/60, pakn_code=10/15, rating=10/15, register=10/60, payment=30/15, ipn=120/1 "
    "(tracking uses PORTAL_LOOKUP_*)",
    "CCHC_TRUSTED_PROXIES": "comma-separated addresses/CIDRs of reverse proxies whose "
    "X-Forwarded-For is believed; empty (default) = the client is REMOTE_ADDR",
    "CCHC_PAYMENT_IPN_ALLOW": "comma-separated addresses/CIDRs allowed to call the payment IPN "
    "endpoint (the gateway's servers); empty (default) = any address",
    # Online payments (cchc.payments).
    "CCHC_PAYMENT_GATEWAY": "online payment gateways offered, comma-separated (vnpay); default "
    "vnpay when the simulator is on, none otherwise (online payment hidden)",
    "CCHC_PAYMENT_SIMULATOR": "serve the local payment-gateway simulator at /gia-lap-thanh-toan/ "
    "(default: the value of DEBUG; never enable in production)",
    "CCHC_PAYMENT_ORDER_MINUTES": "minutes an online payment order stays open (default 15)",
    "CCHC_PAYMENT_RECONCILE_MINUTES": "reconcile queries pending orders older than this many "
    "minutes (default 15)",
    "CCHC_VNPAY_TMN_CODE": "VNPAY merchant terminal code (vnp_TmnCode)",
    "CCHC_VNPAY_HASH_SECRET": "VNPAY hash secret for HMAC-SHA512 checksums (required in "
    "production when vnpay is enabled)",
    "CCHC_VNPAY_PAY_URL": "VNPAY payment page URL (default: the simulator when it is on)",
    "CCHC_VNPAY_API_URL": "VNPAY merchant API URL for querydr/refund (default: the simulator)",
    "CCHC_VNPAY_CHANNEL": "national 'paid online' code this gateway counts as: 2 = ministry/"
    "provincial gateway (default), 1 = via the National Public Service Portal",
    "CCHC_VNPAY_IPN_URL": "simulator only: URL the simulator sends IPNs to (default: the app's "
    "own IPN view, called in-process)",
    # Browser-facing security (Content-Security-Policy, API documentation).
    "CCHC_API_DOCS": "who may open the API documentation /api/docs and /api/openapi.json: "
    "public, staff (signed-in officials: any role but citizen) or off (default: public with "
    "DEBUG, staff otherwise)",
    "CCHC_CSP_REPORT_URI": "URL browsers send Content-Security-Policy violation reports to "
    "(default: none)",
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


# Anonymous request scopes of cchc.ratelimit: (requests, minutes) per address and target.
RATE_LIMIT_DEFAULTS: dict[str, tuple[int, int]] = {
    "pakn": (10, 60),  # PAKN submissions
    "pakn_code": (10, 15),  # codes confirming that a PAKN is about one's own dossier
    "rating": (10, 15),  # ratings of an answer through the e-mailed link
    "register": (10, 60),  # citizen account registrations
    "password_reset": (5, 60),  # "forgot password" links asked for, and new passwords set
    "payment": (30, 15),  # online payment starts (pay links) and returns from the gateway
    "ipn": (120, 1),  # gateway notifications, per address
}


def _rate_limits(env: Mapping[str, str]) -> dict[str, tuple[int, int]]:
    """CCHC_RATE_LIMITS (`scope=requests/minutes,…`) over RATE_LIMIT_DEFAULTS."""
    limits = dict(RATE_LIMIT_DEFAULTS)
    for item in _list(env, "CCHC_RATE_LIMITS"):
        scope, _, value = item.partition("=")
        count, _, minutes = value.partition("/")
        scope = scope.strip()
        if scope not in limits or not count.strip().isdigit() or not minutes.strip().isdigit():
            raise ImproperlyConfigured(
                f"CCHC_RATE_LIMITS: {item!r} is not scope=requests/minutes with a scope among "
                f"{', '.join(limits)}."
            )
        limits[scope] = (int(count), max(int(minutes), 1))
    return limits


def _networks(env: Mapping[str, str], name: str) -> list[str]:
    """A comma-separated list of addresses/CIDR blocks, each checked."""
    items = _list(env, name)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an address or CIDR.") from None
    return items


def _required_roles(env: Mapping[str, str]) -> tuple[str, ...]:
    """CCHC_2FA_REQUIRED_ROLES as lower-case codes: unset means administrators, empty or
    `none` means nobody. Role codes and shortcuts are checked by cchc.accounts.twofactor."""
    raw = env.get("CCHC_2FA_REQUIRED_ROLES")
    if raw is None:
        return ("administrator",)
    codes = tuple(dict.fromkeys(c.strip().lower() for c in raw.split(",") if c.strip()))
    return () if codes == ("none",) else codes


def _database(env: Mapping[str, str], var_dir: Path) -> dict[str, Any]:
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


def _payments(env: Mapping[str, str], debug: bool) -> dict[str, Any]:
    """Online payment settings (cchc.payments): enabled gateways and their credentials."""
    simulator = _flag(env, "CCHC_PAYMENT_SIMULATOR", debug)
    if simulator and not debug:
        raise ImproperlyConfigured(
            "CCHC_PAYMENT_SIMULATOR=true is refused when DEBUG is false: the simulator accepts "
            "any payment. Configure the real gateway (CCHC_VNPAY_*) instead."
        )
    default_gateways = "vnpay" if simulator else ""
    names = [
        n.strip().lower()
        for n in env.get("CCHC_PAYMENT_GATEWAY", default_gateways).split(",")
        if n.strip()
    ]
    unknown = [n for n in names if n != "vnpay"]
    if unknown:
        raise ImproperlyConfigured(f"CCHC_PAYMENT_GATEWAY: unknown gateway(s) {unknown}.")
    channel = env.get("CCHC_VNPAY_CHANNEL", "2").strip() or "2"
    if channel not in ("1", "2"):
        raise ImproperlyConfigured("CCHC_VNPAY_CHANNEL must be 1 or 2.")
    secret = env.get("CCHC_VNPAY_HASH_SECRET", "")
    if secret in PUBLISHED_SECRETS and not debug:
        raise ImproperlyConfigured(
            "CCHC_VNPAY_HASH_SECRET is a key published in the cchc source code (the simulator's); "
            "use the merchant secret issued by VNPAY."
        )
    pay_url = env.get("CCHC_VNPAY_PAY_URL", "")
    api_url = env.get("CCHC_VNPAY_API_URL", "")
    if "vnpay" in names and not (secret and pay_url and api_url):
        if not simulator:
            raise ImproperlyConfigured(
                "CCHC_PAYMENT_GATEWAY=vnpay needs CCHC_VNPAY_HASH_SECRET, CCHC_VNPAY_PAY_URL "
                "and CCHC_VNPAY_API_URL (or CCHC_PAYMENT_SIMULATOR=true for local testing)."
            )
        secret = secret or SIMULATOR_HASH_SECRET  # simulator only (refused without DEBUG)
        pay_url = pay_url or "/gia-lap-thanh-toan/"
        api_url = api_url or "/gia-lap-thanh-toan/api/"
    return {
        "CCHC_PAYMENT_SIMULATOR": simulator,
        "CCHC_PAYMENT_ORDER_MINUTES": _int(env, "CCHC_PAYMENT_ORDER_MINUTES", 15),
        "CCHC_PAYMENT_RECONCILE_MINUTES": _int(env, "CCHC_PAYMENT_RECONCILE_MINUTES", 15),
        "CCHC_PAYMENT_GATEWAYS": {
            name: {
                "protocol": "vnpay",
                "label": "VNPAY (cổng thanh toán của tỉnh)"
                if channel == "2"
                else "Nền tảng thanh toán của Cổng DVC quốc gia",
                "channel": channel,
                "tmn_code": env.get("CCHC_VNPAY_TMN_CODE", "") or "CCHCSIM1",
                "hash_secret": secret,
                "pay_url": pay_url,
                "api_url": api_url,
                "ipn_url": env.get("CCHC_VNPAY_IPN_URL", ""),
            }
            for name in names
        },
    }


def _api_docs(env: Mapping[str, str], debug: bool) -> dict[str, Any]:
    """Who may read the API documentation; `_EXPLICIT` records that the operator chose it
    (the deploy check accepts public docs in production only then)."""
    mode = env.get("CCHC_API_DOCS", "").strip().lower()
    if mode and mode not in API_DOCS_MODES:
        raise ImproperlyConfigured(
            f"CCHC_API_DOCS must be one of {', '.join(API_DOCS_MODES)}, not {mode!r}."
        )
    return {
        "CCHC_API_DOCS": mode or ("public" if debug else "staff"),
        "CCHC_API_DOCS_EXPLICIT": bool(mode),
    }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _content_security_policy(
    env: Mapping[str, str], gateways: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """The django-csp policy: everything from this site only, scripts only from our static
    files or with the request's nonce (no inline handlers, no eval). Inline `style=`
    attributes stay allowed (style-src-attr): templates still carry a few computed widths;
    <style> elements need the nonce. Forms may also post to the payment gateways, since the
    payment form's answer redirects there (Chromium applies form-action to that redirect)."""
    report_uri = env.get("CCHC_CSP_REPORT_URI", "").strip()
    if report_uri and (
        not (report_uri.startswith("/") or _origin(report_uri).startswith(("https://", "http://")))
        or any(c in report_uri for c in " ;,\"'")
    ):
        raise ImproperlyConfigured(
            f"CCHC_CSP_REPORT_URI must be a path or an http(s) URL, got {report_uri!r}."
        )
    gateway_origins = sorted({_origin(g.get("pay_url", "")) for g in gateways.values()} - {""})
    directives: dict[str, Any] = {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, *gateway_origins],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
    if report_uri:
        directives["report-uri"] = [report_uri]
    return {"DIRECTIVES": directives}


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
        "CCHC_SITE_URL": (
            env.get("CCHC_SITE_URL")
            or ("http://127.0.0.1:8000" if debug else f"https://{allowed_hosts[0]}")
        ).rstrip("/"),
        "CCHC_LATE_APOLOGY": _choice(env, "CCHC_LATE_APOLOGY", ("warn", "refuse")),
        "CCHC_PAR_CUTOFF_DAY": _int(env, "CCHC_PAR_CUTOFF_DAY", 15),
        "CCHC_IMPORT_MAX_BYTES": _int(env, "CCHC_IMPORT_MAX_BYTES", 512 << 20),
        "CCHC_IMPORT_MAX_ROWS": _int(env, "CCHC_IMPORT_MAX_ROWS", 1_048_576),
        "CCHC_IMPORT_MAX_COLUMNS": _int(env, "CCHC_IMPORT_MAX_COLUMNS", 500),
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
        # Two-factor sign-in (cchc.accounts.twofactor): codes are checked there.
        "CCHC_2FA_REQUIRED_ROLES": _required_roles(env),
        "OTP_TOTP_ISSUER": "cchc",
        "OTP_ADMIN_HIDE_SENSITIVE_DATA": True,
        "DEFAULT_FROM_EMAIL": env.get("DEFAULT_FROM_EMAIL", "cchc <no-reply@localhost>"),
        # Citizen portal (cchc.portal).
        "CCHC_SMS_BACKEND": _choice(
            env,
            "CCHC_SMS_BACKEND",
            ("outbox", "http", "none") if debug else ("none", "outbox", "http"),
        ),
        "CCHC_SMS_URL": env.get("CCHC_SMS_URL", ""),
        "CCHC_SMS_TOKEN": env.get("CCHC_SMS_TOKEN", ""),
        "CCHC_SMS_OUTBOX": var_dir / "sms" / "outbox.jsonl",
        "VNEID": {
            "client_id": env.get("VNEID_CLIENT_ID", ""),
            "client_secret": env.get("VNEID_CLIENT_SECRET", ""),
            "authorize_url": env.get("VNEID_AUTHORIZE_URL", ""),
            "token_url": env.get("VNEID_TOKEN_URL", ""),
            "userinfo_url": env.get("VNEID_USERINFO_URL", ""),
        },
        "PORTAL_LOOKUP_LIMIT": _int(env, "PORTAL_LOOKUP_LIMIT", 10),
        "PORTAL_LOOKUP_WINDOW_MINUTES": _int(env, "PORTAL_LOOKUP_WINDOW_MINUTES", 15),
        "CCHC_RATE_LIMITS": _rate_limits(env),
        "CCHC_TRUSTED_PROXIES": _networks(env, "CCHC_TRUSTED_PROXIES"),
        "CCHC_PAYMENT_IPN_ALLOW": _networks(env, "CCHC_PAYMENT_IPN_ALLOW"),
    }
    if settings["CCHC_SMS_BACKEND"] == "http" and not settings["CCHC_SMS_URL"]:
        raise ImproperlyConfigured("CCHC_SMS_BACKEND=http needs CCHC_SMS_URL.")
    if env.get("EMAIL_HOST"):
        settings.update(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=env["EMAIL_HOST"],
            EMAIL_PORT=_int(env, "EMAIL_PORT", 587),
            EMAIL_HOST_USER=env.get("EMAIL_HOST_USER", ""),
            EMAIL_HOST_PASSWORD=env.get("EMAIL_HOST_PASSWORD", ""),
            EMAIL_USE_TLS=True,
            # Mail is still sent after commit inside the request (until delivery moves to a
            # worker): a server that accepts and never answers must not hold it for minutes.
            EMAIL_TIMEOUT=10,
        )
    else:
        settings.update(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(var_dir / "mail"),
        )
    settings.update(_payments(env, debug))
    settings.update(_api_docs(env, debug))
    settings["CONTENT_SECURITY_POLICY"] = _content_security_policy(
        env, settings["CCHC_PAYMENT_GATEWAYS"]
    )
    if settings["SECURE_PROXY_SSL_HEADER"] is None:
        del settings["SECURE_PROXY_SSL_HEADER"]
    return settings
