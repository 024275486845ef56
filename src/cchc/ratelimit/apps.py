from django.apps import AppConfig


class RateLimitConfig(AppConfig):
    name = "cchc.ratelimit"
    label = "ratelimit"
    verbose_name = "Giới hạn tần suất yêu cầu"
    default_auto_field = "django.db.models.BigAutoField"
