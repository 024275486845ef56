from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from cchc.accounts.admin_base import AdministratorsOnly, AuditedAdmin
from cchc.calendars.models import CalendarDay, CalendarVersion, CalendarYear, WorkingCalendar
from cchc.calendars.services import announce_version, coverage_text, next_version_number


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(AuditedAdmin):
    list_display = ["code", "name", "cutoff", "saturday_advances_clock", "coverage"]
    readonly_fields = ["coverage"]

    @admin.display(description="Năm có lịch chính thức / năm tạm tính")
    def coverage(self, obj: WorkingCalendar) -> str:
        return coverage_text(obj) if obj.pk else ""


class DayInline(AdministratorsOnly, admin.TabularInline):
    model = CalendarDay
    extra = 3
    can_delete = False
    fields = ["date", "kind", "name", "source", "layer", "verified", "swapped_with", "note"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A published version is never edited: add a new version instead.
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class YearInline(AdministratorsOnly, admin.TabularInline):
    model = CalendarYear
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarVersion)
class CalendarVersionAdmin(AuditedAdmin):
    """Administrators add a decree (extra day off, swapped working day) as a new version."""

    list_display = [
        "calendar",
        "number",
        "effective_from",
        "title",
        "source",
        "years",
        "unverified_days",
        "created_at",
    ]
    list_filter = ["calendar"]
    fields = ["calendar", "effective_from", "title", "source"]
    inlines = [DayInline, YearInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description="Năm có lịch chính thức")
    def years(self, obj: CalendarVersion) -> str:
        return ", ".join(str(y.year) for y in obj.years.all()) or "—"

    @admin.display(description="Ngày chưa đối chiếu văn bản")
    def unverified_days(self, obj: CalendarVersion) -> str:
        days = [d for d in obj.days.all() if not d.verified]
        return ", ".join(f"{d.date:%d/%m/%Y}" for d in days) or "—"

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("years", "days")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.number = next_version_number(obj.calendar)
            obj.created_at = timezone.now()
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not change:  # the version and its days are saved: announce it in their transaction
            announce_version(form.instance, actor=request.user, now=timezone.now())
