"""django-otp's device apps (TOTP, recovery codes) without their admin pages.

django-otp registers admin pages that show TOTP secrets and let a superuser add or delete
devices without an audit entry. In cchc every device change goes through
`cchc.accounts.twofactor` (audited); the admin reset is `cchc twofactor reset`. The admin
autodiscovers in its own `ready()`, which runs first (it heads INSTALLED_APPS), so these
configs find the registrations in place and remove them.
"""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static.apps import DefaultConfig as OTPStaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as OTPTOTPConfig


def _unregister(model_name: str, app: OTPTOTPConfig | OTPStaticConfig) -> None:
    model = app.get_model(model_name)
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class TOTPConfig(OTPTOTPConfig):
    verbose_name = "Xác thực hai lớp (ứng dụng xác thực)"

    def ready(self) -> None:
        _unregister("TOTPDevice", self)


class StaticConfig(OTPStaticConfig):
    verbose_name = "Xác thực hai lớp (mã khôi phục)"

    def ready(self) -> None:
        _unregister("StaticDevice", self)
