"""`cchc dossiers verify [--fix] [--json]` / `cchc dossiers scan [--now ISO] [--json]`.

Only parses options and calls services (`cchc.dossiers.verify`, `cchc.dossiers.risk`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.dossiers import risk
from cchc.dossiers import verify as verifying
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Hồ sơ TTHC: kiểm tra dữ liệu tính từ nhật ký sự kiện (verify), quét hồ sơ có nguy cơ "
        "trễ hạn (scan)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "verify",
            help="recompute every dossier from its events; exit 1 when stored data differs",
        )
        check.add_argument(
            "--fix", action="store_true", help="rewrite differing dossiers from their events"
        )
        check.add_argument("--json", action="store_true", help="print a JSON report")
        check.add_argument("--batch", type=int, default=verifying.BATCH, help=argparse.SUPPRESS)
        scan = sub.add_parser("scan", help="flag dossiers at risk of missing their due instant")
        scan.add_argument("--now", help="scan instant, e.g. 2024-06-05T08:00 (default: now)")
        scan.add_argument("--json", action="store_true", help="print a JSON report")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except legaltime.LegalTimeError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _verify(self, opts: dict[str, Any]) -> None:
        report = verifying.verify(
            fix=opts["fix"], actor=SYSTEM, now=timezone.now(), batch=max(opts["batch"], 1)
        )
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for mismatch in report.mismatches:
                self.stdout.write(str(mismatch))
            for code, message in report.errors:
                self.stdout.write(f"{code}: không tính lại được — {message}")
            self.stdout.write(
                f"Đã kiểm tra {report.checked} hồ sơ: "
                f"{len(report.dossiers_with_mismatches)} hồ sơ sai lệch "
                f"({len(report.mismatches)} trường), {len(report.errors)} lỗi."
            )
            if report.fixed:
                self.stdout.write(
                    f"Đã tính lại và ghi đè {len(report.fixed)} hồ sơ: {', '.join(report.fixed)}."
                )
        if not report.clean:
            self.stdout.flush()
            sys.exit(1)

    def _scan(self, opts: dict[str, Any]) -> None:
        now = legaltime.parse_instant(opts["now"]) if opts["now"] else timezone.now()
        report = risk.scan(now=now, actor=SYSTEM)
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"Quét lúc {report.now:%H:%M %d/%m/%Y}: đã xét {report.checked} hồ sơ đang tính "
            f"thời hạn (bỏ qua {report.skipped_paused} hồ sơ đang tạm dừng)."
        )
        self.stdout.write(
            f"Nguy cơ trễ hạn: {len(report.at_risk)} (mới {report.newly_flagged}) · "
            f"Hết nguy cơ: {report.cleared} · Thông báo mới: {report.notified} · "
            f"Quá hạn chưa xin lỗi: {len(report.overdue_without_apology)} · "
            f"Bổ sung nhiều lần: {len(report.repeated_supplement)}"
        )
        for a in report.at_risk:
            self.stdout.write(f"  {a.code}: {a.note}")
        if report.overdue_without_apology:
            self.stdout.write("Quá hạn chưa có văn bản xin lỗi:")
            for f in report.overdue_without_apology:
                self.stdout.write(f"  {f.code}: {f.detail}")
        if report.repeated_supplement:
            self.stdout.write("Yêu cầu bổ sung hơn một lần (tính vào điểm đánh giá):")
            for f in report.repeated_supplement:
                self.stdout.write(f"  {f.code}: {f.detail}")
        for code, message in report.errors:
            self.stdout.write(f"  {code}: không đánh giá được — {message}")
