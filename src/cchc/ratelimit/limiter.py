"""One rate limiter for every anonymous request that does work: tracking look-ups, PAKN,
registration, payment returns, gateway IPNs, …

`check(scope, address=…, target=…)` counts one request against the client address and,
if given, against its target (a dossier code, a user name, a transaction), and raises
`RateLimited` once either has made more than `limit` requests in the last `window`.

Counts live in the database (`Hit`: one row per scope, key and tenth of a window), each
incremented by a single `INSERT … ON CONFLICT DO UPDATE … RETURNING` statement, so the limit
holds across worker processes on SQLite and PostgreSQL alike. The window slides in tenths:
a burst cannot double up across a window boundary. Call it outside any transaction (a
rolled-back request must still count). Rows past their window are purged whenever a new
bucket starts.

Keys are HMACs of the address or target (keyed with SECRET_KEY): the table holds no
personal data. The address is REMOTE_ADDR (see `cchc.ratelimit.web.client_address`).
"""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django.utils.crypto import salted_hmac

from cchc.errors import DomainError
from cchc.ratelimit.models import Hit

SLOTS = 10  # buckets per window


class RateLimited(DomainError):
    """Too many requests: HTTP 429 (with Retry-After), CLI exit code 6."""

    code = "rate_limited"
    http_status = 429
    exit_code = 6

    def __init__(self, message: str = "", *, limit: int = 0, window: int = 0, **kw: object):
        minutes = max(math.ceil(window / 60), 1)
        super().__init__(
            message
            or f"Bạn đã gửi quá {limit} yêu cầu trong {minutes} phút. Vui lòng thử lại sau "
            "ít phút.",
            **kw,
        )
        self.limit = limit
        self.window = window
        self.retry_after = max(math.ceil(window / SLOTS), 1)


def limit_for(scope: str) -> tuple[int, int]:
    """(requests, window in seconds) configured for `scope` (`CCHC_RATE_LIMITS`)."""
    table = getattr(settings, "CCHC_RATE_LIMITS", {}) or {}
    count, minutes = table.get(scope, (10, 15))
    return int(count), int(minutes) * 60


def _key(scope: str, kind: str, value: str) -> str:
    return salted_hmac("cchc.ratelimit", f"{scope}|{kind}|{value}", algorithm="sha256").hexdigest()


def _count(scope: str, key: str, *, at: dt.datetime, window: int) -> int:
    """Add one hit to the current bucket; return its rank among the window's hits."""
    width = max(window // SLOTS, 1)
    epoch = int(at.timestamp())
    start = epoch - epoch % width
    expires = dt.datetime.fromtimestamp(start + width + window, tz=dt.UTC)
    table = connection.ops.quote_name(Hit._meta.db_table)
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('scope')}, {q('key')}, {q('bucket_start')}, {q('count')}, "  # noqa: S608 - names only
            f"{q('expires_at')}) VALUES (%s, %s, %s, 1, %s) "
            f"ON CONFLICT ({q('scope')}, {q('key')}, {q('bucket_start')}) "
            f"DO UPDATE SET {q('count')} = {table}.{q('count')} + 1 RETURNING {q('count')}",
            [scope, key, start, connection.ops.adapt_datetimefield_value(expires)],
        )
        in_bucket = cursor.fetchone()[0]
    if in_bucket == 1:  # a new bucket: a good moment to drop the expired ones
        purge(now=at)
    # This request's rank: its place in the current bucket (given atomically by the upsert,
    # so concurrent requests never share one) after the window's earlier buckets.
    first = start - (math.ceil(window / width) - 1) * width
    earlier = Hit.objects.filter(
        scope=scope, key=key, bucket_start__gte=first, bucket_start__lt=start
    ).aggregate(n=Sum("count"))["n"]
    return int(earlier or 0) + int(in_bucket)


def check(
    scope: str,
    *,
    address: str,
    target: str | None = None,
    limit: int | None = None,
    window: int | dt.timedelta | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Count one `scope` request from `address` (and against `target`); raise RateLimited
    when either has made more than `limit` in the last `window` (seconds or timedelta;
    both default to `limit_for(scope)`). A request refused for its address does not use
    up its target's allowance."""
    default_limit, default_window = limit_for(scope)
    limit = default_limit if limit is None else limit
    if window is None:
        seconds = default_window
    elif isinstance(window, dt.timedelta):
        seconds = int(window.total_seconds())
    else:
        seconds = int(window)
    if limit <= 0:  # 0 = no limit for this scope
        return
    at = now or timezone.now()
    keys = [("address", address or "unknown")]
    if target:
        keys.append(("target", target.strip().upper()[:200]))
    for kind, value in keys:
        if _count(scope, _key(scope, kind, value), at=at, window=seconds) > limit:
            raise RateLimited(limit=limit, window=seconds, scope=scope, per=kind)


def purge(*, now: dt.datetime | None = None) -> int:
    """Delete the buckets no window can reach any more. Returns the rows deleted."""
    deleted, _ = Hit.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
