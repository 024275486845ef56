"""Dossier search indexes (issue 17): trigram text search over code, applicant and procedure
(PostgreSQL pg_trgm GIN indexes; SQLite an FTS5 trigram table kept in step by triggers) and
B-tree indexes on the normalised phone and ID numbers. See `cchc.dossiers.search`."""

from django.db import migrations

from cchc.dossiers import search


def forwards(apps, schema_editor):
    search.install(schema_editor)


def backwards(apps, schema_editor):
    search.remove(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("dossiers", "0008_counter_intake_key")]
    operations = [migrations.RunPython(forwards, backwards)]
