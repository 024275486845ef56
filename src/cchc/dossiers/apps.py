from django.apps import AppConfig

from cchc.calendars.signals import version_added


class DossiersConfig(AppConfig):
    name = "cchc.dossiers"
    label = "dossiers"
    verbose_name = "Hồ sơ thủ tục hành chính"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        version_added.connect(_recompute_open_dossiers, dispatch_uid="dossiers.recompute")


def _recompute_open_dossiers(sender, *, calendar_code, actor, now, **kwargs):
    """A new calendar version: open dossiers on that calendar are recomputed against it,
    each with a `recompute` event (spec 02 §9)."""
    from cchc.dossiers.services import recompute_open  # app registry: apps.py loads before models

    recompute_open(calendar_code, actor=actor, now=now)
