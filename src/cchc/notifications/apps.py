from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cchc.notifications"
    label = "notifications"
    verbose_name = "Thông báo"
    default_auto_field = "django.db.models.BigAutoField"
