from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "cchc.catalog"
    verbose_name = "Thủ tục hành chính"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from cchc.catalog import importers
        from cchc.tabular.registry import register_importer

        register_importer(importers.ProcedureImporter())
        register_importer(importers.InternalProcedureImporter())
