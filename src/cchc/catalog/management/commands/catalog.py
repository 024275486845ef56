"""`cchc catalog apply-versions` / `cchc catalog versions CODE`.

`apply-versions` gives each procedure row the version in force today (a version whose
effective date has come: a law taking effect); run daily. `versions` lists a procedure's
effective-dated history."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.accounts.policy import SYSTEM
from cchc.catalog import services, versions
from cchc.catalog.models import Procedure
from cchc.errors import DomainError


class Command(BaseCommand):
    help = "Phiên bản thủ tục hành chính theo ngày hiệu lực."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        apply = sub.add_parser("apply-versions", help="apply versions whose date has come")
        apply.add_argument("--now", help="ISO instant (default: now)")
        apply.add_argument("--json", action="store_true")
        show = sub.add_parser("versions", help="a procedure's versions, newest first")
        show.add_argument("code")
        show.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            if opts["action"] == "apply-versions":
                self._apply(opts)
            else:
                self._versions(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _apply(self, opts: dict[str, Any]) -> None:
        now = timezone.localtime()
        if opts["now"]:
            try:
                now = dt.datetime.fromisoformat(opts["now"])
            except ValueError:
                raise CommandError(
                    f"Thời điểm '{opts['now']}' không hợp lệ, cần dạng 2027-03-01T00:05+07:00.",
                    returncode=2,
                ) from None
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        changed = services.apply_versions_due(now=now, actor=SYSTEM)
        if opts["json"]:
            rows = [{"code": code, "version": number} for code, number in changed]
            self.stdout.write(json.dumps({"applied": rows}, ensure_ascii=False))
            return
        if not changed:
            self.stdout.write("Không có phiên bản thủ tục nào đến ngày hiệu lực.")
        for code, number in changed:
            self.stdout.write(f"{code}: áp dụng phiên bản {number}.")

    def _versions(self, opts: dict[str, Any]) -> None:
        procedure = Procedure.objects.filter(code=opts["code"]).first()
        if procedure is None:
            raise CommandError(f"Không có thủ tục mã {opts['code']}.", returncode=4)
        rows = [
            {
                "number": v.number,
                "effective_from": v.effective_from.isoformat(),
                "in_force": v.number == procedure.version,
                "basis": v.basis,
                "duration": v.duration_spec,
                "fees": sum(f.amount for f in v.fees.all()),
                "documents": len(v.documents.all()),
                "steps": len(v.steps.all()),
                "cutoff": v.cutoff.strftime("%H:%M") if v.cutoff else None,
                "cutoff_source": v.cutoff_source,
                "cutoff_verified": v.cutoff_verified,
            }
            for v in versions.history(procedure)
        ]
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{procedure.code} {procedure.name}")
        for row in rows:
            mark = "đang áp dụng" if row["in_force"] else ""
            cutoff = f", giờ chốt {row['cutoff']}" if row["cutoff"] else ""
            self.stdout.write(
                f"  v{row['number']} từ {row['effective_from']}: {row['duration']}{cutoff} "
                f"{row['basis']} {mark}".rstrip()
            )
