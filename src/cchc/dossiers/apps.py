from django.apps import AppConfig
from django.db.models.signals import post_migrate

from cchc.calendars.signals import calendar_checked, version_added
from cchc.dossiers import search


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
        # SQLite rebuilds a table to alter it, dropping the search triggers and expression
        # indexes on it: put them back after every migrate (cchc.dossiers.search).
        post_migrate.connect(search.on_post_migrate, sender=self, dispatch_uid="dossiers.search")
        # The return of a dossier hands its signed results to the holder's data store.
        from cchc.dossiers import datastore_delivery
        from cchc.dossiers.signals import dossier_changed

        dossier_changed.connect(
            datastore_delivery.on_dossier_changed, dispatch_uid="dossiers.datastore"
        )
