from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "cchc.notifications"
    label = "notifications"
    verbose_name = "Thông báo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # app registry: ready() runs once every app's models are loaded
        from cchc.jobs.runner import ALERT_HANDLERS
        from cchc.notifications.job_alerts import alert_administrators

        # A failed periodic job tells the administrators (inbox and e-mail, once a day).
        if alert_administrators not in ALERT_HANDLERS:
            ALERT_HANDLERS.append(alert_administrators)
