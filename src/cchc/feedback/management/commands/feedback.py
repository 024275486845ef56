"""`cchc feedback remind [--now ISO] [--json]`: mark late PAKN and remind their handlers."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.errors import DomainError
from cchc.feedback import services


class Command(BaseCommand):
    help = "Phản ánh, kiến nghị: nhắc cán bộ xử lý các phản ánh sắp đến hạn hoặc quá hạn."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        remind = sub.add_parser(
            "remind", help="mark late PAKN and notify handlers (idempotent, once a day)"
        )
        remind.add_argument("--now", help="ISO instant (default: now), e.g. 2024-06-03T08:00")
        remind.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            now = self._now(opts.get("now"))
            report = services.send_reminders(now=now)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(asdict(report)))
            return
        self.stdout.write(
            f"Đánh dấu quá hạn: {report.marked_late} · Sắp đến hạn: {report.due_soon} · "
            f"Quá hạn: {report.overdue} · Thông báo mới đã gửi: {report.sent}"
        )

    @staticmethod
    def _now(raw: str | None) -> dt.datetime:
        if not raw:
            return timezone.now()
        try:
            value = dt.datetime.fromisoformat(raw)
        except ValueError:
            raise CommandError(
                f"--now '{raw}' không phải thời điểm ISO (YYYY-MM-DDTHH:MM).", returncode=2
            ) from None
        return value if value.tzinfo else value.replace(tzinfo=legaltime.VN_TZ)
