"""`cchc signatures check [--json] [--limit N]`: the sweep of digital signatures on stored
PDFs (`cchc.dossiers.signature_checks.sweep`). Exit 0 when every file it took was checked,
1 when a check crashed (the file stays pending and is counted), or the trust list cannot be
read."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.dossiers import signature_checks
from cchc.dossiers.models import SignatureVerdict
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Chữ ký số trên tệp PDF của hồ sơ: kiểm tra tệp mới tải lên, tệp chưa kiểm tra và "
        "kiểm tra lại khi danh sách chứng thư gốc tin cậy thay đổi (check)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "check",
            help="record PDFs without a check, check pending ones, re-check those checked "
            "against another trust list",
        )
        check.add_argument("--json", action="store_true", help="print one JSON line of counts")
        check.add_argument(
            "--limit",
            type=int,
            default=signature_checks.BATCH,
            help=f"files verified in this run (default {signature_checks.BATCH})",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["limit"] < 1:
            raise CommandError("--limit phải lớn hơn 0.", returncode=2)
        try:
            report = signature_checks.sweep(limit=opts["limit"])
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        else:
            verdicts = ", ".join(
                f"{SignatureVerdict(v).label}: {n}" for v, n in sorted(report.verdicts.items())
            )
            self.stdout.write(
                f"Đã ghi nhận {report.tracked} tệp PDF mới; kiểm tra {report.checked} tệp, "
                f"kiểm tra lại {report.rechecked} tệp theo danh sách tin cậy mới; "
                f"{report.unreadable} tệp không đọc được"
                + (f" ({verdicts})" if verdicts else "")
                + (f"; còn {report.remaining} tệp cho lần chạy sau." if report.remaining else ".")
            )
            for pk, message in report.errors:
                self.stdout.write(f"  tệp #{pk}: {message}")
        if report.errors:
            self.stdout.flush()
            sys.exit(1)
