"""766 sub-indicator 3c: the cell measure `certified_copy` (returned dossiers given a
certified electronic copy, `Dossier.certified_copy`). A new column at 0 is exact: no dossier
carried the flag before this change (dossiers/0017 adds it), so the cells need no rebuild.
Written by hand (helper "certcopy"); the lead chains it after the other issue-21 ones."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0007_datastore_measure"),
        ("dossiers", "0017_certified_copy"),
    ]

    operations = [
        migrations.AddField(
            model_name="cell",
            name="certified_copy",
            field=models.BigIntegerField(
                db_default=0, default=0, verbose_name="Có bản sao điện tử có chứng thực"
            ),
        ),
    ]
