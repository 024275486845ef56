import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dossiers", "0003_portal_payments_ratings"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="dossier",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="notifications",
                to="dossiers.dossier",
                verbose_name="Hồ sơ",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="attachment",
            field=models.CharField(blank=True, max_length=100, verbose_name="Tệp đính kèm"),
        ),
    ]
