"""`cchc backup`: a complete, consistent backup (database, stored files, manifest).

- `cchc backup --out DIR`: one backup into DIR (must not exist).
- `cchc backup [--root DIR] [--keep N]`: the scheduled form — a timestamped backup under the
  root (CCHC_BACKUP_DIR, default <CCHC_VAR_DIR>/backups), keeping the newest N (CCHC_BACKUP_KEEP,
  default 7) and removing leftovers of interrupted runs.
- `cchc backup --list [--root DIR]`: the complete backups under the root, newest first.
With --json the last line of the output is one JSON object of counts (the job runner keeps
them). Exit codes: docs/backups.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cchc.backups import services
from cchc.errors import DomainError


def _size(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MB".replace(",", " ").replace(".", ",")


class Command(BaseCommand):
    help = (
        "Sao lưu cơ sở dữ liệu và các tệp đã lưu (kèm tệp kê khai có mã SHA-256 từng tệp); "
        "không có --out: tạo bản sao lưu mới trong thư mục gốc và chỉ giữ N bản mới nhất."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--out", type=Path, help="write one backup into this new directory")
        where.add_argument(
            "--root",
            type=Path,
            help="directory of timestamped backups (default CCHC_BACKUP_DIR or var/backups)",
        )
        parser.add_argument(
            "--keep", type=int, help="complete backups kept under the root (CCHC_BACKUP_KEEP, 7)"
        )
        parser.add_argument("--list", action="store_true", help="list the backups under the root")
        parser.add_argument("--json", action="store_true", help="end with a JSON line of counts")

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["out"] is not None and (opts["keep"] is not None or opts["list"]):
            raise CommandError(
                "--keep và --list dùng với --root, không dùng với --out.", returncode=2
            )
        try:
            if opts["list"]:
                self._list(opts)
                return
            if opts["out"] is not None:
                result = services.backup(opts["out"])
            else:
                result = services.backup_to_root(opts["root"], opts["keep"])
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        self.stdout.write(
            f"Đã sao lưu vào {result.path}: {result.files} tệp ({_size(result.bytes)}), "
            f"{result.tables} bảng, {result.rows} dòng, trong {result.seconds:.1f} giây."
        )
        self.stdout.write(f"Mã SHA-256 của tệp kê khai: {result.manifest_sha256}")
        if opts["out"] is None:
            self.stdout.write(
                f"Đang giữ {result.kept} bản; đã xóa {result.pruned} bản cũ và "
                f"{result.stale_removed} bản dở dang."
            )
        if not result.audited:
            self.stderr.write("Cảnh báo: không ghi được nhật ký hệ thống (cơ sở dữ liệu chỉ đọc?).")
        if opts["json"]:
            self.stdout.write(json.dumps(result.counts(), ensure_ascii=False))

    def _list(self, opts: dict[str, Any]) -> None:
        backups = services.list_backups(opts["root"])
        if opts["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "backups": [
                            {
                                "path": str(b.path),
                                "created_at": b.created_at,
                                "files": b.files,
                                "bytes": b.bytes,
                                "rows": b.rows,
                            }
                            for b in backups
                        ]
                    },
                    ensure_ascii=False,
                )
            )
            return
        if not backups:
            self.stdout.write("Chưa có bản sao lưu hoàn chỉnh nào.")
        for b in backups:
            self.stdout.write(f"{b.path}  {b.created_at}  {b.files} tệp  {_size(b.bytes)}")
