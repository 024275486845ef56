"""Indexes for an agency's figures and queue at province scale.

`dossier_competent_finished`: each competent agency's dossiers by completion.

An agency leader's drill-down of an indicator counted over finished dossiers (T4, 2a…)
filters the agency and a period of `finished_at`; with only `dossier_competent` (agency,
receipt) and `dossier_finished` (completion, province-wide), SQLite's planner took the
province's index and read every dossier finished in the year to keep one agency's: the
capped count of the agency leader's T4 drill for 2024 took 2.7 s at 1 M dossiers
(benchmarks/pages.py), 0.26 s with this index, which answers agency = ? AND finished_at in a
range directly.

`dossier_open_lateness`: open dossiers by agency with what makes them late (state, due,
paused since, apology), partial on `is_open`, so the late agencies of the dashboard's first
screen and the leader's comparison are index-only reads: 0.16 s → 0.02 s over the 20 000 open
dossiers of a 1 M province-year on SQLite.

`dossier_open_current`, `dossier_open_receiving`: the open dossiers an agency handles or
received, partial on `is_open`; with `dossier_open_lateness` for the competent agency they
answer the candidate ids of an agency-scoped queue (`access.visible_open`) from three small
indexes (a desk officer's queue: 60 ms → 10 ms at 1 M dossiers on SQLite).

On SQLite a database that has planner statistics (`sqlite_stat1`, written by ANALYZE) gets
them refreshed for the new indexes: next to statistics for the old ones, an index without any
looked cheaper than it is (the supervisor's queue walked every open dossier of the province
through `dossier_open_current` and sorted them, 50 ms instead of 1 ms).

`Dossier.Meta.indexes` lists the same indexes, so the model state and the migrations agree.
"""

from django.db import migrations, models
from django.db.models import Q


def analyze_if_analyzed(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            cursor.execute("ANALYZE dossiers_dossier")


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0012_issued_document"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                fields=["competent_agency", "finished_at"], name="dossier_competent_finished"
            ),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                fields=["competent_agency", "state", "due", "paused_since", "has_apology"],
                condition=Q(is_open=True),
                name="dossier_open_lateness",
            ),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                fields=["current_agency"], condition=Q(is_open=True), name="dossier_open_current"
            ),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                fields=["receiving_agency"],
                condition=Q(is_open=True),
                name="dossier_open_receiving",
            ),
        ),
        migrations.RunPython(analyze_if_analyzed, migrations.RunPython.noop),
    ]
