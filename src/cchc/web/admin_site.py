"""The Django admin site, restricted to administrators (the model admins' base classes,
which make every change audited, are in `cchc.accounts.admin_base`).

Access follows the same policy as the rest of cchc (`admin.site` permission), not
Django's is_staff/model permissions; nothing can be deleted through it; every save
writes an audit entry in the same transaction.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from cchc.accounts import policy
from cchc.accounts.access import deny


class CchcAdminSite(admin.AdminSite):
    site_header = "Quản trị hệ thống CCHC"
    site_title = "Quản trị CCHC"
    index_title = "Danh mục quản trị"

    def has_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and policy.can(request.user, "admin.site"))

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # One login page for everyone (with throttling); the admin only checks the role.
        if request.user.is_authenticated:
            return deny(request, "Trang quản trị chỉ dành cho quản trị hệ thống.")
        target = request.GET.get("next", reverse("admin:index"))
        return redirect(f"{reverse('web:login')}?next={quote(target)}")
