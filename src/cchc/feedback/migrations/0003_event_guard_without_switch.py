"""PAKN events: the append-only triggers again, now without the purge switch that
audit 0005 removed (UPDATE, DELETE and TRUNCATE always refused)."""

from django.db import migrations

from cchc.audit.guard import install


def forwards(apps, schema_editor):
    install(schema_editor, "feedback_feedbackevent", "feedback_event", "feedback events")


class Migration(migrations.Migration):
    dependencies = [("feedback", "0002_event_append_only"), ("audit", "0005_no_purge_switch")]
    # Reversing keeps the strict guard (it does not bring the switch back).
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
