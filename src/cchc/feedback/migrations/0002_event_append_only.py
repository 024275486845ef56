"""Database-level guard: PAKN events refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), like dossier events. (Written with the purge switch of audit 0003;
`append_only` has had none since audit 0005.)"""

from django.db import migrations

from cchc.audit.guard import append_only


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("audit", "0003_purge_guard")]
    operations = [append_only("feedback_feedbackevent", "feedback_event", "feedback events")]
