"""Base classes for model admins: administrators only, nothing deleted, every change audited.

Access follows the same policy as the rest of cchc (`admin.site` permission), not
Django's is_staff/model permissions; every save writes an audit entry in the same
transaction. The admin site itself is the shell's (`cchc.web.admin_site`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from cchc.accounts import policy
from cchc.audit import log


class AdministratorsOnly:
    """Admin access for administrators only (the `admin.site` permission), never deletion.

    Used by model admins and inlines alike; Django would otherwise ask for model
    permissions that nobody holds in cchc.
    """

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policy.can(request.user, "admin.site")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can(request.user, "admin.site")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can(request.user, "admin.site")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.can(request.user, "admin.site")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nothing is deleted; end validity or deactivate instead


class AuditedAdmin(AdministratorsOnly, admin.ModelAdmin):
    """Base ModelAdmin: administrators only, no deletion, every change audited."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            before = type(obj)._default_manager.filter(pk=obj.pk).values().first() or {}
        else:
            before = {}
        super().save_model(request, obj, form, change)
        data = {}
        for name in form.changed_data:
            if "password" in name:
                data[name] = "(đã thay đổi)"
                continue
            new = form.cleaned_data.get(name)
            old = before.get(name, before.get(f"{name}_id"))
            data[name] = [old, new] if change else new
        request._cchc_admin_data = data  # type: ignore[attr-defined]

    def _audit(self, request: HttpRequest, obj: Any, verb: str, message: Any) -> None:
        data = getattr(request, "_cchc_admin_data", None) or {}
        if isinstance(message, list):
            data = {**data, "message": message}
        agency_id = (
            obj.pk if obj._meta.label_lower == "org.agency" else getattr(obj, "agency_id", None)
        )
        log.record(
            f"admin.{obj._meta.label_lower}.{verb}",
            actor=request.user,
            obj=obj,
            data=data,
            agency_id=agency_id,
        )
        request._cchc_admin_data = None  # type: ignore[attr-defined]

    # Django's admin calls these after every successful add/change (including password
    # changes and inline edits); they replace its own LogEntry with our audit entry.
    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> None:
        self._audit(request, obj, "created", message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> None:
        self._audit(request, obj, "updated", message)
