"""`cchc restore DIR`: restore a backup made by `cchc backup` into an EMPTY database (no
table at all: a new database, before `cchc migrate`) and file store. Every file is checked
against the manifest's SHA-256 first; the row counts are compared afterwards. Exit codes:
docs/backups.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.backups import services
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Khôi phục một bản sao lưu vào cơ sở dữ liệu trống (kiểm tra mã SHA-256 từng tệp "
        "trước, so số dòng từng bảng sau)."
    )
    # Nothing may touch the target database before it is found empty.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="the backup directory")
        parser.add_argument("--json", action="store_true", help="end with a JSON line of counts")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            result = services.restore(opts["source"])
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        self.stdout.write(
            f"Đã khôi phục {result.source}: {result.files} tệp đúng mã SHA-256, {result.tables} "
            f"bảng, {result.rows} dòng khớp tệp kê khai, trong {result.seconds:.1f} giây."
        )
        self.stdout.write(f"Mã SHA-256 của tệp kê khai: {result.manifest_sha256}")
        self.stdout.write("Việc cần làm tiếp:")
        if result.pending_migrations:
            self.stdout.write(
                f"  cchc migrate            # bản sao lưu cũ hơn mã: "
                f"{len(result.pending_migrations)} migration chưa áp dụng"
            )
        self.stdout.write("  cchc dossiers verify")
        self.stdout.write("  cchc indicators verify")
        head = result.audit_head
        anchor = f" --anchor {head['id']}:{head['hash']}" if head else ""
        self.stdout.write(f"  cchc audit verify{anchor}")
        if opts["json"]:
            self.stdout.write(json.dumps(result.counts(), ensure_ascii=False))
