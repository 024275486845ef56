from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "cchc.dashboard"
    label = "dashboard"
    verbose_name = "Chỉ số, đánh giá"
