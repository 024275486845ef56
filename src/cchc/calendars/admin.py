from django.contrib import admin

from cchc.calendars.models import WorkingCalendar
from cchc.web.admin_site import AuditedAdmin


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(AuditedAdmin):
    list_display = ["code", "name"]
