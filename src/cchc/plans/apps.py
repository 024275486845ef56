from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "cchc.plans"
    verbose_name = "Kế hoạch CCHC"

    def ready(self) -> None:
        from cchc.interop.registry import register_importer
        from cchc.plans import importers

        for importer in importers.IMPORTERS:
            register_importer(importer)
