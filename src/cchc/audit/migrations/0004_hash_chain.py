"""The audit log becomes a hash chain (cchc.audit.chain): two columns, prev_hash and hash,
filled for the existing entries in id order.

The append-only triggers are dropped first — the rows must be updated once, and on SQLite
adding a NOT NULL column remakes the table, which would drop them anyway. Migration 0005
installs them again, without the purge switch.
"""

from django.db import migrations, models

from cchc.audit import chain
from cchc.audit.guard import install

BATCH = 2000


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {
        "sqlite": [
            "DROP TRIGGER IF EXISTS audit_entry_no_update;",
            "DROP TRIGGER IF EXISTS audit_entry_no_delete;",
        ],
        "postgresql": [
            "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_auditentry;",
            "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_auditentry;",
        ],
    }
    for sql in statements.get(vendor, []):
        schema_editor.execute(sql)


def reinstall_triggers(apps, schema_editor):
    install(schema_editor, "audit_auditentry", "audit_entry", "audit log")


def chain_existing(apps, schema_editor):
    entry_model = apps.get_model("audit", "AuditEntry")
    db = schema_editor.connection.alias
    prev = chain.GENESIS
    pending = []
    for entry in entry_model.objects.using(db).order_by("id").iterator(chunk_size=BATCH):
        entry.prev_hash = prev
        entry.hash = prev = chain.entry_hash(chain.values_of(entry), prev)
        pending.append(entry)
        if len(pending) >= BATCH:
            entry_model.objects.using(db).bulk_update(pending, ["prev_hash", "hash"])
            pending = []
    if pending:
        entry_model.objects.using(db).bulk_update(pending, ["prev_hash", "hash"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_purge_guard")]

    operations = [
        migrations.RunPython(drop_triggers, reinstall_triggers),
        migrations.AddField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(
                blank=True, default="", max_length=64, verbose_name="Mã băm bản ghi trước"
            ),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(blank=True, default="", max_length=64, verbose_name="Mã băm"),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
    ]
