"""Deadline reminders for plan tasks: before the deadline and while overdue, to the lead
agency's focal points, in the inbox and by e-mail. Idempotent per day: the notification
key makes a second run of the same day (or week, for overdue) send nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse

from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment
from cchc.accounts.roles import Role
from cchc.notifications.models import Channel
from cchc.notifications.services import notify
from cchc.plans.models import Task
from cchc.plans.services import local_day, task_states
from cchc.plans.status import DONE, TaskStatus

DAYS_BEFORE = 7


@dataclass
class ReminderReport:
    due_soon: int = 0
    overdue: int = 0
    sent: int = 0


def send_reminders(*, now: dt.datetime, days_before: int = DAYS_BEFORE) -> ReminderReport:
    """Remind focal points of every task deliverable due within `days_before` days (once)
    or overdue (once a week), for plans of this year and the last."""
    today = local_day(now)
    report = ReminderReport()
    tasks = Task.objects.filter(plan__year__gte=today.year - 1).select_related(
        "plan", "lead_agency"
    )
    focal = [
        a.user
        for a in RoleAssignment.objects.filter(
            role=Role.PAR_FOCAL_POINT, active=True
        ).select_related("user")
        if a.user.is_active
    ]
    week = f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"
    with transaction.atomic():
        for state in task_states(tasks, now=now):
            task = state.task
            recipients = [
                u for u in focal if policy.can(u, "plan.report", agency=task.lead_agency_id)
            ]
            for d in state.deliverables:
                if d.status is TaskStatus.OVERDUE:
                    kind, key = "overdue", f"plans.overdue:{task.pk}:{d.period}:{week}"
                    subject = f"Nhiệm vụ {task.code} đã quá hạn ({d.due:%d/%m/%Y})"
                    report.overdue += 1
                elif d.status not in DONE and 0 <= (d.due - today).days <= days_before:
                    kind, key = "due_soon", f"plans.due_soon:{task.pk}:{d.period}"
                    subject = f"Nhiệm vụ {task.code} đến hạn ngày {d.due:%d/%m/%Y}"
                    report.due_soon += 1
                else:
                    continue
                body = (
                    f"{task.description}\nKỳ: {d.label}. Cơ quan chủ trì: {task.lead_agency}. "
                    f"Tiến độ đã báo cáo: {d.progress}%."
                )
                for user in recipients:
                    for channel in (Channel.IN_APP, Channel.EMAIL):
                        note = notify(
                            kind=f"plans.{kind}",
                            subject=subject,
                            body=body,
                            user=user,
                            channel=channel,
                            link=reverse("plans:task", args=[task.pk]),
                            key=f"{key}:{user.pk}:{channel}",
                            agency_id=task.lead_agency_id,
                            now=now,
                        )
                        report.sent += note is not None
    return report
