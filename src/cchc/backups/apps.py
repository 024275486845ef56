from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "cchc.backups"
    label = "backups"
    verbose_name = "Sao lưu"
