"""`cchc digitisation verify [--year Y] [--json]`: the stored digitisation flags against the
scans and reuses recorded (`cchc.dossiers.digitisation_verify`); exit 1 on any mismatch.

Only parses options and calls the service."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.dossiers import digitisation_verify
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Số hóa hồ sơ: kiểm tra cờ «đã số hóa» / «tái sử dụng dữ liệu» đang lưu so với dữ liệu "
        "số hóa đã ghi nhận (verify)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "verify",
            help="recompute each dossier's digitised/reused flags from its scans and reuses "
            "(imported dossiers: from their import event); exit 1 when a stored flag differs",
        )
        check.add_argument("--year", type=int, help="only dossiers submitted in this year")
        check.add_argument("--json", action="store_true", help="print a JSON report")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _verify(self, opts: dict[str, Any]) -> None:
        year = opts.get("year")
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError(f"Năm {year} không hợp lệ (2000–2100).", returncode=2)
        report = digitisation_verify.verify(year)
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for mismatch in report.mismatches:
                self.stdout.write(str(mismatch))
            if report.count > len(report.mismatches):
                self.stdout.write(f"… và {report.count - len(report.mismatches)} sai lệch khác.")
            scope = f"năm {year}" if year is not None else "toàn bộ"
            self.stdout.write(
                f"Đã kiểm tra {report.dossiers} hồ sơ ({scope}; {report.components} thành phần, "
                f"{report.scans} bản số hóa, {report.reuses} lượt tái sử dụng) và "
                f"{report.imported} hồ sơ nhập từ hệ thống khác: {report.count} sai lệch."
            )
        if not report.clean:
            self.stdout.flush()
            sys.exit(1)
