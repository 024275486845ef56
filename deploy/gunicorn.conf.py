"""gunicorn settings for cchc's web process: `gunicorn -c deploy/gunicorn.conf.py cchc.wsgi`.

Sized for the reference machine, 2 cores. Every value can be changed through the environment
(GUNICORN_WORKERS, GUNICORN_THREADS, …; table in docs/deployment.md) so the systemd unit, the
container and `make serve` share this one file. gunicorn reads the module-level names below;
names it does not know are ignored, which keeps this file valid across gunicorn versions.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The repository root (deploy/..): default home of var/ when CCHC_VAR_DIR is not set, the
# same rule as cchc.config (not imported here: the master process stays free of Django).
_REPO_DIR = Path(__file__).resolve().parent.parent


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    """An integer from the environment; a wrong value stops gunicorn with the variable named
    (rather than a silent fallback that would run production on a guessed size)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"gunicorn.conf.py: {name} must be at least {minimum}, got {value}")
    return value


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SystemExit(f"gunicorn.conf.py: {name} must be true or false, got {raw!r}")


# --- Where to listen ----------------------------------------------------------------------
# Loopback by default: only the reverse proxy on this host talks to gunicorn. Django trusts
# X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER), so gunicorn must never be reachable directly
# from clients; in a container bind 0.0.0.0:8000 and publish the port to the proxy only.
bind = [item.strip() for item in _env_str("GUNICORN_BIND", "127.0.0.1:8000").split(",")]
backlog = _env_int("GUNICORN_BACKLOG", 256, minimum=1)

# --- Processes and threads (2 cores) ------------------------------------------------------
# gthread: each worker process serves several requests at once on threads. cchc's pages spend
# most of their time waiting on the database (the dossier queue, dashboards, the portal), so
# threads overlap those waits cheaply; the CPU-heavy work (PDF forms with WeasyPrint, charts,
# workbooks) holds the GIL, so more than one process is needed to use both cores.
# 3 workers × 4 threads = 12 requests in flight: 2 cores + 1 process so that one PDF render
# never leaves the other core idle, and 4 threads because a request waits on the database
# for most of its time. Memory (measured): a worker is ~100 MB after start and ~200 MB once
# WeasyPrint, matplotlib, openpyxl and pyarrow are loaded; 3 × 200 MB leaves room on a 4 GB
# machine for the job worker (~550 MB for its cluster), the scheduler and PostgreSQL.
# Database connections: one per thread at most, kept open between requests for
# CCHC_DB_CONN_MAX_AGE seconds (60; checked before reuse) — 12 + the job worker, far below
# PostgreSQL's default max_connections=100. On
# SQLite, writers queue on the database lock (WAL, IMMEDIATE, 20 s busy timeout); more
# threads would only lengthen that queue.
worker_class = _env_str("GUNICORN_WORKER_CLASS", "gthread")
workers = _env_int("GUNICORN_WORKERS", 3, minimum=1)
threads = _env_int("GUNICORN_THREADS", 4, minimum=1)

# --- Time limits --------------------------------------------------------------------------
# timeout: a worker that does not report to the master for this long is killed and replaced.
# With gthread the worker's main loop reports every second while requests run on threads, so
# this catches a hung process (a stuck C extension, a dead lock), not one slow request. The
# per-request limit is the proxy's (deploy/nginx/cchc.conf: proxy_read_timeout 60 s for
# pages; the client gets a 504) and, on PostgreSQL, statement_timeout (docs/deployment.md).
# Nothing legitimate takes that long in a request: imports, reports, backups, notifications
# and recomputes run on the job worker (`cchc worker`), not in the web process.
timeout = _env_int("GUNICORN_TIMEOUT", 60, minimum=1)
# graceful_timeout: on SIGTERM (systemd stop, deploy, `make serve` Ctrl-C) workers stop
# accepting and get this long to finish the requests in flight before being killed. The
# systemd unit's TimeoutStopSec (45 s) and the stack script's grace period are longer.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
# keepalive: how long an idle connection from the proxy is kept. nginx's upstream
# keepalive_timeout (4 s in deploy/nginx/cchc.conf) is shorter, so nginx never reuses a
# connection gunicorn is closing (that race shows as sporadic 502s).
keepalive = _env_int("GUNICORN_KEEPALIVE", 5, minimum=0)

# --- Recycling ----------------------------------------------------------------------------
# Restart a worker after this many requests (± jitter, so the three do not restart together):
# bounds slow memory growth from large workbooks and PDFs. 0 disables.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1000, minimum=0)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 100, minimum=0)
# Not preloaded: each worker imports the app after fork, so no database connection or
# thread is shared across processes, and a recycled worker picks up nothing stale. Costs
# ~1 s per worker start and some memory sharing.
preload_app = _env_flag("GUNICORN_PRELOAD", False)

# --- Request limits (before Django sees the request) --------------------------------------
# The request line (method, path and query) and headers; Django's request guard refuses
# over-long query values itself (cchc.webkit.request_guard). Bodies are limited by the proxy
# (client_max_body_size) and by Django (DATA_UPLOAD_MAX_MEMORY_SIZE, CCHC_IMPORT_MAX_BYTES).
limit_request_line = _env_int("GUNICORN_LIMIT_REQUEST_LINE", 8190, minimum=0)
limit_request_fields = _env_int("GUNICORN_LIMIT_REQUEST_FIELDS", 100, minimum=1)
limit_request_field_size = _env_int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190, minimum=0)

# --- Behind the proxy ---------------------------------------------------------------------
# Addresses whose X-Forwarded-Proto/-For gunicorn believes: the reverse proxy only. The
# application makes its own decision for the client address of the rate limits
# (CCHC_TRUSTED_PROXIES, set it to the same proxy address).
forwarded_allow_ips = _env_str("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# --- Files and sockets --------------------------------------------------------------------
# The workers' heartbeat files: in memory, so a slow or full disk cannot make the master
# think its workers hung (systemd ProtectSystem=strict leaves /dev/shm writable).
_shm = "/dev/shm" if Path("/dev/shm").is_dir() else ""  # noqa: S108 - tmpfs, gunicorn-owned files
worker_tmp_dir = _env_str("GUNICORN_WORKER_TMP_DIR", _shm) or None
# gunicorn ≥ 25 opens a control socket under $HOME by default; the service user's home is
# read-only under systemd hardening and nobody uses it: off unless a path is given.
_control_socket = _env_str("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not _control_socket
if _control_socket:
    control_socket = _control_socket
proc_name = _env_str("GUNICORN_PROC_NAME", "cchc-web")

# --- Logs ---------------------------------------------------------------------------------
# No access log by default: the application writes one JSON line per request itself (with
# request id, view, status and duration; cchc.webkit). GUNICORN_ACCESS_LOG=- turns gunicorn's
# own on (to stdout). gunicorn's own messages (workers starting, timeouts) go to stdout as
# JSON lines unless CCHC_LOG_FORMAT=text (the default in DEBUG), like the application's.
accesslog = _env_str("GUNICORN_ACCESS_LOG", "") or None
loglevel = _env_str("GUNICORN_LOG_LEVEL", "info")
_debug = os.environ.get("DEBUG", "true").strip().lower() in ("1", "true", "yes", "on")
_log_format = _env_str("CCHC_LOG_FORMAT", "text" if _debug else "json").lower()


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the shape of the application's own log lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "cchc": (
            {"()": JsonFormatter}
            if _log_format == "json"
            else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
        )
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "cchc",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        # gunicorn logs access lines whenever a logging config is given: silenced here
        # unless GUNICORN_ACCESS_LOG asks for them.
        "gunicorn.access": {
            "handlers": ["stdout"],
            "level": "INFO" if accesslog else "CRITICAL",
            "propagate": False,
        },
    },
    "root": {"handlers": ["stdout"], "level": "WARNING"},
}

# --- Prometheus metrics across worker processes -------------------------------------------
# The request-latency histogram (cchc.webkit) lives in each worker; prometheus_client's
# multiprocess mode aggregates them through files in PROMETHEUS_MULTIPROC_DIR. Set here
# (before any worker imports prometheus_client) when the environment does not, emptied when
# the master starts (files of a previous run would be counted again) and told when a worker
# exits (its live gauges are dropped). One directory per gunicorn instance.
PROMETHEUS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
if not PROMETHEUS_DIR:
    _var_dir = Path(os.environ.get("CCHC_VAR_DIR", "").strip() or _REPO_DIR / "var")
    PROMETHEUS_DIR = str(_var_dir / "run" / "prometheus")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_DIR


def reset_metrics_dir(path: str) -> None:
    """Create the metrics directory, or empty it of a previous run's files."""
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def on_starting(server: Any) -> None:
    """Master, before the first worker: a clean metrics directory."""
    reset_metrics_dir(PROMETHEUS_DIR)


def child_exit(server: Any, worker: Any) -> None:
    """Master, after a worker exits (recycled, killed or crashed): forget its live gauges."""
    try:
        # Local import: the master needs prometheus_client only here, and a web process
        # without it installed must still start (metrics then stay per process).
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid, PROMETHEUS_DIR)
