"""The default working calendar every desk starts with (its dated entries are loaded by
the legal-time data files)."""

from django.db import migrations


def forwards(apps, schema_editor):
    WorkingCalendar = apps.get_model("calendars", "WorkingCalendar")
    WorkingCalendar.objects.get_or_create(
        code="vn-civil-service",
        defaults={
            "name": "Lịch làm việc của cán bộ, công chức (toàn quốc)",
            "description": "Thứ Hai – thứ Sáu, 07:30–11:30 và 13:30–17:30; nghỉ lễ, Tết theo "
            "Bộ luật Lao động 2019 Điều 112 và thông báo hằng năm của Chính phủ.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
