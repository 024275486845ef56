from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "cchc.ops"
    label = "ops"
    verbose_name = "Vận hành"
