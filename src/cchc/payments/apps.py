from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cchc.payments"
    label = "payments"
    verbose_name = "Thanh toán phí, lệ phí"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The dossier engine must not import payments (layers contract): payments hands it
        # the fees-before-results rule through the engine's guard registry.
        from cchc.dossiers.guards import register_pre_action_guard
        from cchc.payments.services import fees_before_result

        register_pre_action_guard(fees_before_result)
