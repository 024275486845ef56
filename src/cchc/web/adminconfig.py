"""AppConfig that installs the cchc admin site (kept free of model imports)."""

from django.contrib.admin.apps import AdminConfig


class CchcAdminConfig(AdminConfig):
    default_site = "cchc.web.admin_site.CchcAdminSite"
