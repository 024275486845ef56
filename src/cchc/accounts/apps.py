from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cchc.accounts"
    verbose_name = "Người dùng và phân quyền"
