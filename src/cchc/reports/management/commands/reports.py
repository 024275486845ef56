"""`cchc reports prune [--days N] [--json]`: delete the files of web report requests
finished more than N days ago (default 30; `CCHC_REPORT_FILES_DAYS`).

A report made on the web is kept under ``<MEDIA_ROOT>/reports/`` for its requester to
download; without pruning those files would pile up forever (and into every backup). The
request rows stay as the record of who asked for what; each removal is audited. Run daily
by the worker (schedule entry `reports-prune`). With `--json` the last stdout line is the
counts {pruned, bytes} that the job run records. `cchc report` (one report on disk, at
once) is a different command and keeps nothing.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.errors import DomainError
from cchc.reports import jobs

DAYS = 30  # default of CCHC_REPORT_FILES_DAYS


class Command(BaseCommand):
    help = "Báo cáo lập trên web: xoá tệp của các yêu cầu đã xong quá N ngày (prune)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        prune = sub.add_parser("prune", help="delete the files of requests older than --days")
        prune.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"keep files this many days (default CCHC_REPORT_FILES_DAYS or {DAYS})",
        )
        prune.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args: Any, **opts: Any) -> None:
        days = opts["days"]
        if days is None:
            days = int(getattr(settings, "CCHC_REPORT_FILES_DAYS", DAYS))
        if days < 1:
            raise CommandError("--days phải là số ngày dương (ví dụ 30).", returncode=2)
        try:
            counts = jobs.prune(days=days)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        if opts["json"]:
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            return
        self.stdout.write(
            f"Đã xoá {counts['pruned']} tệp báo cáo cũ hơn {days} ngày ({counts['bytes']} byte)."
        )
