from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "cchc.payments"
    label = "payments"
    verbose_name = "Thanh toán phí, lệ phí"
    default_auto_field = "django.db.models.BigAutoField"
