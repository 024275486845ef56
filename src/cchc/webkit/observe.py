"""Every request observed once: a request id, one access log line, one latency sample.

`ObserveMiddleware` goes first in MIDDLEWARE, so that it also sees what the middleware
below it answers by itself (HTTPS redirects, the 2FA redirect, the request guard's 400/413,
the probes of `cchc.ops`).

- Request id: the `X-Request-ID` the reverse proxy sent if it looks like an id (letters,
  digits, `.`, `_`, `-`, `:`; at most 128), else a new one; echoed in the response's
  `X-Request-ID` header and put on every log record of the request (`cchc.webkit.logs`).
- Access line (logger `cchc.access`): method, URL pattern, view, status, duration, user id;
  INFO, ERROR for 5xx. A probe (its view marks the response with `quiet_access_log`) is
  logged at DEBUG when it succeeds and WARNING when it does not, so that health checks every
  few seconds neither flood the log nor raise an error per check during an outage; static
  files likewise (view `static`: WhiteNoise answers them before any URL is resolved).
- Latency histogram `cchc_http_request_duration_seconds{view, method, status}`: the view is
  the URL name (never the path requested), the status its class (2xx…5xx). With several
  gunicorn workers each process writes its samples to PROMETHEUS_MULTIPROC_DIR (set before
  the process imports prometheus_client) and `/metrics` sums them; without it the samples
  live in this process only (runserver, tests).

The duration of a streamed response (exports) is the time to its first byte.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, HttpResponseServerError
from prometheus_client import Histogram

from cchc.webkit.logs import ACCESS_LOGGER, current_request, request_context

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A response attribute a view sets to have its successful answers logged at DEBUG.
QUIET_ATTRIBUTE = "quiet_access_log"

REQUEST_SECONDS = Histogram(
    "cchc_http_request_duration_seconds",
    "Thời gian xử lý yêu cầu HTTP (giây), theo view, phương thức và nhóm mã trạng thái.",
    ["view", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_for(request: HttpRequest) -> str:
    """The proxy's request id if it is safe to repeat in logs and headers, else a new one."""
    given = request.headers.get(REQUEST_ID_HEADER, "").strip()
    if given and _SAFE_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"


class ObserveMiddleware:
    """See the module docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request.request_id = request_id_for(request)  # type: ignore[attr-defined]
        token = current_request.set(request)
        try:
            try:
                response = self.get_response(request)
            except BaseException:
                # Only when even the 500 page failed (e.g. static files not collected): the
                # server answers 500 itself, and the request still gets its access line.
                self._observe(request, HttpResponseServerError(), time.perf_counter() - started)
                raise
            elapsed = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
            self._observe(request, response, elapsed)
            return response
        finally:
            current_request.reset(token)

    @staticmethod
    def _observe(request: HttpRequest, response: HttpResponseBase, elapsed: float) -> None:
        context = request_context(request)
        method = context["method"] if context["method"] in METHODS else "other"
        status = response.status_code
        REQUEST_SECONDS.labels(context["view"], method, status_class(status)).observe(elapsed)
        quiet = getattr(response, QUIET_ATTRIBUTE, False) or context["view"] == "static"
        if quiet:
            level = logging.DEBUG if status < 400 else logging.WARNING
        elif status == 503:
            # A deliberate answer (database outage, maintenance): whoever decided it logged
            # the cause at ERROR once; the access line need not repeat it at that level.
            level = logging.WARNING
        elif status >= 500:
            level = logging.ERROR
        else:
            level = logging.INFO
        if not access_log.isEnabledFor(level):
            return
        shown = context["path"] or context["view"]
        access_log.log(
            level,
            "%s %s %s",
            method,
            shown,
            status,
            extra={
                **context,
                "method": method,
                "status": status,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
