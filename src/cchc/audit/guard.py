"""The switch that lets a whole-database purge pass the append-only triggers (see
migration audit 0003). Only test tooling flushes databases; nothing in the application
calls this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def purge_allowed(connection: Any) -> Iterator[None]:
    """Within the block, `connection` (and only it, on PostgreSQL) may delete guarded rows."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            cursor.execute("SET cchc.allow_purge = 'on'")
        elif vendor == "sqlite":
            cursor.execute("UPDATE cchc_purge_guard SET allowed = 1")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                cursor.execute("RESET cchc.allow_purge")
            elif vendor == "sqlite":
                cursor.execute("UPDATE cchc_purge_guard SET allowed = 0")
