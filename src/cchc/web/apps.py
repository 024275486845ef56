from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "cchc.web"
    verbose_name = "Giao diện web"

    def ready(self) -> None:
        from cchc.web import checks  # noqa: F401 - registers the deployment checks
