"""Structured logs: one JSON object per line on stdout, carrying the request they belong to.

Why: a province's operators collect stdout (journald, docker, Loki); a JSON line per event
is searchable by request id, view and status without parsing free text. Personal data never
reaches a line: no query strings, no bodies, no names or e-mail addresses — the user is
their numeric id, the path is the URL pattern (`ho-so/<int:pk>/`), not the address typed.

- `logging_config(debug, level, fmt)` is the LOGGING dict settings use (CCHC_LOG_LEVEL,
  CCHC_LOG_FORMAT).
- `RequestContextFilter` adds the current request's id, user id, view and path pattern to
  every record logged while it is served (the request is bound by
  `cchc.webkit.observe.ObserveMiddleware`).
- `JsonFormatter` writes the line; `TextFormatter` a readable one for development.
- Extra fields: `logger.info("...", extra={"fields": {"rows": 12}})` adds them to the line.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("json", "text")
ACCESS_LOGGER = "cchc.access"

# Request attributes every record may carry; `fields` holds extra ones (see module doc).
CONTEXT_FIELDS = ("request_id", "user_id", "view", "method", "path")
ACCESS_FIELDS = ("status", "duration_ms")
_RESERVED = frozenset({"time", "level", "logger", "message", "pid", "exc_type", "exception"})

# The request being served by this thread (gunicorn gthread workers serve one per thread).
current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar(
    "cchc_current_request", default=None
)

# PostgreSQL puts the offending values on DETAIL lines ("Key (email)=(a@b.vn) already
# exists."); they are dropped from exception texts before they are written anywhere.
_DETAIL_LINE = re.compile(r"^\s*DETAIL:.*$", re.MULTILINE)


def scrub_detail(text: str) -> str:
    """`text` without the database's DETAIL lines, which quote row values."""
    return _DETAIL_LINE.sub("DETAIL: (bỏ qua: có thể chứa dữ liệu cá nhân)", text)


def brief(exc: BaseException, limit: int = 200) -> str:
    """`Class: first line of the message`, DETAIL lines dropped, at most `limit` characters:
    enough for an operator to act on a failure logged every few seconds."""
    text = scrub_detail(str(exc)).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def user_id_of(request: HttpRequest) -> int | None:
    """The signed-in user's numeric id, if the request already looked the user up.

    Never forces the lookup: that would cost a session query on requests that did not need
    the user (probes, static files) and fail on a request refused for a broken database."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)  # SimpleLazyObject from AuthenticationMiddleware
    if wrapped is None or type(wrapped) is object:  # `empty`: not evaluated yet
        return None
    if not getattr(wrapped, "is_authenticated", False):
        return None
    pk = getattr(wrapped, "pk", None)
    return pk if isinstance(pk, int) else None


def view_of(request: HttpRequest) -> tuple[str, str]:
    """(view name, URL pattern) of the request; ("static", "") for a static file, and
    ("unmatched", "") before or without a match.

    The view name is the URL name (`dossiers:detail`); an unnamed pattern falls back to the
    pattern itself, so the label set stays the set of routes, never the paths requested."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        static = str(getattr(settings, "STATIC_URL", "") or "")
        if static.startswith("/") and request.path.startswith(static):
            return "static", ""  # answered by WhiteNoise before any URL is resolved
        return "unmatched", ""
    route = match.route or ""
    name = match.view_name if match.url_name else ""
    return (name or route or "unnamed"), route


def request_context(request: HttpRequest) -> dict[str, Any]:
    view, route = view_of(request)
    return {
        "request_id": getattr(request, "request_id", None),
        "user_id": user_id_of(request),
        "view": view,
        "method": request.method,
        "path": "/" + route if route else None,
    }


class RequestContextFilter(logging.Filter):
    """Adds the current request's context to every record (never filters one out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = current_request.get()
        if request is not None:
            for key, value in request_context(request).items():
                if not hasattr(record, key):
                    setattr(record, key, value)
        return True


def _message(record: logging.LogRecord) -> str:
    """The record's message, with the raw path Django's request loggers quote ("Not Found:
    /ho-so/12/") replaced by the URL pattern: a path may carry a code or a name."""
    request = getattr(record, "request", None)
    if isinstance(request, HttpRequest) and isinstance(record.args, tuple):
        raw = request.path
        escaped = raw.encode("unicode_escape").decode("ascii")
        _, route = view_of(request)
        shown = "/" + route if route else "(đường dẫn không ghi)"
        args = tuple(shown if a in (raw, escaped) else a for a in record.args)
        try:
            return str(record.msg) % args if args else str(record.msg)
        except (TypeError, ValueError):
            return str(record.msg)
    return record.getMessage()


def _when(record: logging.LogRecord) -> str:
    at = dt.datetime.fromtimestamp(record.created, tz=dt.UTC)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, process id, the
    request context, the access fields, `fields` extras, and the exception (type and
    traceback, DETAIL lines dropped) if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _when(record),
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
            "pid": record.process,  # which gunicorn worker
        }
        for key in (*CONTEXT_FIELDS, *ACCESS_FIELDS):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                if str(key) not in _RESERVED and str(key) not in line:
                    line[str(key)] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["exception"] = scrub_detail(self.formatException(record.exc_info))
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Development format: `time level logger [request id] message key=value…`."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_when(record), f"{record.levelname:<7}", record.name]
        request_id = getattr(record, "request_id", None)
        if request_id:
            parts.append(f"[{request_id}]")
        parts.append(_message(record))
        for key in ("view", "status", "duration_ms", "user_id"):
            value = getattr(record, key, None)
            if value is not None:
                parts.append(f"{key}={value}")
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            parts.extend(f"{k}={v}" for k, v in extra.items())
        text = " ".join(str(p) for p in parts)
        if record.exc_info and record.exc_info[0] is not None:
            text += "\n" + scrub_detail(self.formatException(record.exc_info))
        return text


def logging_config(debug: bool, level: str = "", fmt: str = "") -> dict[str, Any]:
    """The LOGGING setting: every logger to stdout through one handler.

    `level` (CCHC_LOG_LEVEL) defaults to INFO in production and WARNING with DEBUG
    (runserver prints its own request lines); `fmt` (CCHC_LOG_FORMAT) to json in production
    and text with DEBUG. Django's own 4xx warnings are left out (`django.request` at ERROR):
    the access line of each request already has its status; 5xx errors keep their traceback.
    """
    level = (level or "").strip().upper() or ("WARNING" if debug else "INFO")
    fmt = (fmt or "").strip().lower() or ("text" if debug else "json")
    if level not in LEVELS:
        raise ImproperlyConfigured(f"CCHC_LOG_LEVEL must be one of {', '.join(LEVELS)}.")
    if fmt not in FORMATS:
        raise ImproperlyConfigured(f"CCHC_LOG_FORMAT must be one of {', '.join(FORMATS)}.")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "cchc.webkit.logs.RequestContextFilter"}},
        "formatters": {
            "json": {"()": "cchc.webkit.logs.JsonFormatter"},
            "text": {"()": "cchc.webkit.logs.TextFormatter"},
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": fmt,
                "filters": ["request_context"],
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            # Django's default config gives "django" its own console handler (DEBUG only)
            # and mail_admins: send its records to ours instead, once.
            "django": {"handlers": ["stdout"], "level": level, "propagate": False},
            "django.request": {"level": "ERROR"},
            # runserver's request lines (development only; they include query strings).
            "django.server": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
            # A scanner's request with a foreign Host: its access line (400) says enough; Django
            # would add a traceback for each one.
            "django.security.DisallowedHost": {"level": "CRITICAL"},
            # WeasyPrint's font subsetting and django-q2's per-task lines are noise at INFO.
            "fontTools": {"level": "WARNING"},
            "django-q": {"level": "WARNING"},
        },
    }
