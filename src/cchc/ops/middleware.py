"""`ProbeMiddleware`: answers /healthz, /readyz and /metrics before the rest of the chain.

Why ahead of the other middleware: probes come over plain HTTP from the machine itself
(systemd, docker, a load balancer), with a Host header that is an address, and must not
depend on the database unless they are about it. Below this point the HTTPS redirect would
answer 301, the host check 400, and the session and two-factor middleware would read the
database for any request that carries a session cookie (a failing database would then turn
`/readyz` into a 500 instead of a 503). The views decide their own access (`/metrics`
checks a token or the client address) and return no personal data.

Place it right after `cchc.webkit.observe.ObserveMiddleware`, so probes still get a
request id, a (DEBUG) access line and a latency sample.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import NoReverseMatch, resolve, reverse

log = logging.getLogger(__name__)

PROBES = ("ops:healthz", "ops:readyz", "ops:metrics")


def probe_paths() -> frozenset[str]:
    """Where the probes are mounted in the current URLconf (none if it has no `ops`)."""
    paths = set()
    for name in PROBES:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            continue
    return frozenset(paths)


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info not in probe_paths():
            return self.get_response(request)
        match = resolve(request.path_info)
        request.resolver_match = match
        try:
            return match.func(request, *match.args, **match.kwargs)
        except Exception:  # the site's 500 page needs sessions and users this path skipped
            log.exception("probe %s failed", match.view_name)
            response = JsonResponse({"status": "fail", "error": "internal"}, status=500)
            response["Cache-Control"] = "no-store"
            return response
