from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "cchc.interop"
    verbose_name = "Trao đổi dữ liệu"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from cchc.interop.dossiers import DossierImporter
        from cchc.tabular.registry import register_importer

        register_importer(DossierImporter())
