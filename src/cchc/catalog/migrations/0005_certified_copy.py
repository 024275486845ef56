"""Procedures whose output is a certified electronic copy (bản sao điện tử có chứng thực,
766 sub 3c): `Procedure.output_certified_copy`. Written by hand (helper "certcopy")."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_signature_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="procedure",
            name="output_certified_copy",
            field=models.BooleanField(
                default=False, verbose_name="Cấp bản sao điện tử có chứng thực"
            ),
        ),
    ]
