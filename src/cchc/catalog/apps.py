from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "cchc.catalog"
    verbose_name = "Thủ tục hành chính"

    def ready(self) -> None:
        from cchc.catalog import importers
        from cchc.interop.registry import register_importer

        register_importer(importers.ProcedureImporter())
        register_importer(importers.InternalProcedureImporter())
