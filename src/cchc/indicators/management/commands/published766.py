"""`cchc published766 fetch --period 2026-Q3 [--unit CODE] [--user NAME] [--json]`: the 766
figures the national portal publishes, fetched (`LayChiSo766`) and recorded for the
reconciliation (`cchc.indicators.published_fetch`). Exit code 6 when the portal cannot be
reached or refuses, 3 when its answer cannot be recorded."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError
from cchc.indicators import published_fetch


class Command(BaseCommand):
    help = "Điểm Bộ chỉ số 766 do Cổng DVCQG công bố: lấy về và ghi để đối chiếu."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        fetch = sub.add_parser("fetch", help="fetch a period's published figures and record them")
        fetch.add_argument("--period", required=True, help="2026-Q3, 2026-11, 2026…")
        fetch.add_argument("--unit", help="official unit code (default: the province)")
        fetch.add_argument("--user", help="user name the figures are attributed to")
        fetch.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor: Any = SYSTEM
        if opts.get("user"):
            actor = User.objects.filter(username=opts["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"Không có người dùng '{opts['user']}'.", returncode=4)
        try:
            report = published_fetch.fetch(
                opts["period"], actor=actor, now=timezone.now(), unit=opts.get("unit")
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            self.stdout.write(
                f"Kỳ {report.period}, địa bàn {report.unit}: {report.created} điểm mới, "
                f"{report.updated} cập nhật, {report.unchanged} không đổi."
            )
            for code, value in report.figures.items():
                self.stdout.write(f"  {code}: {value}")
            for error in report.rejected:
                self.stderr.write(f"Dòng {error['line']}: {error['reason']}")
        if report.rejected:
            raise CommandError("Số liệu Cổng DVCQG không ghi được.", returncode=3)
