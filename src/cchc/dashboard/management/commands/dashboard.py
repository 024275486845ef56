"""`cchc dashboard judge [--batch N] [--json]`: bring the stored step passages
(`cchc.dashboard.passages`) up to date for every received dossier with an internal process,
in batches each committed on its own, so that the agency leader's page reads them instead of
replaying dossiers. The scheduler runs it every 15 minutes; a page still judges, itself, the
few dossiers whose events arrived since."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.dashboard import passages


class Command(BaseCommand):
    help = (
        "Bảng điều hành: cập nhật các lượt chuyển bước đã đánh giá đúng hạn/chậm (judge) cho "
        "mọi hồ sơ có sự kiện mới."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        judge = sub.add_parser(
            "judge", help="judge the step passages of dossiers whose events changed"
        )
        judge.add_argument(
            "--batch",
            type=int,
            default=passages.BATCH,
            help=f"dossiers per transaction (default {passages.BATCH})",
        )
        judge.add_argument("--json", action="store_true", help="print one JSON line of counts")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["batch"] < 1:
            raise CommandError("--batch phải là số nguyên dương.")
        started = time.monotonic()
        judged = passages.judge_all(batch=opts["batch"])
        seconds = round(time.monotonic() - started, 1)
        if opts["json"]:
            self.stdout.write(json.dumps({"judged": judged, "seconds": seconds}))
        else:
            self.stdout.write(f"Đã đánh giá lại {judged} hồ sơ ({seconds} giây).")
