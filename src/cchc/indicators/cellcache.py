"""Reads of the aggregate cells kept in Django's cache, keyed by the cells' version.

Every dossier figure of a dashboard is a sum over `Cell` rows. At a province-year (1 M
dossiers, several hundred thousand cells) each such sum scans a year of cells, and a
dashboard page issues dozens of them (targets, previous period, year to date, ranking,
months of a chart) — seconds per page, for figures that change only when a dossier event
changes a cell. So the result of each cell read is cached under

    (the read's SQL and parameters, the cells' version)

where the version is a counter (`CellsVersion`, one row, with a random stamp drawn at each
increment so that a number reused after a rollback or a restore names no old entry)
incremented in the same transaction as every change to the cells (`aggregates.apply`,
`aggregates.rebuild`) and when a procedure is saved (the sums read the procedure's online
level and result type). The SQL carries
everything else a figure depends on: period, filters, the agencies selected (organisation
changes give other ids), the report day. Readers read the version first and then the cells:
under READ COMMITTED a read may see changes committed after the version it read (the cached
value is then newer than its key, never older), and a change commits with its increment, so
the first page after it reads the new version and recomputes. Writers take the counter's row
lock before any cell's (`bump` is called first in `apply`), one order for every transaction,
so no deadlock; it serialises transactions that change cells from that point to their
commit, which the cells' own hot rows (today's, per agency and procedure) already mostly do.

Only reads inside a `memo.reading()` block (a page, the ranking) use the cache, and they read
the version once per block; outside one (commands, services that write) every read goes to
the database. Entries also expire after `TIMEOUT` seconds, a bound on memory of
versions no longer read.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from cchc.indicators import memo
from cchc.indicators.models import CellsVersion

T = TypeVar("T")
log = logging.getLogger(__name__)
TIMEOUT = 15 * 60
PREFIX = "cchc:cells:"


def _table() -> str:
    return CellsVersion._meta.db_table


def bump() -> None:
    """Increment the cells' version with a new stamp, in the caller's transaction (before
    any cell write)."""
    table = _table()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, version, stamp) VALUES (1, 1, %s) "  # noqa: S608
            f"ON CONFLICT (id) DO UPDATE SET version = {table}.version + 1, "
            "stamp = excluded.stamp",
            [secrets.randbits(62)],
        )


def on_procedure_saved(sender: Any, **kwargs: Any) -> None:
    """Receiver of a procedure's post_save/post_delete: cached sums may have used it."""
    bump()


def current() -> str:
    """The committed version and stamp ("0.0" before the first change)."""
    row = CellsVersion.objects.filter(pk=1).values_list("version", "stamp").first()
    return f"{row[0]}.{row[1]}" if row else "0.0"


def _key(qs: QuerySet[Any], what: str) -> str | None:
    try:
        sql, params = qs.query.sql_with_params()
    except EmptyResultSet:  # e.g. `__in=[]`: Django answers without a query, so do we
        return None
    digest = hashlib.sha256(f"{what}\n{sql}\n{params!r}".encode()).hexdigest()
    version = memo.remember(("cells-version",), current)
    return f"{PREFIX}{connection.alias}:{version}:{digest}"


def _cached(
    qs: QuerySet[Any] | None, what: str, make: Callable[[], T], timeout: int = TIMEOUT
) -> T:
    if not memo.active():
        return make()
    key = _key(qs, what) if qs is not None else _computed_key(what)
    if key is None:
        return make()
    try:
        found = cache.get(key)
    except Exception:  # the cache is an optimisation: an unreachable one is a miss
        log.warning("cell cache unavailable on read", exc_info=True)
        return make()
    if found is not None:
        value: T = found
        return value
    value = make()
    try:
        cache.set(key, value, timeout)
    except Exception:
        log.warning("cell cache unavailable on write", exc_info=True)
    return value


def _computed_key(what: str) -> str:
    digest = hashlib.sha256(what.encode()).hexdigest()
    version = memo.remember(("cells-version",), current)
    return f"{PREFIX}{connection.alias}:{version}:computed:{digest}"


def computed(what: str, make: Callable[[], T], *, timeout: int) -> T:
    """`make()`, cached on a page under `what` (every argument it depends on, spelt out) and
    the cells' version, for at most `timeout` seconds: for a result computed from cells AND
    from data that does not bump the version (PAKN, ratings, the catalogue's documents, the
    organisation, definitions), whose staleness is then bounded by `timeout`."""
    return _cached(None, what, make, timeout)


def aggregate(qs: QuerySet[Any], **sums: Any) -> dict[str, Any]:
    """`qs.aggregate(**sums)`, cached on a page."""
    what = "aggregate " + repr(sorted((name, repr(expr)) for name, expr in sums.items()))
    return _cached(qs, what, lambda: qs.aggregate(**sums))


def rows(qs: QuerySet[Any]) -> list[Any]:
    """`list(qs)` of a values()/values_list() query, cached on a page."""
    return _cached(qs, "rows", lambda: list(qs))
