from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "cchc.portal"
    label = "portal"
    verbose_name = "Cổng dịch vụ công"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from cchc.notifications.services import ATTACHMENT_RENDERERS
        from cchc.portal.attachments import dossier_form

        # E-mails about a dossier may carry one of its printed forms (form 01 on receipt).
        ATTACHMENT_RENDERERS["dossier-form"] = dossier_form

        # app registry, as above
        from cchc.dossiers.signals import dossier_changed
        from cchc.portal import results

        # Approval issues the electronic results on the worker (rendered, registered and
        # queued for the competent agency's signature) before the applicant asks for them.
        dossier_changed.connect(results.on_dossier_changed, dispatch_uid="portal.results.issue")
