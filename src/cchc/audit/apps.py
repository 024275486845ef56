from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "cchc.audit"
    verbose_name = "Nhật ký hệ thống"
