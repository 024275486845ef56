from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cchc.audit"
    verbose_name = "Nhật ký hệ thống"

    def ready(self) -> None:
        from cchc.audit import signin  # imports the auth models: only once apps are ready

        signin.connect()
