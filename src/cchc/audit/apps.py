from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cchc.audit"
    verbose_name = "Nhật ký hệ thống"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from cchc.audit import lockorder, signin  # signin imports the auth models

        signin.connect()
        connection_created.connect(lockorder.install, dispatch_uid="cchc.audit.lockorder")
