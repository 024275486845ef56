"""The probes and the metrics endpoint. No login, no session, no personal data, no cache.

They are reached through `cchc.ops.middleware.ProbeMiddleware`, ahead of the HTTPS
redirect, the host check, sessions and two-factor sign-in: a load balancer or systemd
probes over plain HTTP from the machine itself, with no cookie and any Host header.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from cchc.ops import checks, metrics
from cchc.webkit.observe import QUIET_ATTRIBUTE


def _probe_answer(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    setattr(response, QUIET_ATTRIBUTE, True)
    # Django logs every 4xx/5xx answer again ("Service Unavailable: /readyz", at ERROR);
    # the access line already says it, at the level a probe deserves.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers. No database query, so a database outage does not get
    healthy web processes restarted (that is what `/readyz` reports)."""
    return _probe_answer(JsonResponse({"status": "ok"}))


@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: 200 when every check passes, else 503 with the failing ones."""
    ready, results = checks.readiness()
    body = {"status": "ok" if ready else "fail", "checks": results}
    return _probe_answer(JsonResponse(body, status=200 if ready else 503))


@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for a holder of the token or an allowed address."""
    status = metrics.access(request)
    if status != 200:
        message = "Không có quyền xem số liệu." if status == 403 else "Không tìm thấy."
        return _probe_answer(HttpResponse(message, status=status, content_type="text/plain"))
    return _probe_answer(HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST))
