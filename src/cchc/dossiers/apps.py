from django.apps import AppConfig

from cchc.calendars.signals import calendar_checked, version_added


class DossiersConfig(AppConfig):
    name = "cchc.dossiers"
    label = "dossiers"
    verbose_name = "Hồ sơ thủ tục hành chính"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # A new calendar version: open dossiers on that calendar are recomputed against it,
        # each with a `recompute` event (spec 02 §9), as a resumable job recorded in the
        # calendar's transaction.
        from cchc.dossiers import recompute  # app registry: apps.py loads before models

        version_added.connect(recompute.on_version_added, dispatch_uid="dossiers.recompute")
        calendar_checked.connect(
            recompute.on_calendar_checked, dispatch_uid="dossiers.recompute.check"
        )
