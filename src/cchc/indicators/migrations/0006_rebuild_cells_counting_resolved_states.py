"""The "finished" cells now count only the dossiers whose final state counts as resolved
(`cchc.indicators.resolved`, `data/resolved.toml`: returned, resolved, refused and stopped
count; a withdrawal does not). The maintained cells were built counting every finishing
instant, so they are rebuilt with the indicator engine's own rebuild service (the same
`INSERT … SELECT … GROUP BY` as `cchc indicators rebuild`; it also forgets the stored
in-progress instants, counted again on use).

Only a database with dossiers is touched (a fresh database has no cells to rebuild). The
rebuild reads and writes named columns only, through the live models: dossier columns added
by later migrations are not read. At 1 M dossiers it takes about as long as
`cchc indicators rebuild` (minutes on SQLite). The reverse rebuilds again with the code then
installed — the cells are derived data, so both directions simply recompute them.
"""

from django.db import migrations


def live_columns_exist() -> bool:
    """Whether every column of the live Cell and Dossier models is in the database: the
    rebuild runs through the live models, so on a database that has not yet applied the
    migrations adding later measures (0007, 0008) it is left to 0009, which repeats it."""
    from django.db import connection

    from cchc.dossiers.models import Dossier
    from cchc.indicators.models import Cell

    with connection.cursor() as cursor:
        for model in (Cell, Dossier):
            table = model._meta.db_table
            present = {
                c.name for c in connection.introspection.get_table_description(cursor, table)
            }
            if any(f.column not in present for f in model._meta.concrete_fields):
                return False
    return True


def rebuild(apps, schema_editor):
    Dossier = apps.get_model("dossiers", "Dossier")
    if not Dossier.objects.filter(finished_at__isnull=False).exists():
        return
    if not live_columns_exist():
        return
    # The engine's rebuild service (derived data: recomputed from the dossiers, never
    # edited); imported here because migrations load before the app's signal wiring.
    from cchc.indicators import aggregates

    aggregates.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0005_index766_groups_in_decision_order"),
        ("dossiers", "0010_dossier_open_counts"),
    ]

    operations = [
        migrations.RunPython(rebuild, rebuild),
    ]
