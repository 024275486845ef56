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


def append_only(table: str, name: str, what: str) -> Any:
    """A migration operation making `table` append-only in the database: UPDATE and DELETE
    (and TRUNCATE on PostgreSQL) are refused with "`what` are append-only", except a
    whole-database purge under `purge_allowed`. `name` prefixes the triggers/function.
    Used by the event logs (dossiers, PAKN); the audit log has its own (audit 0003)."""
    from django.db import migrations

    sqlite = [
        f"""CREATE TRIGGER {name}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END;""",
        f"""CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {table}
           WHEN (SELECT allowed FROM cchc_purge_guard) IS NOT 1
           BEGIN SELECT RAISE(ABORT, '{what} are append-only'); END;""",  # noqa: S608 - names from migrations
    ]
    sqlite_reverse = [
        f"DROP TRIGGER IF EXISTS {name}_no_update;",
        f"DROP TRIGGER IF EXISTS {name}_no_delete;",
    ]
    postgres = [
        f"""CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
           BEGIN
             IF TG_OP IN ('DELETE', 'TRUNCATE') AND cchc_purge_allowed() THEN
               RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
             END IF;
             RAISE EXCEPTION '{what} are append-only';
           END; $$ LANGUAGE plpgsql;""",
        f"""CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE
           ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_append_only();""",
        f"""CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {table}
           FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only();""",
    ]
    postgres_reverse = [
        f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {table};",
        f"DROP TRIGGER IF EXISTS {name}_append_only ON {table};",
        f"DROP FUNCTION IF EXISTS {name}_append_only();",
    ]

    def run(statements: dict[str, list[str]]) -> Any:
        def apply(apps: Any, schema_editor: Any) -> None:
            for sql in statements.get(schema_editor.connection.vendor, []):
                schema_editor.execute(sql)

        return apply

    return migrations.RunPython(
        run({"sqlite": sqlite, "postgresql": postgres}),
        run({"sqlite": sqlite_reverse, "postgresql": postgres_reverse}),
    )
