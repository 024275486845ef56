from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "cchc.plans"
    verbose_name = "Kế hoạch CCHC"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from cchc.plans import importers
        from cchc.tabular.registry import register_importer

        for importer in importers.IMPORTERS:
            register_importer(importer)
