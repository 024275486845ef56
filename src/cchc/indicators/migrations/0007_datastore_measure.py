"""766 sub-indicator 3e: the cell measure `datastore` (finished dossiers whose signed
e-result reached the holder's data store, `Dossier.result_in_datastore`). A new column at 0
is exact: no dossier carried the flag before this change (dossiers/0016 adds it), so the
cells need no rebuild. Written by hand; the lead chains it after the other issue-21 ones."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0006_rebuild_cells_counting_resolved_states"),
        ("dossiers", "0016_datastore"),
    ]

    operations = [
        migrations.AddField(
            model_name="cell",
            name="datastore",
            field=models.BigIntegerField(
                db_default=0, default=0, verbose_name="Kết quả đã vào kho dữ liệu của công dân"
            ),
        ),
    ]
