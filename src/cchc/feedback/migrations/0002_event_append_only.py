"""Database-level guard: PAKN events refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), like dossier events, with the same test-only purge switch (audit 0003)."""

from django.db import migrations

SQLITE = [
    """CREATE TRIGGER feedback_event_no_update BEFORE UPDATE ON feedback_feedbackevent
       BEGIN SELECT RAISE(ABORT, 'feedback events are append-only'); END;""",
    """CREATE TRIGGER feedback_event_no_delete BEFORE DELETE ON feedback_feedbackevent
       WHEN (SELECT allowed FROM cchc_purge_guard) IS NOT 1
       BEGIN SELECT RAISE(ABORT, 'feedback events are append-only'); END;""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS feedback_event_no_update;",
    "DROP TRIGGER IF EXISTS feedback_event_no_delete;",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION feedback_event_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP IN ('DELETE', 'TRUNCATE') AND cchc_purge_allowed() THEN
           RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
         END IF;
         RAISE EXCEPTION 'feedback events are append-only';
       END; $$ LANGUAGE plpgsql;""",
    """CREATE TRIGGER feedback_event_append_only BEFORE UPDATE OR DELETE
       ON feedback_feedbackevent FOR EACH ROW EXECUTE FUNCTION feedback_event_append_only();""",
    """CREATE TRIGGER feedback_event_no_truncate BEFORE TRUNCATE ON feedback_feedbackevent
       FOR EACH STATEMENT EXECUTE FUNCTION feedback_event_append_only();""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS feedback_event_no_truncate ON feedback_feedbackevent;",
    "DROP TRIGGER IF EXISTS feedback_event_append_only ON feedback_feedbackevent;",
    "DROP FUNCTION IF EXISTS feedback_event_append_only();",
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
    dependencies = [("feedback", "0001_initial"), ("audit", "0003_purge_guard")]
    operations = [migrations.RunPython(forwards, backwards)]
