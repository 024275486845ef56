# Indexes only, for cchc.indicators: dossiers in progress at a report instant.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dossiers", "0003_portal_payments_ratings"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                condition=models.Q(("is_open", True)),
                fields=["received_at", "due", "supplement_requests", "competent_agency"],
                name="dossier_open_received",
            ),
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(
                fields=["finished_at", "received_at", "due", "supplement_requests"],
                name="dossier_finished",
            ),
        ),
    ]
