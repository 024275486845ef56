from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SigningConfig(AppConfig):
    name = "cchc.signing"
    label = "signing"
    verbose_name = "Chữ ký số"

    def ready(self) -> None:
        # A mistyped CCHC_SIGNING stops every process at start, not the worker at its first
        # signature. Function-local imports: AppConfig.ready runs before models load.
        from cchc.signing.errors import SigningError
        from cchc.signing.profiles import parse_config

        try:
            parse_config(getattr(settings, "CCHC_SIGNING", None) or {})
        except SigningError as exc:
            raise ImproperlyConfigured(exc.message) from None
