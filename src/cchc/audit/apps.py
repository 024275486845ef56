from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "cchc.audit"
    verbose_name = "Nhật ký hệ thống"

    def ready(self) -> None:
        # app registry: ready() runs once the models are loaded (signin imports the auth models)
        from cchc.audit import lockorder, signin

        signin.connect()
        connection_created.connect(lockorder.install, dispatch_uid="cchc.audit.lockorder")
