from django.contrib import admin

from cchc.accounts.admin_base import AuditedAdmin
from cchc.org.models import AdministrativeUnit, Agency, AgencyType, Desk, UnitLevel, UnitSuccession


@admin.register(UnitLevel)
class UnitLevelAdmin(AuditedAdmin):
    list_display = ["rank", "code", "name"]


@admin.register(AdministrativeUnit)
class AdministrativeUnitAdmin(AuditedAdmin):
    list_display = ["code", "name", "level", "parent", "valid_from", "valid_to", "is_demo"]
    list_filter = ["level", "is_demo"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(UnitSuccession)
class UnitSuccessionAdmin(AuditedAdmin):
    list_display = ["predecessor", "successor", "effective", "primary", "source"]
    autocomplete_fields = ["predecessor", "successor"]


@admin.register(AgencyType)
class AgencyTypeAdmin(AuditedAdmin):
    list_display = ["code", "name", "level"]
    search_fields = ["code", "name"]


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ["code", "name", "agency_type", "unit", "valid_from", "valid_to", "is_demo"]
    list_filter = ["agency_type__level", "is_demo"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["parent", "successor", "unit", "agency_type"]


@admin.register(Desk)
class DeskAdmin(AuditedAdmin):
    list_display = ["code", "name", "unit", "calendar", "valid_from", "valid_to"]
    search_fields = ["code", "name"]
    filter_horizontal = ["receives_for"]
    autocomplete_fields = ["unit", "host_agency"]
