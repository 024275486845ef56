"""Append-only without exception: the audit log's triggers refuse UPDATE, DELETE and
TRUNCATE with no bypass, and the purge switch of 0003 (``cchc_purge_guard`` on SQLite,
``cchc_purge_allowed()`` / ``cchc.allow_purge`` on PostgreSQL) is removed from the database.
The event logs' triggers are replaced likewise by dossiers 0006 and feedback 0003.

Reversing does not bring the switch back: the guards stay strict.
"""

from django.db import migrations

from cchc.audit.guard import install

DROP_SWITCH = {
    "sqlite": ["DROP TABLE IF EXISTS cchc_purge_guard;"],
    "postgresql": ["DROP FUNCTION IF EXISTS cchc_purge_allowed();"],
}


def forwards(apps, schema_editor):
    install(schema_editor, "audit_auditentry", "audit_entry", "audit log")
    for sql in DROP_SWITCH.get(schema_editor.connection.vendor, []):
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_hash_chain")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
