"""Append-only tables in the database: triggers that refuse every UPDATE, DELETE and
TRUNCATE, with no switch that turns them off.

Until audit 0005 the triggers had a purge switch (a session setting on PostgreSQL, the
`cchc_purge_guard` table on SQLite) so that tests could flush the database; any client could
flip it. The switch is gone: the application's databases carry nothing that disables the
guards. The test harness flushes with its own means (tests/conftest.py): on PostgreSQL
``session_replication_role = replica``, which only a superuser may set — so the application
must not connect as one (`connected_as_superuser`); on SQLite it drops the triggers around
the flush and recreates them from their stored SQL.

One source of the trigger SQL: `trigger_sql`, used by `append_only` (event logs: dossiers,
PAKN) and by the audit log's migration.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

# Every table guarded here, as (table, trigger-name prefix, what the error message names).
GUARDED = [
    ("audit_auditentry", "audit_entry", "audit log"),
    ("dossiers_dossierevent", "dossier_event", "dossier events"),
    ("feedback_feedbackevent", "feedback_event", "feedback events"),
]


def trigger_sql(table: str, name: str, what: str, vendor: str) -> tuple[list[str], list[str]]:
    """(install, remove) statements making `table` append-only on `vendor`; installing is
    idempotent (it replaces earlier triggers of the same `name`, including the old ones
    with the purge switch). The error message reads "`what`: append-only"."""
    message = f"{what}: append-only, no update or delete"
    if vendor == "sqlite":
        remove = [
            f"DROP TRIGGER IF EXISTS {name}_no_update;",
            f"DROP TRIGGER IF EXISTS {name}_no_delete;",
        ]
        install = [
            *remove,
            f"""CREATE TRIGGER {name}_no_update BEFORE UPDATE ON {table}
               BEGIN SELECT RAISE(ABORT, '{message}'); END;""",
            f"""CREATE TRIGGER {name}_no_delete BEFORE DELETE ON {table}
               BEGIN SELECT RAISE(ABORT, '{message}'); END;""",
        ]
        return install, remove
    if vendor == "postgresql":
        remove = [
            f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {table};",
            f"DROP TRIGGER IF EXISTS {name}_append_only ON {table};",
            f"DROP FUNCTION IF EXISTS {name}_append_only();",
        ]
        install = [
            f"""CREATE OR REPLACE FUNCTION {name}_append_only() RETURNS trigger AS $$
               BEGIN RAISE EXCEPTION '{message}'; END; $$ LANGUAGE plpgsql;""",
            f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {table};",
            f"DROP TRIGGER IF EXISTS {name}_append_only ON {table};",
            f"""CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE
               ON {table} FOR EACH ROW EXECUTE FUNCTION {name}_append_only();""",
            f"""CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {table}
               FOR EACH STATEMENT EXECUTE FUNCTION {name}_append_only();""",
        ]
        return install, remove
    return [], []


def install(schema_editor: Any, table: str, name: str, what: str) -> None:
    """Run `trigger_sql`'s install statements through a migration's schema editor."""
    statements, _ = trigger_sql(table, name, what, schema_editor.connection.vendor)
    for sql in statements:
        schema_editor.execute(sql)


def append_only(table: str, name: str, what: str) -> Any:
    """A migration operation making `table` append-only in the database: UPDATE and DELETE
    (and TRUNCATE on PostgreSQL) are always refused. `name` prefixes the triggers/function.
    Re-running it replaces the triggers in place (the later migrations that removed the
    purge switch call it again on the tables guarded before)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        install(schema_editor, table, name, what)

    def backwards(apps: Any, schema_editor: Any) -> None:
        _, statements = trigger_sql(table, name, what, schema_editor.connection.vendor)
        for sql in statements:
            schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)


def connected_as_superuser(connection: Any) -> bool:
    """Whether `connection` is a PostgreSQL superuser, who could disable every trigger
    (``session_replication_role``). The application must connect as an ordinary role —
    ideally one that does not own the tables either (an owner may drop triggers). Always
    False on SQLite, where protection is the file's permissions."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])
