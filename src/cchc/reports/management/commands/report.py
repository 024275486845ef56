"""`cchc report --period 2024-Q2 --issuer 24 --out DIR`: write the periodic reform report
(Word, PDF, XLSX statistics) and print the paths written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc import legaltime
from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError
from cchc.legaltime.errors import LegalTimeError
from cchc.reports import services


def _date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CommandError(
            f"Ngày báo cáo '{raw}' không hợp lệ: cần dạng YYYY-MM-DD (ví dụ 2024-06-20).",
            returncode=2,
        ) from None


def _instant(raw: str) -> dt.datetime:

    try:
        return legaltime.parse_instant(raw)
    except LegalTimeError as exc:
        raise CommandError(f"--as-of: {exc.message}", returncode=2) from None


class Command(BaseCommand):
    help = (
        "Báo cáo định kỳ kết quả công tác CCHC (Word, PDF, bảng số liệu Excel) của một kỳ "
        "và một cơ quan hoặc đơn vị hành chính."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--period", required=True, help="2024-Q2, 2024-H1, 2024, 2024-BC-H1, 2024-BC-NAM…"
        )
        parser.add_argument(
            "--issuer",
            required=True,
            help="agency identifier code (mã định danh) or administrative unit code (mã ĐVHC)",
        )
        parser.add_argument("--out", required=True, help="directory to write the files to")
        parser.add_argument("--format", default="docx,pdf,xlsx", help="docx,pdf,xlsx")
        parser.add_argument("--number", help="report number (default blank, as in a draft)")
        parser.add_argument("--date", help="issue date YYYY-MM-DD (default today)")
        parser.add_argument("--as-of", help="instant the figures are computed at (ISO)")
        parser.add_argument(
            "--recipient",
            action="append",
            help="a 'Nơi nhận' line (repeat; replaces the default list)",
        )
        parser.add_argument("--user", help="user name the report is made for (permissions)")

    def handle(self, *args: Any, **opts: Any) -> None:

        actor: Any = SYSTEM
        if opts["user"]:
            actor = User.objects.filter(username=opts["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"Không có người dùng '{opts['user']}'.", returncode=4)
        issue_date = _date(opts["date"]) if opts["date"] else None
        as_of = _instant(opts["as_of"]) if opts["as_of"] else None
        out = Path(opts["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"'{out}' không phải là thư mục.", returncode=2)
        try:
            outputs = services.generate(
                actor,
                period=opts["period"],
                issuer=opts["issuer"],
                formats=opts["format"],
                now=as_of,
                issue_date=issue_date,
                number=opts["number"],
                recipients=opts["recipient"],
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        try:
            out.mkdir(parents=True, exist_ok=True)
            for o in outputs:
                path = out / o.filename
                path.write_bytes(o.content)
                self.stdout.write(str(path))
        except OSError as exc:
            raise CommandError(
                f"Không ghi được tệp vào '{out}': {exc.strerror or exc}.", returncode=2
            ) from None
