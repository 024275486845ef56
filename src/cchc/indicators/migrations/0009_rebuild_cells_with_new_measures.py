"""Rebuild the indicator cells once the measures of 0007 (result in the holder's data store)
and 0008 (certified electronic copies) exist, where they are not consistent with the dossiers.

0006 rebuilds the cells through the live models; on a database upgraded from before 0006 its
rebuild is deferred to here (the live models already have the columns 0007/0008 add). A
database whose cells are consistent is left alone (`aggregates.verify`, read-only).
"""

from django.db import migrations


def rebuild(apps, schema_editor):
    Dossier = apps.get_model("dossiers", "Dossier")
    if not Dossier.objects.filter(finished_at__isnull=False).exists():
        return
    # The engine's own services (derived data), imported here because migrations load
    # before the app's signal wiring.
    from cchc.indicators import aggregates

    if not aggregates.verify().clean:
        aggregates.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0008_certified_copy_measure"),
        ("dossiers", "0018_issued_signer"),
    ]

    operations = [
        migrations.RunPython(rebuild, migrations.RunPython.noop),
    ]
