"""`cchc payments reconcile [--now ISO] [--older-than MINUTES] [--json]`.

Only parses options and calls `cchc.payments.callbacks.reconcile`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc import legaltime
from cchc.errors import DomainError
from cchc.payments import callbacks


class Command(BaseCommand):
    help = "Thanh toán phí, lệ phí: đối soát các giao dịch trực tuyến đang chờ (reconcile)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rec = sub.add_parser(
            "reconcile",
            help="query the gateway for pending orders: record missed payments, expire "
            "abandoned orders",
        )
        rec.add_argument("--now", help="reconciliation instant, e.g. 2024-06-05T08:00")
        rec.add_argument(
            "--older-than", type=int, default=None, help="minutes (default from settings)"
        )
        rec.add_argument("--json", action="store_true", help="print a JSON report")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            now = legaltime.parse_instant(opts["now"]) if opts.get("now") else None
            report = callbacks.reconcile(now=now, older_than_minutes=opts.get("older_than"))
        except legaltime.LegalTimeError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for ref, message in report.errors:
                self.stdout.write(f"{ref}: lỗi — {message}")
            self.stdout.write(
                f"Đã đối soát {report.checked} giao dịch: {len(report.paid)} ghi nhận thanh toán, "
                f"{len(report.failed)} thất bại, {len(report.expired)} hết hạn, "
                f"{len(report.pending)} còn chờ, {len(report.errors)} lỗi."
            )
        if report.errors:
            self.stdout.flush()
            sys.exit(1)
