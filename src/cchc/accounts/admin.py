from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from cchc.accounts.models import RoleAssignment, User
from cchc.web.admin_site import AdministratorsOnly, AuditedAdmin


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
