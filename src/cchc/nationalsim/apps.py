from django.apps import AppConfig


class NationalSimConfig(AppConfig):
    name = "cchc.nationalsim"
    label = "nationalsim"
    verbose_name = "Mô phỏng Cổng Dịch vụ công quốc gia"
    default_auto_field = "django.db.models.BigAutoField"
