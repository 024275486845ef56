"""Database-level guard: dossier events refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), like the audit log, with the same test-only purge switch (audit 0003). The event log is the dossier's source of truth."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER dossier_event_no_update BEFORE UPDATE ON dossiers_dossierevent
       BEGIN SELECT RAISE(ABORT, 'dossier events are append-only'); END;""",
    """CREATE TRIGGER dossier_event_no_delete BEFORE DELETE ON dossiers_dossierevent
       WHEN (SELECT allowed FROM cchc_purge_guard) IS NOT 1
       BEGIN SELECT RAISE(ABORT, 'dossier events are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS dossier_event_no_update;",
    "DROP TRIGGER IF EXISTS dossier_event_no_delete;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION dossier_event_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP IN ('DELETE', 'TRUNCATE') AND cchc_purge_allowed() THEN
           RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
         END IF;
         RAISE EXCEPTION 'dossier events are append-only';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER dossier_event_append_only BEFORE UPDATE OR DELETE
       ON dossiers_dossierevent FOR EACH ROW EXECUTE FUNCTION dossier_event_append_only();""",
    """CREATE TRIGGER dossier_event_no_truncate BEFORE TRUNCATE ON dossiers_dossierevent
       FOR EACH STATEMENT EXECUTE FUNCTION dossier_event_append_only();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS dossier_event_no_truncate ON dossiers_dossierevent;",
    "DROP TRIGGER IF EXISTS dossier_event_append_only ON dossiers_dossierevent;",
    "DROP FUNCTION IF EXISTS dossier_event_append_only();",
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
    dependencies = [("dossiers", "0001_initial"), ("audit", "0003_purge_guard")]
    operations = [migrations.RunPython(forwards, backwards)]
