"""`cchc audit verify [--anchor ID:HASH ...] [--json]`: check the audit log's hash chain
(`cchc.audit.chain.verify`). Exit 0 when intact, 1 at the first altered or missing entry,
2 on a malformed option or a database that cannot be read."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from cchc.audit import chain

ANCHOR = re.compile(r"^#?(\d+):([0-9a-f]{64})$")


class Command(BaseCommand):
    help = "Nhật ký hệ thống: kiểm tra chuỗi mã băm (phát hiện bản ghi bị sửa hoặc bị xóa)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "verify",
            help="walk the hash chain; exit 1 at the first altered or missing entry",
        )
        check.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="ID:HASH",
            help="an entry's id and hash recorded earlier (from this command's output); "
            "detects entries removed from the end or a rewritten chain",
        )
        check.add_argument("--json", action="store_true", help="print a JSON report")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, f"_{opts['action']}")(opts)

    def _verify(self, opts: dict[str, Any]) -> None:
        anchors: dict[int, str] = {}
        for raw in opts["anchor"]:
            match = ANCHOR.match(raw.strip().lower())
            if match is None:
                raise CommandError(
                    f"--anchor '{raw}' không hợp lệ: cần dạng SỐ_BẢN_GHI:MÃ_BĂM "
                    "(mã băm SHA-256, 64 ký tự hex), vd. 1024:3f5a…",
                    returncode=2,
                )
            anchors[int(match[1])] = match[2]
        try:
            report = chain.verify(anchors=anchors)
        except DatabaseError as exc:
            raise CommandError(
                f"Không đọc được nhật ký hệ thống (đã chạy «cchc migrate» chưa?): {exc}",
                returncode=2,
            ) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        elif report.problem is not None:
            self.stdout.write(report.problem.message)
            self.stdout.write(f"Đã kiểm tra {report.checked} bản ghi đến chỗ sai lệch.")
        else:
            head = (
                f"bản ghi cuối #{report.head_id}, mã băm {report.head_hash}"
                if report.head_id is not None
                else "nhật ký trống"
            )
            self.stdout.write(
                f"Chuỗi nhật ký toàn vẹn: {report.checked} bản ghi, {head}. Lưu mốc "
                f"«{report.head_id}:{report.head_hash}» ở nơi khác (--anchor) để phát hiện "
                "việc xóa các bản ghi cuối."
            )
        if not report.clean:
            self.stdout.flush()
            sys.exit(1)
