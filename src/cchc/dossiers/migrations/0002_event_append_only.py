"""Database-level guard: dossier events refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), like the audit log, with the same test-only purge switch (audit 0003). The event
log is the dossier's source of truth."""

from django.db import migrations

from cchc.audit.guard import append_only


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial"), ("audit", "0003_purge_guard")]
    operations = [append_only("dossiers_dossierevent", "dossier_event", "dossier events")]
