"""Optional error reporting to a Sentry-compatible server (SENTRY_DSN).

A province can run its own (GlitchTip, or Sentry self-hosted), so error reports stay in the
country. Off unless SENTRY_DSN is set and sentry-sdk is installed (`pip install
cchc[errors]`). Reports are stripped of personal data twice: the SDK is told not to
collect it (no cookies, bodies, query strings, user details, local variables, SQL
parameters), and `before_send` removes whatever an integration or our code added anyway —
request bodies, cookies, query strings, headers other than a few technical ones, user
fields other than the numeric id, local variables, breadcrumb data, and the DETAIL lines
in which PostgreSQL quotes row values.

`init_error_reporting` is called from settings, in every process (web, worker, commands).
It imports nothing from Django's app registry.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from cchc.webkit.logs import current_request, scrub_detail

KEPT_HEADERS = frozenset(
    {"user-agent", "content-type", "content-length", "accept", "x-request-id", "host"}
)
# Options of sentry-sdk 3 (`data_collection`) and of 2.x (`send_default_pii`, …) that keep
# personal data out of the reports; those the installed SDK knows are used.
DATA_COLLECTION: dict[str, Any] = {
    "user_info": False,
    "cookies": {"mode": "off"},
    "http_headers": {"request": {"mode": "allowlist", "terms": sorted(KEPT_HEADERS)}},
    "http_bodies": [],
    "url_query_params": {"mode": "off"},
    "database_query_data": False,
    "queues": False,
    "stack_frame_variables": False,
}
LEGACY_OPTIONS: dict[str, Any] = {"send_default_pii": False, "include_local_variables": False}


def _without_query(url: Any) -> Any:
    return url.split("?", 1)[0].split("#", 1)[0] if isinstance(url, str) else url


def _scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    headers = request.get("headers") or {}
    if isinstance(headers, dict):
        items = headers.items()
    else:  # a list of [name, value] pairs
        items = [tuple(pair) for pair in headers if len(pair) == 2]
    return {
        "method": request.get("method"),
        "url": _without_query(request.get("url")),
        "headers": {k: v for k, v in items if str(k).lower() in KEPT_HEADERS},
    }


def _scrub_frames(values: list[dict[str, Any]]) -> None:
    for value in values:
        if isinstance(value.get("value"), str):
            value["value"] = scrub_detail(value["value"])
        for frame in (value.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)


def before_send(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event with every field that may hold personal data removed (see module doc)."""
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    user = event.get("user")
    if isinstance(user, dict):
        user_id = user.get("id")
        event["user"] = {"id": str(user_id)} if user_id is not None else {}
    for key in ("exception", "threads"):
        section = event.get(key)
        if isinstance(section, dict) and isinstance(section.get("values"), list):
            _scrub_frames(section["values"])
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for key in ("message", "formatted"):
            if isinstance(logentry.get(key), str):
                logentry[key] = scrub_detail(logentry[key])
        logentry.pop("params", None)
    crumbs = event.get("breadcrumbs")
    values = crumbs.get("values") if isinstance(crumbs, dict) else crumbs
    for crumb in values if isinstance(values, list) else []:
        crumb.pop("data", None)
        if isinstance(crumb.get("message"), str):
            crumb["message"] = scrub_detail(_without_query(crumb["message"]))
    extra = event.get("extra")
    if isinstance(extra, dict):
        for key in [k for k in extra if k in ("request", "args", "params", "body")]:
            extra.pop(key)
    request = current_request.get()
    request_id = getattr(request, "request_id", None) if request is not None else None
    if request_id:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def options(dsn: str, *, environment: str = "", release: str = "") -> dict[str, Any]:
    """The keyword arguments of `sentry_sdk.init` for the installed SDK."""
    import sentry_sdk.consts  # optional dependency, imported only when SENTRY_DSN is set

    known = inspect.signature(sentry_sdk.consts.ClientConstructor.__init__).parameters
    kwargs: dict[str, Any] = {
        "dsn": dsn,
        "before_send": before_send,
        "max_request_body_size": "never",
        "send_client_reports": False,
        # Errors only: no performance traces, no profiles.
        "traces_sample_rate": None,
    }
    if environment:
        kwargs["environment"] = environment
    if release:
        kwargs["release"] = release
    # Late 2.x releases know both forms; each is given wherever it is known.
    kwargs["data_collection"] = DATA_COLLECTION
    kwargs.update(LEGACY_OPTIONS)
    return {k: v for k, v in kwargs.items() if k in known}


def init_error_reporting(dsn: str, *, environment: str = "", release: str = "") -> bool:
    """Start reporting to `dsn`; False (and nothing started) without a DSN or the SDK."""
    if not (dsn or "").strip():
        return False
    try:
        # optional dependency (the `errors` extra): absent means no error reporting
        import sentry_sdk
    except ImportError:
        warnings.warn(
            "SENTRY_DSN is set but sentry-sdk is not installed (pip install 'cchc[errors]'): "
            "errors are not reported.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    sentry_sdk.init(**options(dsn.strip(), environment=environment, release=release))
    return True
