from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "cchc.org"
    verbose_name = "Tổ chức bộ máy"

    def ready(self) -> None:
        from cchc.interop.registry import register_importer
        from cchc.org.structure import StructureImporter

        register_importer(StructureImporter())
