"""`cchc due`: the due instant of a duration from a receipt instant, with its explanation."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc import legaltime
from cchc.calendars.services import DEFAULT_CALENDAR, calendar_for
from cchc.errors import DomainError


class Command(BaseCommand):
    help = "Tính hạn giải quyết (ngày hẹn trả) theo thời gian làm việc, kèm giải thích."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--received", required=True, help="receipt instant, e.g. 2024-02-07T10:00 (local time)"
        )
        parser.add_argument(
            "--duration", required=True, help="e.g. 2wd, 0.5wd (working days), 4wh, 15d, 1mo"
        )
        parser.add_argument("--calendar", default=DEFAULT_CALENDAR, help="calendar code")
        parser.add_argument(
            "--saturday-reception",
            action="store_true",
            help="the desk receives on Saturday mornings",
        )
        parser.add_argument(
            "--pause",
            action="append",
            default=[],
            metavar="START/END",
            help="a pause (clock stopped), repeatable",
        )
        parser.add_argument("--json", action="store_true", help="print a JSON object")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            calendar = calendar_for(opts["calendar"], saturday_reception=opts["saturday_reception"])
            report = legaltime.due_report(
                calendar, opts["received"], opts["duration"], opts["pause"]
            )
        except legaltime.LegalTimeError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"Bắt đầu tính: {report['start']}")
        self.stdout.write(f"Hạn giải quyết: {report['due']}")
        if report["paused"]:
            self.stdout.write(
                f"Hạn ban đầu: {report['original_due']} (tạm dừng {report['paused_label']})"
            )
        self.stdout.write(f"Lịch: {report['calendar_version']}")
        for line in report["explanation"]:
            self.stdout.write(f"  - {line}")
