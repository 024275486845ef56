from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "cchc.reports"
    label = "reports"
    verbose_name = "Báo cáo định kỳ CCHC"
    default_auto_field = "django.db.models.BigAutoField"
