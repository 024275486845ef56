"""`cchc dossiers verify [--fix] [--json]` / `cchc dossiers scan [--now ISO] [--json]` /
`cchc dossiers recompute [--json]` / `cchc dossiers digest [--now ISO] [--dry-run] [--json]`.

Only parses options and calls services (`cchc.dossiers.verify`, `cchc.dossiers.risk`,
`cchc.dossiers.recompute`, `cchc.dossiers.digest`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.dossiers import digest, recompute, risk
from cchc.dossiers import verify as verifying
from cchc.dossiers.models import RecomputeJob
from cchc.errors import DomainError


class Command(BaseCommand):
    help = (
        "Hồ sơ TTHC: kiểm tra dữ liệu tính từ nhật ký sự kiện (verify), quét hồ sơ có nguy cơ "
        "trễ hạn (scan), tính lại hạn theo phiên bản lịch mới (recompute), bản tin hằng ngày "
        "cho lãnh đạo (digest)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "verify",
            help="recompute every dossier from its events, and check that open dossiers run on "
            "their calendar's version in force; exit 1 when stored data differs",
        )
        check.add_argument(
            "--fix",
            action="store_true",
            help="rewrite differing dossiers from their events; move open dossiers to the "
            "calendar version in force",
        )
        check.add_argument("--json", action="store_true", help="print a JSON report")
        check.add_argument("--batch", type=int, default=verifying.BATCH, help=argparse.SUPPRESS)
        scan = sub.add_parser("scan", help="flag dossiers at risk of missing their due instant")
        scan.add_argument("--now", help="scan instant, e.g. 2024-06-05T08:00 (default: now)")
        scan.add_argument("--json", action="store_true", help="print a JSON report")
        again = sub.add_parser(
            "recompute",
            help="resume every unfinished calendar-version recompute (the worker runs it every "
            "minute); exit 0 when there is nothing to do",
        )
        again.add_argument(
            "--json", action="store_true", help="print one JSON line of counts at the end"
        )
        again.add_argument(
            "--batch",
            type=int,
            default=None,
            help=f"dossiers per transaction (default: CCHC_RECOMPUTE_BATCH, {recompute.BATCH})",
        )

        brief = sub.add_parser(
            "digest",
            help="the leaders' daily digest (in-app and e-mail): dossiers due within one "
            "working day and overdue without an apology, per agency; once per reader and day",
        )
        brief.add_argument("--now", help="digest instant, e.g. 2024-06-05T07:10 (default: now)")
        brief.add_argument(
            "--dry-run", action="store_true", help="compute and print, record nothing"
        )
        brief.add_argument("--json", action="store_true", help="print a JSON report")
        brief.add_argument(
            "--limit",
            type=int,
            default=digest.LIMIT,
            help=f"codes listed per agency and list (default {digest.LIMIT})",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except legaltime.LegalTimeError as exc:
            raise CommandError(exc.message, returncode=2) from None
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _verify(self, opts: dict[str, Any]) -> None:
        now = timezone.now()
        report = verifying.verify(
            fix=opts["fix"], actor=SYSTEM, now=now, batch=max(opts["batch"], 1)
        )
        verifying.check_calendar_versions(report, fix=opts["fix"], actor=SYSTEM, now=now)
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for mismatch in report.mismatches:
                self.stdout.write(str(mismatch))
            for code, message in report.errors:
                self.stdout.write(f"{code}: không tính lại được — {message}")
            self.stdout.write(
                f"Đã kiểm tra {report.checked} hồ sơ: "
                f"{len(report.dossiers_with_mismatches)} hồ sơ sai lệch "
                f"({len(report.mismatches)} trường), {len(report.errors)} lỗi."
            )
            if report.fixed:
                self.stdout.write(
                    f"Đã tính lại và ghi đè {len(report.fixed)} hồ sơ: {', '.join(report.fixed)}."
                )
            if report.replanned:
                self.stdout.write(
                    f"Đã tính lại hạn theo phiên bản lịch đang có hiệu lực cho "
                    f"{len(report.replanned)} hồ sơ: {', '.join(report.replanned)}."
                )
        if not report.clean:
            self.stdout.flush()
            sys.exit(1)

    def _recompute(self, opts: dict[str, Any]) -> None:
        def progress(job: RecomputeJob) -> None:
            if opts["json"]:
                return
            left = max(job.total - job.changed - job.failed, 0)
            self.stdout.write(
                f"#{job.pk} {job.label}: đã tính lại {job.changed}/{job.total} hồ sơ, "
                f"lỗi {job.failed}, còn {left} (lô {job.batches}, đến hồ sơ id {job.cursor})"
                + (" — xong." if job.finished else "")
            )
            self.stdout.flush()

        report = recompute.resume_all(batch=opts["batch"], progress=progress)
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
        elif not report.jobs:
            self.stdout.write("Không có việc tính lại hạn nào đang chờ.")
        else:
            self.stdout.write(
                f"Đã tính lại {report.changed} hồ sơ trong {report.batches} lô "
                f"({len(report.jobs)} công việc), {report.failed} hồ sơ không tính lại được."
            )
            for job in report.jobs:
                for _, code, message in job.failures:
                    self.stdout.write(f"  {code}: {message}")
        if report.failed:
            self.stdout.flush()
            sys.exit(1)

    def _scan(self, opts: dict[str, Any]) -> None:
        now = legaltime.parse_instant(opts["now"]) if opts["now"] else timezone.now()
        report = risk.scan(now=now, actor=SYSTEM)
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            f"Quét lúc {report.now:%H:%M %d/%m/%Y}: đã xét {report.checked} hồ sơ đang tính "
            f"thời hạn (bỏ qua {report.skipped_paused} hồ sơ đang tạm dừng)."
        )
        self.stdout.write(
            f"Nguy cơ trễ hạn: {len(report.at_risk)} (mới {report.newly_flagged}) · "
            f"Hết nguy cơ: {report.cleared} · Thông báo mới: {report.notified} · "
            f"Quá hạn chưa xin lỗi: {len(report.overdue_without_apology)} · "
            f"Bổ sung nhiều lần: {len(report.repeated_supplement)}"
        )
        for a in report.at_risk:
            self.stdout.write(f"  {a.code}: {a.note}")
        if report.overdue_without_apology:
            self.stdout.write("Quá hạn chưa có văn bản xin lỗi:")
            for f in report.overdue_without_apology:
                self.stdout.write(f"  {f.code}: {f.detail}")
        if report.repeated_supplement:
            self.stdout.write("Yêu cầu bổ sung hơn một lần (tính vào điểm đánh giá):")
            for f in report.repeated_supplement:
                self.stdout.write(f"  {f.code}: {f.detail}")
        for code, message in report.errors:
            self.stdout.write(f"  {code}: không đánh giá được — {message}")

    def _digest(self, opts: dict[str, Any]) -> None:
        now = legaltime.parse_instant(opts["now"]) if opts["now"] else timezone.now()
        if not 1 <= opts["limit"] <= 100:
            raise CommandError("--limit phải từ 1 đến 100.", returncode=2)
        report = digest.send(now=now, dry_run=opts["dry_run"], limit=opts["limit"])
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
            return
        for d in report.digests:
            self.stdout.write(
                f"  {d.username}: {d.due_soon} sắp đến hạn, {d.overdue} quá hạn chưa xin lỗi "
                f"({len(d.agencies)} cơ quan)"
                + ("" if report.dry_run else f" — {d.sent} thông báo mới")
            )
        head = (
            f"Bản tin lúc {report.now:%H:%M %d/%m/%Y}: {report.readers} lãnh đạo, giám sát; "
            f"{len(report.digests)} người có nội dung."
        )
        if report.dry_run:
            self.stdout.write(f"{head} Chạy thử: không ghi thông báo nào.")
            return
        self.stdout.write(
            f"{head} Đã ghi {report.sent} thông báo (trên hệ thống và thư điện tử)"
            + (f"; {report.already} người đã nhận bản tin hôm nay." if report.already else ".")
        )
