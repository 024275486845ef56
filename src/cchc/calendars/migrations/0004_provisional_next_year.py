"""The shipped calendar computes dues that fall in a year without a decreed schedule yet
(e.g. a dossier received in December whose due falls in January of a year whose holiday
notice has not been issued): such results use the statutory holidays of the Labour Code
alone and are marked "tạm tính" in every explanation. When the year's official schedule is
loaded as a new calendar version, open dossiers are recomputed (`calendars.signals
.version_added`). Without this, desks could not receive such dossiers at all at year end.
An administrator can turn it off per calendar in the admin.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    WorkingCalendar = apps.get_model("calendars", "WorkingCalendar")
    WorkingCalendar.objects.filter(code="vn-civil-service").update(provisional_years_ok=True)


class Migration(migrations.Migration):
    dependencies = [("calendars", "0003_official_schedules")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
