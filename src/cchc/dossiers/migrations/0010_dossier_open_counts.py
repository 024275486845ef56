"""A covering partial index for the queue's and home page's headline counts
(`cchc.dossiers.queries.counts`) and the queue's step names (`queries.step_names`).

Both read every open or resolved dossier the user sees: for a provincial supervisor that
is the whole province's workload (45 845 rows of 1 M dossiers in benchmarks/pages.py), and
fetched from the table they cost 0.5 s on PostgreSQL (28 000 heap blocks). The index holds
exactly those rows (the condition is the query's own `is_open OR state = 'resolved'`, so
SQLite's planner matches it too) with every column the counts and the visibility rule read,
so both are index-only scans whose size follows the open workload, not the history. The
procedure leads: the step names probe, per step of the catalogue, whether an open dossier
of its procedure is in the user's scope (before this index: 118 probes through 8 000
finished dossiers each, 3.6 s for the supervisor's queue at 1 M dossiers).

`Dossier.Meta.indexes` lists the same index, so the model state and the migrations agree.
"""

from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0009_search_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                fields=[
                    "procedure",
                    "current_agency",
                    "competent_agency",
                    "receiving_agency",
                    "state",
                    "is_open",
                    "at_risk",
                    "due",
                    "assignee",
                    "id",
                ],
                condition=Q(is_open=True) | Q(state="resolved"),
                name="dossier_open_counts",
            ),
        ),
    ]
