"""The audit log and the background jobs' records in the admin: read-only. Registered by
the shell, because their guard (the accounts policy) sits above them in the layers."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_q import models as q_models

from cchc.accounts.admin_base import AuditedAdmin
from cchc.audit.models import AuditEntry
from cchc.jobs.models import Heartbeat, JobRun


@admin.register(AuditEntry)
class AuditEntryAdmin(AuditedAdmin):
    list_display = ["at", "action", "actor_label", "object_type", "object_repr"]
    list_filter = ["object_type"]
    search_fields = ["action", "actor_label", "object_repr", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(AuditedAdmin):
    """Records kept by the machinery: administrators read them, nobody edits them here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "name", "trigger", "outcome", "finished_at", "counts", "message"]
    list_filter = ["outcome", "name", "trigger"]
    search_fields = ["name", "message"]
    date_hierarchy = "started_at"


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "at", "started_at", "host", "pid"]


# django-q2's own admin pages ask for Django model permissions nobody holds in cchc; the
# schedule (written from cchc.jobs.schedule and CCHC_SCHEDULE), the queue and the results
# are shown read-only to administrators instead.
for _model in (q_models.Schedule, q_models.Success, q_models.Failure, q_models.OrmQ):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(q_models.Schedule)
class ScheduleAdmin(ReadOnlyAdmin):
    list_display = ["name", "schedule_type", "minutes", "next_run", "func"]
    ordering = ["next_run"]


@admin.register(q_models.Failure)
class FailedTaskAdmin(ReadOnlyAdmin):
    list_display = ["name", "func", "started", "stopped", "attempt_count", "result"]
    ordering = ["-stopped"]


@admin.register(q_models.Success)
class DoneTaskAdmin(ReadOnlyAdmin):
    list_display = ["name", "func", "started", "stopped", "attempt_count"]
    ordering = ["-stopped"]


@admin.register(q_models.OrmQ)
class QueuedTaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "key", "lock"]
