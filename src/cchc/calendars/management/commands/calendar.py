"""`cchc calendar show YEAR` / `cchc calendar load [FILE ...]`.

`load` adds a version when the files change the calendar, then says what the version in
force leaves pending (open dossiers to recompute, queued on the worker)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.calendars import services
from cchc.errors import DomainError
from cchc.legaltime import provenance


class Command(BaseCommand):
    help = "Xem hoặc nạp lịch làm việc (ngày nghỉ lễ, Tết, ngày làm việc hoán đổi)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="days off on weekdays and working weekend days")
        show.add_argument("year", type=int)
        show.add_argument("--calendar", default=services.DEFAULT_CALENDAR)
        show.add_argument("--json", action="store_true")
        load = sub.add_parser("load", help="load schedule files (default: the shipped ones)")
        load.add_argument("files", nargs="*", help="TOML schedule files")
        load.add_argument("--effective-from", help="YYYY-MM-DD (default today)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["action"] == "show":
                self._show(opts)
            else:
                self._load(opts)
        except legaltime.LegalTimeError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _show(self, opts: dict[str, Any]) -> None:
        calendar = services.calendar_for(opts["calendar"])
        year = opts["year"]
        rows = services.year_listing(calendar, year)
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"Lịch {calendar.code} ({calendar.version}), năm {year}:")
        if not calendar.covers(year):
            self.stdout.write(f"TẠM TÍNH — {provenance.provisional_year_text(year)}")
        for row in rows:
            # The reason already says when an entry is not verified against a legal text.
            # …and, in a provisional year, that it is "tạm tính".
            self.stdout.write(
                f"{row['date']} {row['weekday']:<9} {row['reason']} — {row['source']}"
            )

    def _load(self, opts: dict[str, Any]) -> None:
        files = opts["files"]
        schedules = (
            [legaltime.load_schedule(f) for f in files]
            if files
            else legaltime.shipped_schedules(services.DEFAULT_CALENDAR)
        )
        effective = (
            dt.date.fromisoformat(opts["effective_from"]) if opts["effective_from"] else None
        )
        now = timezone.now()
        version = services.load_schedules(SYSTEM, schedules, now=now, effective_from=effective)
        if version is None:
            self.stdout.write("Lịch đã có đủ các ngày này: không tạo phiên bản mới.")
        else:
            self.stdout.write(f"Đã tạo {version} ({version.days.count()} ngày điều chỉnh).")
        # Work the version in force calls for (open dossiers to recompute), including work a
        # killed process left half done: said, and queued again, rather than silence.
        calendar = services.get_calendar(schedules[0].calendar)
        for line in services.check_dependents(calendar, actor=SYSTEM, now=now):
            self.stdout.write(line)
