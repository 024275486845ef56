from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "cchc.interop"
    verbose_name = "Trao đổi dữ liệu"

    def ready(self) -> None:
        from cchc.interop.dossiers import DossierImporter
        from cchc.interop.registry import register_importer

        register_importer(DossierImporter())
