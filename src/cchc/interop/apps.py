from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "cchc.interop"
    verbose_name = "Trao đổi dữ liệu"
