# Publication facts from the national database of procedures (cchc.national.catalogue).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_procedure_versions_and_cutoff"),
    ]

    operations = [
        migrations.AddField(
            model_name="procedure",
            name="published_on",
            field=models.DateField(blank=True, null=True, verbose_name="Ngày công bố"),
        ),
        migrations.AddField(
            model_name="procedure",
            name="national_published",
            field=models.BooleanField(
                default=False, verbose_name="Công khai trên CSDL quốc gia về TTHC"
            ),
        ),
        migrations.AddField(
            model_name="procedure",
            name="payment_integrated",
            field=models.BooleanField(
                default=False, verbose_name="Tích hợp thanh toán trực tuyến trên Cổng DVCQG"
            ),
        ),
    ]
