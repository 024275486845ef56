"""`cchc import <what> FILE`: load a CSV/XLSX file through the importer's services.

Exit codes: 0 every row landed; 1 some rows were refused (the others landed); 2 bad
arguments or an unreadable file; 3 no permission; 4 unknown user; 5 another import of the
same file or source is running (dossiers; nothing was written, run it again later);
130 stopped with Ctrl-C (written batches stay; run the file again to finish)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError
from cchc.interop import indexes
from cchc.interop.dossiers import load_mapping
from cchc.interop.models import ImportRun
from cchc.tabular.registry import importer, importers

REPAIR = "repair-indexes"


def _run_note(run_id: int | None) -> str:
    """The run's message on success (an initial load: its indexes were built after)."""
    if run_id is None:
        return ""
    return str(ImportRun.objects.filter(pk=run_id).values_list("message", flat=True).first() or "")


class Command(BaseCommand):
    help = "Nhập dữ liệu từ tệp CSV/XLSX (thủ tục, thủ tục nội bộ, ...). Bad rows are reported."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "what",
            choices=[*sorted(importers()), REPAIR],
            help=f"what the file contains; {REPAIR}: rebuild the dossier tables' indexes an "
            "interrupted initial load left dropped (no file)",
        )
        parser.add_argument("file", nargs="?", help="path of the .csv or .xlsx file")
        parser.add_argument("--dry-run", action="store_true", help="validate only, change nothing")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--user", help="user name the changes are attributed to")
        parser.add_argument(
            "--mapping",
            help="dossiers: TOML file mapping another system's layout onto the canonical one",
        )
        parser.add_argument(
            "--source", help="dossiers: name of the system the file comes from (marks them)"
        )
        parser.add_argument(
            "--batch-rows",
            type=int,
            help="dossiers: rows written per transaction (default CCHC_IMPORT_BATCH_ROWS, 5000)",
        )
        parser.add_argument(
            "--wait",
            type=float,
            help="dossiers: seconds to wait for another import of the same file or source "
            "before giving up with exit code 5 (default CCHC_IMPORT_LOCK_WAIT, 10)",
        )

    _shown = 0

    def _progress(self, rows: int) -> None:
        """A line on stderr every 50 000 rows of a large file (batches are 5 000)."""
        if rows - self._shown >= 50_000:
            self._shown = rows
            self.stderr.write(f"… đã xử lý {rows:,} dòng".replace(",", "."))

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["what"] == REPAIR:
            created = indexes.repair()
            self.stdout.write(
                f"Đã dựng lại {len(created)} chỉ mục: {', '.join(created)}."
                if created
                else "Các chỉ mục của bảng hồ sơ đã đầy đủ."
            )
            return
        if not opts["file"]:
            raise CommandError("Thiếu đường dẫn tệp cần nhập.", returncode=2)
        actor: Any = SYSTEM
        if opts["user"]:
            actor = User.objects.filter(username=opts["user"], is_active=True).first()
            if actor is None:
                raise CommandError(f"Không có người dùng '{opts['user']}'.", returncode=4)
        extra: dict[str, Any] = {}
        if opts["what"] == "dossiers":
            try:
                if opts["mapping"]:
                    extra["mapping"] = load_mapping(opts["mapping"])
            except DomainError as exc:
                raise CommandError(exc.message, returncode=exc.exit_code) from None
            extra["source_name"] = opts["source"] or ""
            if opts["batch_rows"] is not None:
                if opts["batch_rows"] < 1:
                    raise CommandError("--batch-rows phải là số dương.", returncode=2)
                extra["batch_size"] = opts["batch_rows"]
            if opts["wait"] is not None:
                extra["wait"] = max(opts["wait"], 0.0)
            if not opts["json"]:
                extra["progress"] = self._progress
        elif any(opts[k] is not None for k in ("mapping", "source", "batch_rows", "wait")):
            raise CommandError(
                "--mapping, --source, --batch-rows và --wait chỉ dùng khi nhập hồ sơ (dossiers).",
                returncode=2,
            )
        try:
            report = importer(opts["what"]).run(
                opts["file"], actor=actor, now=timezone.now(), dry_run=opts["dry_run"], **extra
            )
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        except KeyboardInterrupt:
            # Batches already written stay, with their audit entries; the run is recorded
            # as interrupted, and importing the file again finishes it.
            raise CommandError(
                "Đã dừng giữa chừng; các lô đã ghi được giữ nguyên, nhập lại tệp để hoàn tất.",
                returncode=130,
            ) from None
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            prefix = "[thử, không ghi] " if report.dry_run else ""
            self.stdout.write(
                f"{prefix}Thêm mới: {report.created} · Cập nhật: {report.updated} · "
                f"Không đổi: {report.unchanged} · Bị từ chối: {len(report.rejected)} · "
                f"Bỏ qua (không phải dòng dữ liệu): {report.skipped.total}"
            )
            if report.skipped.total:
                self.stdout.write(f"Bỏ qua {report.skipped.summary()}.")
            note = _run_note(report.run_id)
            if note:
                self.stdout.write(note)
            for error in report.rejected:
                self.stderr.write(str(error))
        if report.rejected:
            # Partial success: good rows landed; signal that some did not.
            raise SystemExit(1)
