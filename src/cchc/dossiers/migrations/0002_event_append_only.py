"""Database-level guard: dossier events refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), like the audit log. The event log is the dossier's source of truth. (Written with
the purge switch of audit 0003; `append_only` has had none since audit 0005.)"""

from django.db import migrations

from cchc.audit.guard import append_only


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0001_initial"), ("audit", "0003_purge_guard")]
    operations = [append_only("dossiers_dossierevent", "dossier_event", "dossier events")]
