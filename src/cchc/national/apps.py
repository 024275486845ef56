from django.apps import AppConfig


class NationalConfig(AppConfig):
    name = "cchc.national"
    label = "national"
    verbose_name = "Kết nối Cổng Dịch vụ công quốc gia"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # app registry: models are imported once every app is loaded
        from cchc.dossiers.signals import dossier_changed
        from cchc.national import outbox

        # The outbox records are written in the event's transaction (cchc.national.outbox).
        # Imports and the demo generator (dossiers_imported, dossiers_bulk_loaded) are not
        # connected on purpose: imported dossiers are the other system's to sync.
        dossier_changed.connect(outbox.on_dossier_changed, dispatch_uid="national.outbox")
