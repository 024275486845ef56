"""The look-up's own attempt table gives way to the shared rate limiter (cchc.ratelimit)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial"), ("ratelimit", "0001_initial")]

    operations = [migrations.DeleteModel(name="LookupAttempt")]
