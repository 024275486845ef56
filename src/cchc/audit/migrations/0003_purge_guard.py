"""Append-only guards with one sanctioned exception: purging a whole test database.

The triggers of 0002 refuse every UPDATE/DELETE/TRUNCATE, which also refuses the database
flush that transactional tests (live-server browser tests) need between tests. They are
recreated here with a switch that only the flushing connection turns on:

- PostgreSQL: the session setting ``cchc.allow_purge = 'on'`` (``SET`` on one connection;
  invisible to every other session).
- SQLite: the one-row table ``cchc_purge_guard`` (``allowed = 1``), which is not a Django
  model, so no ORM code or flush ever touches it.

Updates stay refused in every case; the switch only admits deletion of whole tables.
`cchc.audit.guard` turns it on and off; the tests' flush is the only caller.

Superseded: any client could flip the switch, so 0005 removes it and restores triggers with
no bypass (the test harness lifts them with its own means, tests/append_only.py).
"""

from django.db import migrations

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete;",
    "CREATE TABLE IF NOT EXISTS cchc_purge_guard (allowed integer NOT NULL);",
    "INSERT INTO cchc_purge_guard (allowed) SELECT 0 WHERE NOT EXISTS "
    "(SELECT 1 FROM cchc_purge_guard);",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
       WHEN (SELECT allowed FROM cchc_purge_guard) IS NOT 1
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete;",
    """CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_auditentry
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;""",
    "DROP TABLE IF EXISTS cchc_purge_guard;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION cchc_purge_allowed() RETURNS boolean AS $$
       BEGIN RETURN coalesce(current_setting('cchc.allow_purge', true), '') = 'on'; END;
       $$ LANGUAGE plpgsql;""",
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP IN ('DELETE', 'TRUNCATE') AND cchc_purge_allowed() THEN
           RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
         END IF;
         RAISE EXCEPTION 'audit log is append-only';
       END; $$ LANGUAGE plpgsql;""",
]
POSTGRES_REVERSE = [
    """CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;""",
    "DROP FUNCTION IF EXISTS cchc_purge_allowed();",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(vendor, []):
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}.get(vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
