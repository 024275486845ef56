"""Failed periodic jobs reach the administrators: an inbox message and an e-mail, once per
job and day (notification keys), so a job failing every minute does not flood anyone.
Registered with `cchc.jobs.runner.ALERT_HANDLERS` when the app loads."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.roles import Role
from cchc.notifications.models import Channel
from cchc.notifications.services import notify


def administrators() -> list[Any]:
    """Active users holding the administrator role, and active superusers."""
    holders = RoleAssignment.objects.filter(role=Role.ADMINISTRATOR, active=True).values("user_id")
    return list(
        User.objects.filter(is_active=True).filter(Q(pk__in=holders) | Q(is_superuser=True))
    )


def alert_administrators(run: Any) -> None:
    """Tell every administrator that `run` (a failed `cchc.jobs` JobRun) failed."""
    day = timezone.localdate()
    subject = f"Công việc định kỳ «{run.name}» bị lỗi"
    body = (
        f"Công việc định kỳ «{run.name}» ({run.command}) bắt đầu lúc "
        f"{timezone.localtime(run.started_at):%H:%M %d/%m/%Y} đã kết thúc với lỗi:\n"
        f"{run.message or '(không có thông báo)'}\n\n"
        "Xem các lần chạy trong trang quản trị (Công việc nền › Lần chạy công việc) hoặc bằng "
        f"lệnh «cchc jobs runs --name {run.name} --failed»."
    )
    for admin_user in administrators():
        for channel in (Channel.IN_APP, Channel.EMAIL):
            notify(
                kind="jobs.failed",
                subject=subject,
                body=body,
                user=admin_user,
                channel=channel,
                link="/admin/jobs/jobrun/?outcome__exact=failed",
                key=f"jobs.failed:{run.name}:{day.isoformat()}:{admin_user.pk}:{channel}",
            )
