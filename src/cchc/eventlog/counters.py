"""Per-key sequence numbers for record codes (`HS-…-0001`, `PAKN-YYMMDD-0001`).

A counter table has the key columns, unique together, and an integer `last`. The next
number is one atomic upsert, so concurrent submissions never get the same number and no
lock is held beyond the statement (SQLite ≥ 3.35 and PostgreSQL both speak
`INSERT … ON CONFLICT … DO UPDATE … RETURNING`).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, models


def next_number(counter: type[models.Model], **key: Any) -> int:
    """Increment and return the counter row of `counter` (a model with the unique key
    columns `key` and an integer `last`), creating it at 1."""
    if not key:
        raise ValueError("a counter needs at least one key column")
    meta = counter._meta
    table = connection.ops.quote_name(meta.db_table)
    columns = [connection.ops.quote_name(meta.get_field(name).column) for name in key]
    last = connection.ops.quote_name(meta.get_field("last").column)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}, {last}) VALUES ({placeholders}, 1) "  # noqa: S608 (names from model metadata, values bound)
        f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET {last} = {table}.{last} + 1 "
        f"RETURNING {last}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(key.values()))
        row = cursor.fetchone()
    return int(row[0])
