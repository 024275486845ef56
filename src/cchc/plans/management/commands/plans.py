"""`cchc plans load [FILE]` / `cchc plans remind [--today YYYY-MM-DD]` /
`cchc plans status [CODE] [--today YYYY-MM-DD]`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError
from cchc.plans import reminders, services
from cchc.plans.status import TaskStatus


def _now(opts: dict[str, Any]) -> dt.datetime:
    if not opts.get("today"):
        return timezone.now()
    try:
        day = dt.date.fromisoformat(opts["today"])
    except ValueError:
        raise CommandError(
            f"--today '{opts['today']}' không phải ngày YYYY-MM-DD.", returncode=2
        ) from None
    return dt.datetime.combine(day, dt.time(8, 0), tzinfo=services.VN)


class Command(BaseCommand):
    help = "Kế hoạch CCHC: nạp tệp kế hoạch, gửi nhắc hạn nhiệm vụ, xem tình trạng nhiệm vụ."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load or update a plan file (TOML), all or nothing")
        load.add_argument("file", nargs="?", help="plan file (default: the shipped Plan 213/2024)")
        remind = sub.add_parser("remind", help="send due-soon and overdue reminders (idempotent)")
        remind.add_argument("--today", help="YYYY-MM-DD (default: today)")
        remind.add_argument("--days", type=int, default=reminders.DAYS_BEFORE)
        status = sub.add_parser("status", help="task status counts of a plan on a day")
        status.add_argument("code", nargs="?", help="plan code (default: the latest plan)")
        status.add_argument("--today", help="YYYY-MM-DD (default: today)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _load(self, opts: dict[str, Any]) -> None:
        path = opts["file"] or services.SHIPPED_PLAN
        result = services.load_plan(SYSTEM, path, now=timezone.now())
        words = {"created": "đã tạo", "updated": "đã cập nhật", "unchanged": "không thay đổi"}
        self.stdout.write(f"{result.plan}: {words[result.outcome]}.")
        for name, label in (("areas", "Nội dung"), ("targets", "Chỉ tiêu"), ("tasks", "Nhiệm vụ")):
            c = result.counts[name]
            self.stdout.write(
                f"  {label}: thêm {c['created']}, sửa {c['updated']}, "
                f"không đổi {c['unchanged']}, bỏ {c['deleted']}"
            )

    def _remind(self, opts: dict[str, Any]) -> None:
        report = reminders.send_reminders(now=_now(opts), days_before=opts["days"])
        self.stdout.write(
            f"Sắp đến hạn: {report.due_soon} · Quá hạn: {report.overdue} · "
            f"Thông báo mới đã gửi: {report.sent}"
        )

    def _status(self, opts: dict[str, Any]) -> None:
        now = _now(opts)
        plan = services.get_plan(opts["code"])
        counts = services.status_counts(services.task_states(services.plan_tasks(plan), now=now))
        self.stdout.write(f"{plan} — ngày {services.local_day(now):%d/%m/%Y}:")
        for status in TaskStatus:
            self.stdout.write(f"  {status.label}: {counts[status.value]}")
