"""Import runs count the lines that are not data (title block, blank lines, footer) as
skipped, apart from the refused rows (issue 19). Runs recorded before have none: 0 and {}
(their footers were counted as refused rows then, which this does not rewrite)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0003_import_run_progress"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="skipped",
            field=models.PositiveIntegerField(
                default=0, verbose_name="Dòng bỏ qua (không phải dữ liệu)"
            ),
        ),
        migrations.AddField(
            model_name="importrun",
            name="skipped_lines",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
