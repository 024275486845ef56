"""Import runs: state and progress, written at start and per batch (issue 16)."""

from django.db import migrations, models


def states_of_past_runs(apps, schema_editor):
    """Runs recorded before this migration: finished ones are ok, unfinished ones were
    interrupted (they were only ever written at start and at the end)."""
    ImportRun = apps.get_model("interop", "ImportRun")
    ImportRun.objects.filter(finished_at__isnull=False).update(state="ok")
    ImportRun.objects.filter(finished_at__isnull=True).update(state="interrupted")


class Migration(migrations.Migration):
    dependencies = [
        ("interop", "0002_import_run_scope"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="state",
            field=models.CharField(
                choices=[
                    ("queued", "Đang chờ xử lý"),
                    ("running", "Đang chạy"),
                    ("ok", "Hoàn tất"),
                    ("failed", "Không thực hiện được"),
                    ("interrupted", "Bị gián đoạn"),
                ],
                default="queued",
                max_length=12,
                verbose_name="Trạng thái",
            ),
        ),
        migrations.AddField(
            model_name="importrun",
            name="total",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="Tổng số dòng"),
        ),
        migrations.AddField(
            model_name="importrun",
            name="progress_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="Cập nhật tiến độ lúc"
            ),
        ),
        migrations.AddField(
            model_name="importrun",
            name="message",
            field=models.TextField(blank=True, verbose_name="Thông báo"),
        ),
        migrations.AddField(
            model_name="importrun",
            name="host",
            field=models.CharField(blank=True, max_length=100, verbose_name="Máy"),
        ),
        migrations.AddField(
            model_name="importrun",
            name="pid",
            field=models.IntegerField(blank=True, null=True, verbose_name="Tiến trình"),
        ),
        migrations.AddField(
            model_name="importrun",
            name="upload",
            field=models.JSONField(blank=True, default=dict, verbose_name="Tệp đã tải lên"),
        ),
        migrations.AddIndex(
            model_name="importrun",
            index=models.Index(fields=["sha256", "state"], name="importrun_by_file"),
        ),
        migrations.RunPython(states_of_past_runs, migrations.RunPython.noop),
    ]
