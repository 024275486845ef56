"""Initial loads without secondary indexes (issue 22, item 2).

Loading a large export into an empty database is several times faster when the database
does not maintain the dossier, event and result tables' secondary indexes row by row: they are
dropped before the load and built once after it (then ANALYZE). Only plain indexes are
dropped — never the primary keys nor unique constraints (the import relies on the unique
dossier code and event sequence).

Crash safety needs no saved state: the indexes a table must have are those Django's schema
editor derives from the models (`expected`), so `repair` recreates whichever of them the
database lacks. It runs before every import (an import killed during an initial load
leaves its tables without them) and as ``cchc import repair-indexes``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from cchc.dossiers.models import Dossier, DossierEvent, DossierResult

MODELS = (Dossier, DossierEvent, DossierResult)
DEFER_BYTES = 16 << 20  # files this large or larger are loaded without secondary indexes
NOTE = "Nạp lần đầu vào cơ sở dữ liệu trống: chỉ mục được dựng lại sau khi nạp."
_NAME = re.compile(r'CREATE\s+INDEX\s+(?:IF NOT EXISTS\s+)?"?([^"\s]+)"?', re.IGNORECASE)


def defer_bytes() -> int:
    return int(getattr(settings, "CCHC_IMPORT_DEFER_INDEX_BYTES", DEFER_BYTES))


def expected(model: Any) -> dict[str, str]:
    """{index name: CREATE INDEX statement} of `model`'s plain (non-unique) indexes, as
    the schema editor creates them."""
    out: dict[str, str] = {}
    # Not entered as a context: only its SQL is wanted (and SQLite refuses the context
    # inside a transaction with foreign-key checks on).
    editor = connection.SchemaEditorClass(connection, collect_sql=True)
    for statement in editor._model_indexes_sql(model):
        sql = str(statement)
        found = _NAME.match(sql.strip())
        if found:  # unique indexes ("CREATE UNIQUE INDEX") are never touched
            out[found.group(1)] = sql
    return out


def present(model: Any) -> set[str]:
    """Names of the indexes `model`'s table has (one catalogue query)."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = %s",
                [table],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table]
            )
        return {row[0] for row in cursor.fetchall()}


@dataclass
class Deferred:
    """The indexes dropped for a load, per table."""

    dropped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return any(self.dropped.values())


def drop(models: tuple[Any, ...] = MODELS) -> Deferred:
    """Drop the plain indexes of `models` (outside any transaction on SQLite is not
    required: DDL is transactional on both backends)."""
    deferred = Deferred()
    with connection.cursor() as cursor:
        for model in models:
            names = sorted(set(expected(model)) & present(model))
            for name in names:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
            deferred.dropped[model._meta.db_table] = names
    return deferred


def repair(models: tuple[Any, ...] = MODELS) -> list[str]:
    """Create every expected index the database lacks, then ANALYZE the tables touched;
    returns the names created."""
    created: list[str] = []
    with connection.cursor() as cursor:
        for model in models:
            have = present(model)
            todo = {name: sql for name, sql in expected(model).items() if name not in have}
            # PostgreSQL refuses CREATE INDEX on a table with deferred foreign-key checks
            # pending in the transaction (a load inside an outer transaction): run them now.
            pending = todo and connection.vendor == "postgresql" and connection.in_atomic_block
            if pending:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for name, sql in todo.items():
                cursor.execute(sql)
                created.append(name)
            if pending:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            if todo:
                cursor.execute(f'ANALYZE "{model._meta.db_table}"')
    return created


def should_defer(size: int) -> bool:
    """An initial load: the dossier table is empty and the file is large."""
    return size >= defer_bytes() and not Dossier.objects.exists()
