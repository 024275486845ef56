"""The rate limiter at the web boundary: the client address, the 429 page and a decorator
that counts the POSTs of an anonymous form.

The client address is REMOTE_ADDR. Behind a reverse proxy either have the proxy server set
it (gunicorn/uwsgi/nginx real-IP modules), or list the proxies in `CCHC_TRUSTED_PROXIES`:
then, and only then, X-Forwarded-For is read, right to left, skipping trusted proxies. A
forwarded header from anyone else is ignored: it is trivially forged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cchc.ratelimit.limiter import RateLimited, check

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def in_networks(address: str, spec: tuple[str, ...] | list[str]) -> bool:
    """Whether `address` lies in one of the CIDR blocks `spec` (False if not an address)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(spec)) if ip.version == net.version)


def client_address(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", "") or "").strip()
    trusted = tuple(getattr(settings, "CCHC_TRUSTED_PROXIES", ()) or ())
    if not trusted or not in_networks(remote, trusted):
        return remote or "unknown"
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not in_networks(hop, trusted):
            return hop[:100]
    return remote


def too_many(request: HttpRequest, error: RateLimited) -> HttpResponse:
    """The Vietnamese 429 page, with Retry-After."""
    response = render(request, "ratelimit/429.html", {"message": error.message}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


def limit_posts(
    scope: str, *, target: Callable[[HttpRequest], str | None] | None = None
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Count every POST to the view in `scope` (per client address, and per `target(request)`
    when given); over the limit the view is not run and the 429 page is shown."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method == "POST":
                try:
                    check(
                        scope,
                        address=client_address(request),
                        target=target(request) if target is not None else None,
                    )
                except RateLimited as exc:
                    return too_many(request, exc)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
