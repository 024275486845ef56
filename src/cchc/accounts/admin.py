from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from cchc.accounts.admin_base import AdministratorsOnly, AuditedAdmin
from cchc.accounts.models import ApiToken, RoleAssignment, User
from cchc.accounts.tokens import revoke_token


class RoleInline(AdministratorsOnly, admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ["role", "agency", "unit", "desk", "active", "granted_at"]
    autocomplete_fields = ["agency", "unit"]


@admin.register(User)
class UserAdmin(AuditedAdmin, DjangoUserAdmin):
    list_display = ["username", "full_name", "email", "is_active"]
    search_fields = ["username", "full_name", "email"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Thông tin cá nhân", {"fields": ("full_name", "email", "phone")}),
        ("Trạng thái", {"fields": ("is_active", "is_superuser", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("username", "full_name", "password1", "password2")},
        ),
    )
    readonly_fields = ["last_login", "date_joined"]
    inlines = [RoleInline]
    list_filter = ["is_active"]
    filter_horizontal = ()


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdmin):
    list_display = ["user", "role", "agency", "unit", "active", "granted_at"]
    list_filter = ["role", "active"]
    autocomplete_fields = ["user", "agency", "unit"]


@admin.register(ApiToken)
class ApiTokenAdmin(AdministratorsOnly, admin.ModelAdmin):
    """Tokens are created with `cchc tokens create` (the secret is shown once there); the
    admin lists them and revokes them through the token service (audited)."""

    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "user__username"]
    # Never the hash: the prefix identifies a token.
    fields = readonly_fields = [
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Thu hồi các mã đã chọn")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            revoke_token(request.user, token, now=now)
            done += 1
        self.message_user(request, f"Đã thu hồi {done} mã truy cập.")
