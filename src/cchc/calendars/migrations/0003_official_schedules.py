"""The default calendar and the official 2024–2026 schedules shipped with cchc as version 1.

Later official schedules (a new year, an extra day off) arrive as new versions through
`cchc calendar load` or the admin, never by editing this migration.
"""

import datetime as dt

from django.db import migrations

SESSIONS = [["07:30", "11:30"], ["13:30", "17:30"]]


def forwards(apps, schema_editor):
    from cchc.legaltime import shipped_schedules

    WorkingCalendar = apps.get_model("calendars", "WorkingCalendar")
    CalendarVersion = apps.get_model("calendars", "CalendarVersion")
    CalendarYear = apps.get_model("calendars", "CalendarYear")
    CalendarDay = apps.get_model("calendars", "CalendarDay")
    calendar, _ = WorkingCalendar.objects.get_or_create(
        code="vn-civil-service",
        defaults={
            "name": "Lịch làm việc của cán bộ, công chức (toàn quốc)",
            "description": "Thứ Hai – thứ Sáu, 07:30–11:30 và 13:30–17:30; nghỉ lễ, Tết theo "
            "Bộ luật Lao động 2019 Điều 112 và thông báo hằng năm của Chính phủ.",
            "sessions": SESSIONS,
        },
    )
    if CalendarVersion.objects.filter(calendar=calendar).exists():
        return
    schedules = shipped_schedules("vn-civil-service")
    version = CalendarVersion.objects.create(
        calendar=calendar,
        number=1,
        effective_from=dt.date(min(s.year for s in schedules), 1, 1),
        title="Lịch nghỉ lễ, Tết chính thức " + ", ".join(str(s.year) for s in schedules),
        source="Dữ liệu lịch kèm theo cchc (nguồn ghi theo từng ngày)",
        created_at=dt.datetime.now(dt.UTC),
    )
    for schedule in schedules:
        CalendarYear.objects.create(version=version, year=schedule.year, title=schedule.title)
        for e in schedule.entries:
            CalendarDay.objects.create(
                version=version, date=e.date, kind=e.kind.value, name=e.name, source=e.source,
                layer=e.layer.value, verified=e.verified, note=e.note,
                swapped_with=e.swapped_with,
            )


class Migration(migrations.Migration):
    dependencies = [("calendars", "0002_versions")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
