from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "cchc.org"
    verbose_name = "Tổ chức bộ máy"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from cchc.org.structure import StructureImporter
        from cchc.tabular.registry import register_importer

        register_importer(StructureImporter())
