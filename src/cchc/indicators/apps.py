from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "cchc.indicators"
    label = "indicators"
    verbose_name = "Chỉ tiêu, chỉ số CCHC"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from django.db.models.signals import post_delete, post_save

        # app registry: models are imported once every app is loaded
        from cchc.catalog.models import Procedure
        from cchc.dossiers.signals import dossier_changed, dossiers_bulk_loaded, dossiers_imported
        from cchc.indicators import aggregates, cellcache, importers
        from cchc.tabular.registry import register_importer

        dossier_changed.connect(aggregates.on_dossier_changed, dispatch_uid="indicators.cells")
        dossiers_bulk_loaded.connect(aggregates.on_bulk_loaded, dispatch_uid="indicators.bulk")
        dossiers_imported.connect(
            aggregates.on_dossiers_imported, dispatch_uid="indicators.imported"
        )
        # The cell sums read a procedure's online level and result type: a saved procedure
        # makes the pages' cached cell reads stale (cchc.indicators.cellcache).
        post_save.connect(cellcache.on_procedure_saved, sender=Procedure,
                          dispatch_uid="indicators.cells.procedure")  # fmt: skip
        post_delete.connect(cellcache.on_procedure_saved, sender=Procedure,
                            dispatch_uid="indicators.cells.procedure.delete")  # fmt: skip
        for importer in importers.IMPORTERS:
            register_importer(importer)
