"""Settings built from the environment: one function, testable without reloading Django.

`build(environ)` returns the dict of Django settings. Local development gets safe defaults
(SQLite file under var/, DEBUG on); with DEBUG off every insecure default is refused.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from cchc.configdoc import SETTINGS_DOC  # noqa: F401 - re-exported: the documented variables

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

# Every environment variable the application reads, with its meaning: `cchc.configdoc`.


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


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if not value > 0:
        raise ImproperlyConfigured(f"{name} must be positive, got {raw!r}")
    return value


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
    "verify": (30, 15),  # public verification page of issued documents (look-ups and uploads)
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


# SQLite connection defaults; options given in DATABASE_URL's query string win
# (`sqlite:///path?timeout=5`). WAL lets readers proceed while a writer commits; IMMEDIATE
# avoids lock upgrades failing under concurrent writers; `timeout` is how many seconds a
# writer waits for another one's lock before "database is locked".
SQLITE_OPTIONS: dict[str, Any] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
SQLITE_WRITABLE_INIT = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
# PostgreSQL: an unreachable server is reported after this many seconds instead of hanging.
# JIT off: the app's statements are short look-ups; JIT compiles for 50–400 ms whenever the
# planner's estimate passes jit_above_cost (e.g. a queue search matching a procedure's name:
# benchmarks/search.py), far longer than the query itself.
POSTGRES_OPTIONS: dict[str, Any] = {"connect_timeout": 10, "options": "-c jit=off"}


def sqlite_read_only_mode(path: Path) -> str:
    """How to open the SQLite file `path`: "" read-write, "mode=ro" or "immutable=1".

    Why: switching to WAL (`PRAGMA journal_mode=WAL`) is a write, and a WAL database cannot
    be read at all in a directory where its `-shm` index cannot be created — so a read-only
    copy (file mode 0444, a read-only directory or mount) used to refuse even `dossiers
    verify`. A file this process cannot write, or whose directory it cannot write, is opened
    read-only (`mode=ro`: every write fails with "attempt to write a readonly database").
    Only when the directory is read-only, no `-shm` exists and no journal is pending (no
    `-wal` content, no `-journal`: everything committed is in the file itself) is it opened
    `immutable=1`, the one way SQLite reads such a file without creating files beside it."""
    if not path.exists():
        return ""  # created on first use (or "unable to open database file")
    dir_writable = os.access(path.parent, os.W_OK)
    if dir_writable and os.access(path, os.W_OK):
        return ""
    if dir_writable:
        return "mode=ro"
    wal, shm, journal = (Path(f"{path}{suffix}") for suffix in ("-wal", "-shm", "-journal"))
    pending = (wal.exists() and wal.stat().st_size > 0) or journal.exists()
    return "mode=ro" if pending or shm.exists() else "immutable=1"


def _database(env: Mapping[str, str], var_dir: Path) -> dict[str, Any]:
    url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'cchc.sqlite3'}"
    max_age = max(0, _int(env, "CCHC_DB_CONN_MAX_AGE", 60))
    try:
        db = dj_database_url.parse(url, conn_max_age=max_age)
    except Exception as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    # Persistent connections (CCHC_DB_CONN_MAX_AGE seconds, 0 = one per request): a new
    # PostgreSQL connection costs a fork on the server and a round trip of authentication
    # before the first query, a new SQLite one its PRAGMAs — a tenth of a dashboard's time.
    # A connection kept across requests is checked before reuse, so one broken by a server
    # restart is replaced instead of failing the next request.
    db["CONN_HEALTH_CHECKS"] = True
    given = db.get("OPTIONS") or {}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        options = {**SQLITE_OPTIONS, **given}
        name = str(db["NAME"] or "")
        mode = "" if not name or name.startswith("file:") else sqlite_read_only_mode(Path(name))
        if mode:
            # A URI (Django opens SQLite with uri=True); no PRAGMA that writes.
            db["NAME"] = f"{Path(name).resolve().as_uri()}?{mode}"
            options.setdefault("init_command", "PRAGMA synchronous=NORMAL;")
        else:
            options.setdefault("init_command", SQLITE_WRITABLE_INIT)
        db["OPTIONS"] = options
    elif db["ENGINE"] == "django.db.backends.postgresql":
        db["OPTIONS"] = {**POSTGRES_OPTIONS, **given}
    db["ATOMIC_REQUESTS"] = False
    return {"default": db}


def _caches(env: Mapping[str, str], var_dir: Path) -> dict[str, Any]:
    """Django's cache, which holds the dashboard's cell sums keyed by the cells' version
    (`cchc.indicators.cellcache`). CCHC_CACHE_URL: `locmem://` (default: this process only —
    `make run`, tests), `file://` (files under var/cache, or `file:///absolute/dir`: shared by
    every process of one machine, the gunicorn workers of `make serve`) or
    `redis://host:6379/1` (shared by every machine)."""
    url = (env.get("CCHC_CACHE_URL") or "locmem://").strip()
    scheme, _, rest = url.partition("://")
    if scheme == "locmem" and not rest:
        backend = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    elif scheme == "file":
        where = Path(rest).expanduser() if rest else var_dir / "cache"
        if not where.is_absolute():
            raise ImproperlyConfigured(
                f"CCHC_CACHE_URL={url!r}: file:// takes an absolute directory (file:///…)."
            )
        backend = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(where),
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    elif scheme in ("redis", "rediss") and rest:
        # A cache server that stops answering must not hold a page: one second to connect
        # or answer, after which the read counts as a miss (`cellcache`).
        backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    else:
        raise ImproperlyConfigured(
            f"CCHC_CACHE_URL={url!r} is not one of locmem://, file://[/dir], redis://host:port/db."
        )
    return {"default": {**backend, "KEY_PREFIX": "cchc"}}


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or allowed[0]
    if value not in allowed:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def _receipt_series(env: Mapping[str, str]) -> str:
    """The receipt series template (ký hiệu biên lai): at most 20 characters once the year
    is put in, and only the {yy}/{yyyy} placeholders."""
    value = env.get("CCHC_RECEIPT_SERIES", "").strip() or "AA-{yy}E"
    try:
        example = value.format(yy="24", yyyy="2024")
    except (KeyError, IndexError, ValueError):
        raise ImproperlyConfigured(
            f"CCHC_RECEIPT_SERIES={value!r}: only {{yy}} and {{yyyy}} may stand for the year."
        ) from None
    if len(example) > 20:
        raise ImproperlyConfigured("CCHC_RECEIPT_SERIES is longer than 20 characters.")
    return value


def _certified_copy_book(env: Mapping[str, str]) -> str:
    """The register book (quyển số) printed on certified electronic copies: at most 40
    characters once the year is put in, and only the {yy}/{yyyy} placeholders."""
    value = env.get("CCHC_CERTIFIED_COPY_BOOK", "").strip() or "01/{yyyy}-SCT/BS"
    try:
        example = value.format(yy="26", yyyy="2026")
    except (KeyError, IndexError, ValueError):
        raise ImproperlyConfigured(
            f"CCHC_CERTIFIED_COPY_BOOK={value!r}: only {{yy}} and {{yyyy}} may stand for the year."
        ) from None
    if len(example) > 40:
        raise ImproperlyConfigured("CCHC_CERTIFIED_COPY_BOOK is longer than 40 characters.")
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
        "CCHC_FEES_BEFORE_RESULT": _flag(env, "CCHC_FEES_BEFORE_RESULT", True),
        "CCHC_RESULTS_ISSUED_ON_APPROVAL": _flag(env, "CCHC_RESULTS_ISSUED_ON_APPROVAL", True),
        "CCHC_POSTAL_INTAKE": _flag(env, "CCHC_POSTAL_INTAKE", True),
        "CCHC_RECEIPT_FORM": env.get("CCHC_RECEIPT_FORM", "").strip() or "01BLP0-001",
        "CCHC_RECEIPT_SERIES": _receipt_series(env),
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


PORTAL_MODES = ("standalone", "national")


def _signing(env: Mapping[str, str], debug: bool) -> dict[str, Any]:
    """Digital signatures (cchc.signing): CCHC_SIGNING as parsed JSON (its shape is checked
    by cchc.signing when Django starts) and the trust list's files."""
    raw = env.get("CCHC_SIGNING", "").strip()
    if raw.startswith("@"):
        try:
            raw = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ImproperlyConfigured(
                f"CCHC_SIGNING: cannot read {raw[1:]} ({exc.strerror})."
            ) from None
    try:
        signing = json.loads(raw) if raw else {}
    except ValueError as exc:
        raise ImproperlyConfigured(f"CCHC_SIGNING is not valid JSON: {exc}") from None
    if not isinstance(signing, dict):
        raise ImproperlyConfigured("CCHC_SIGNING must be a JSON object.")
    demo = _flag(env, "CCHC_SIGNING_DEMO", False)
    if demo and not debug:
        raise ImproperlyConfigured("CCHC_SIGNING_DEMO (demo keys) is refused when DEBUG is false.")
    return {
        "CCHC_SIGNING": signing,
        "CCHC_SIGNING_DEMO": demo and not signing,
        "CCHC_SIGNING_TRUST_ROOTS": _list(env, "CCHC_SIGNING_TRUST_ROOTS"),
    }


def _national(env: Mapping[str, str], debug: bool) -> dict[str, Any]:
    """The national portal (Cổng DVCQG): where the sync goes and how hard it tries, and the
    portal's role. The simulator speaks the same protocol in-process (a relative URL)."""
    simulator = _flag(env, "CCHC_DVCQG_SIMULATOR", debug)
    if simulator and not debug:
        raise ImproperlyConfigured(
            "CCHC_DVCQG_SIMULATOR=true is refused when DEBUG is false: the simulator is not the "
            "national portal. Configure CCHC_DVCQG_URL and its account instead."
        )
    url = env.get("CCHC_DVCQG_URL", "").strip() or ("/gia-lap-dvcqg/api/" if simulator else "")
    password = env.get("CCHC_DVCQG_PASSWORD", "")
    if url and not debug and not (url.startswith("https://") and password):
        raise ImproperlyConfigured(
            "CCHC_DVCQG_URL must be an https:// address and needs CCHC_DVCQG_PASSWORD "
            "in production."
        )
    return {
        "CCHC_DVCQG_SIMULATOR": simulator,
        "CCHC_DVCQG": {
            "url": url,
            "madonvi": env.get("CCHC_DVCQG_MADONVI", "").strip()
            or ("000.00.00.H00" if simulator else ""),
            "username": env.get("CCHC_DVCQG_USERNAME", "").strip() or ("cchc" if simulator else ""),
            "password": password or ("simulator" if simulator else ""),
            "timeout": max(1, _int(env, "CCHC_DVCQG_TIMEOUT", 15)),
            "max_attempts": max(1, _int(env, "CCHC_DVCQG_MAX_ATTEMPTS", 12)),
            "backoff_max_minutes": _number(env, "CCHC_DVCQG_BACKOFF_MAX_MINUTES", 60.0),
            "lease_minutes": max(1, _int(env, "CCHC_DVCQG_LEASE_MINUTES", 10)),
            "on_time_hours": _number(env, "CCHC_DVCQG_ON_TIME_HOURS", 24.0),
        },
        "CCHC_PORTAL_MODE": _choice(env, "CCHC_PORTAL_MODE", PORTAL_MODES),
        "CCHC_DVCQG_PUBLIC_URL": env.get("CCHC_DVCQG_PUBLIC_URL", "").strip()
        or "https://dichvucong.gov.vn",
    }


DATASTORE_BACKENDS = ("local", "national", "off")


def _datastore(env: Mapping[str, str], debug: bool) -> dict[str, Any]:
    """Where signed e-results are delivered (`cchc.dossiers.datastore`): the store inside
    this system (local, the default), the national data store of citizens and organisations
    over HTTP (national), or nowhere (off). The national simulator serves a stand-in."""
    backend = _choice(env, "CCHC_DATASTORE", DATASTORE_BACKENDS)
    simulator = _flag(env, "CCHC_DVCQG_SIMULATOR", debug) and debug
    url = env.get("CCHC_DATASTORE_URL", "").strip() or (
        "/gia-lap-dvcqg/kho-du-lieu/api/" if simulator else ""
    )
    token = env.get("CCHC_DATASTORE_TOKEN", "")
    if backend == "national" and not url:
        raise ImproperlyConfigured("CCHC_DATASTORE=national needs CCHC_DATASTORE_URL.")
    if backend == "national" and not debug and not (url.startswith("https://") and token):
        raise ImproperlyConfigured(
            "CCHC_DATASTORE_URL must be an https:// address and needs CCHC_DATASTORE_TOKEN "
            "in production."
        )
    return {
        "CCHC_DATASTORE": {
            "backend": backend,
            "url": url,
            "token": token or ("simulator" if simulator else ""),
            "timeout": max(1, _int(env, "CCHC_DATASTORE_TIMEOUT", 15)),
            "max_attempts": max(1, _int(env, "CCHC_DATASTORE_MAX_ATTEMPTS", 10)),
            "backoff_max_minutes": _number(env, "CCHC_DATASTORE_BACKOFF_MAX_MINUTES", 60.0),
            "lease_minutes": max(1, _int(env, "CCHC_DATASTORE_LEASE_MINUTES", 10)),
        }
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


def _jobs(env: Mapping[str, str], debug: bool) -> dict[str, Any]:
    """The job queue (django-q2 on the database: no broker server to run) and the schedule.

    The worker does not schedule (`scheduler: False`): `cchc scheduler` is its own process,
    so its heartbeat says the schedule is alive. A slot missed while it was down runs once
    (`catch_up: False`). A job whose worker died is handed out again after `retry` seconds,
    which must exceed the time-out."""
    sync = _flag(env, "CCHC_JOBS_SYNC", False)
    if sync and not debug:
        raise ImproperlyConfigured(
            "CCHC_JOBS_SYNC=true is refused when DEBUG is false: jobs would run inside requests."
        )
    timeout = _int(env, "CCHC_JOB_TIMEOUT", 3600)
    return {
        "Q_CLUSTER": {
            "name": "cchc",
            "orm": "default",
            "workers": max(1, _int(env, "CCHC_WORKER_PROCESSES", 2)),
            "timeout": timeout,
            "retry": timeout + 300,
            "max_attempts": max(1, _int(env, "CCHC_JOB_ATTEMPTS", 3)),
            "catch_up": False,
            "scheduler": False,
            "sync": sync,
            "poll": 0.5,
            "bulk": 1,
            "save_limit": 1000,
            "ack_failures": True,
            "recycle": 200,
            "label": "Hàng đợi công việc nền",
        },
        # Checked against the job names when the apps load (cchc.jobs.apps).
        "CCHC_SCHEDULE": env.get("CCHC_SCHEDULE", ""),
        "CCHC_HEARTBEAT_STALE_SECONDS": _int(env, "CCHC_HEARTBEAT_STALE_SECONDS", 90),
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
        "STATIC_ROOT": Path(env.get("CCHC_STATIC_ROOT") or var_dir / "static").resolve(),
        "CCHC_SITE_URL": (
            env.get("CCHC_SITE_URL")
            or ("http://127.0.0.1:8000" if debug else f"https://{allowed_hosts[0]}")
        ).rstrip("/"),
        "CCHC_LATE_APOLOGY": _choice(env, "CCHC_LATE_APOLOGY", ("warn", "refuse")),
        "CCHC_CERTIFIED_COPY_BOOK": _certified_copy_book(env),
        "CCHC_PAR_CUTOFF_DAY": _int(env, "CCHC_PAR_CUTOFF_DAY", 15),
        "CCHC_IMPORT_MAX_BYTES": _int(env, "CCHC_IMPORT_MAX_BYTES", 512 << 20),
        "CCHC_IMPORT_MAX_ROWS": _int(env, "CCHC_IMPORT_MAX_ROWS", 1_048_576),
        "CCHC_IMPORT_MAX_COLUMNS": _int(env, "CCHC_IMPORT_MAX_COLUMNS", 500),
        "CCHC_IMPORT_BATCH_ROWS": max(1, _int(env, "CCHC_IMPORT_BATCH_ROWS", 5000)),
        "CCHC_IMPORT_LOCK_WAIT": max(0, _int(env, "CCHC_IMPORT_LOCK_WAIT", 10)),
        "CCHC_IMPORT_DEFER_INDEX_BYTES": max(
            0, _int(env, "CCHC_IMPORT_DEFER_INDEX_BYTES", 16 << 20)
        ),
        "CCHC_IMPORT_INLINE_ROWS": max(0, _int(env, "CCHC_IMPORT_INLINE_ROWS", 2000)),
        "CCHC_RECOMPUTE_BATCH": max(1, _int(env, "CCHC_RECOMPUTE_BATCH", 200)),
        "DATABASES": _database(env, var_dir),
        "CACHES": _caches(env, var_dir),
        "CCHC_BACKUP_DIR": Path(env.get("CCHC_BACKUP_DIR") or var_dir / "backups").expanduser(),
        "CCHC_BACKUP_KEEP": max(1, _int(env, "CCHC_BACKUP_KEEP", 7)),
        "CCHC_LOG_LEVEL": env.get("CCHC_LOG_LEVEL", ""),
        "CCHC_LOG_FORMAT": env.get("CCHC_LOG_FORMAT", ""),
        "CCHC_METRICS_TOKEN": env.get("CCHC_METRICS_TOKEN", ""),
        # unset: this machine only; empty: the token only
        "CCHC_METRICS_ALLOW": (
            ["127.0.0.1/32", "::1/128"]
            if env.get("CCHC_METRICS_ALLOW") is None
            else _networks(env, "CCHC_METRICS_ALLOW")
        ),
        "CCHC_PG_BIN": env.get("CCHC_PG_BIN", "").strip(),
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
        "CCHC_SMS_TIMEOUT": max(1, _int(env, "CCHC_SMS_TIMEOUT", 10)),
        "CCHC_NOTIFY_MAX_ATTEMPTS": max(1, _int(env, "CCHC_NOTIFY_MAX_ATTEMPTS", 8)),
        "CCHC_NOTIFY_BACKOFF_MAX_MINUTES": _number(env, "CCHC_NOTIFY_BACKOFF_MAX_MINUTES", 60.0),
        "CCHC_NOTIFY_LEASE_MINUTES": max(1, _int(env, "CCHC_NOTIFY_LEASE_MINUTES", 10)),
        "CCHC_REPORT_FILES_DAYS": max(1, _int(env, "CCHC_REPORT_FILES_DAYS", 30)),
        "CCHC_SMS_OUTBOX": var_dir / "sms" / "outbox.jsonl",
        "VNEID": {
            "client_id": env.get("VNEID_CLIENT_ID", ""),
            "client_secret": env.get("VNEID_CLIENT_SECRET", ""),
            "issuer": env.get("VNEID_ISSUER", "").strip().rstrip("/"),
            "authorize_url": env.get("VNEID_AUTHORIZE_URL", ""),
            "token_url": env.get("VNEID_TOKEN_URL", ""),
            "userinfo_url": env.get("VNEID_USERINFO_URL", ""),
            "jwks_url": env.get("VNEID_JWKS_URL", ""),
            "id_claim": env.get("VNEID_ID_CLAIM", "").strip() or "citizen_id",
            "level_claim": env.get("VNEID_LEVEL_CLAIM", "").strip() or "acr",
            "auth_method": _choice(
                env, "VNEID_AUTH_METHOD", ("client_secret_post", "client_secret_basic")
            ),
            "timeout": max(1, _int(env, "VNEID_TIMEOUT", 5)),
        },
        "PORTAL_LOOKUP_LIMIT": _int(env, "PORTAL_LOOKUP_LIMIT", 10),
        "PORTAL_LOOKUP_WINDOW_MINUTES": _int(env, "PORTAL_LOOKUP_WINDOW_MINUTES", 15),
        "CCHC_PORTAL_NAME": " ".join(env.get("CCHC_PORTAL_NAME", "").split())[:150],
        "CCHC_PROVINCE_NAME": " ".join(env.get("CCHC_PROVINCE_NAME", "").split())[:100],
        "CCHC_RATE_LIMITS": _rate_limits(env),
        "CCHC_TRUSTED_PROXIES": _networks(env, "CCHC_TRUSTED_PROXIES"),
        "CCHC_PAYMENT_IPN_ALLOW": _networks(env, "CCHC_PAYMENT_IPN_ALLOW"),
    }
    token = settings["CCHC_METRICS_TOKEN"]
    if token and not debug and (len(token) < 32 or token in PUBLISHED_SECRETS):
        raise ImproperlyConfigured("CCHC_METRICS_TOKEN must have at least 32 characters.")
    issuer = settings["VNEID"]["issuer"]
    if not debug and issuer and not issuer.startswith("https://"):
        raise ImproperlyConfigured("VNEID_ISSUER must be an https:// address in production.")
    if settings["CCHC_SMS_BACKEND"] == "http" and not settings["CCHC_SMS_URL"]:
        raise ImproperlyConfigured("CCHC_SMS_BACKEND=http needs CCHC_SMS_URL.")
    if env.get("EMAIL_HOST"):
        settings.update(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=env["EMAIL_HOST"],
            EMAIL_PORT=_int(env, "EMAIL_PORT", 587),
            EMAIL_HOST_USER=env.get("EMAIL_HOST_USER", ""),
            EMAIL_HOST_PASSWORD=env.get("EMAIL_HOST_PASSWORD", ""),
            EMAIL_USE_TLS=_flag(env, "EMAIL_USE_TLS", True),
            # Mail is sent by the worker (cchc.notifications): a server that accepts and
            # never answers costs one attempt of this many seconds, then a retry later.
            EMAIL_TIMEOUT=_int(env, "EMAIL_TIMEOUT", 10),
        )
    else:
        settings.update(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(var_dir / "mail"),
        )
    settings.update(_payments(env, debug))
    settings.update(_national(env, debug))
    settings.update(_datastore(env, debug))
    settings.update(_signing(env, debug))
    settings.update(_api_docs(env, debug))
    settings.update(_jobs(env, debug))
    settings["CONTENT_SECURITY_POLICY"] = _content_security_policy(
        env, settings["CCHC_PAYMENT_GATEWAYS"]
    )
    if settings["SECURE_PROXY_SSL_HEADER"] is None:
        del settings["SECURE_PROXY_SSL_HEADER"]
    return settings
