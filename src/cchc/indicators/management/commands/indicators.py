"""`cchc indicators load|rebuild|verify|show|ranking|reconcile|resolved` — parses options and
calls the indicator services."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.errors import DomainError, NotFound
from cchc.indicators import (
    aggregates,
    definitions,
    periods,
    progress,
    published,
    resolved,
    services,
)
from cchc.indicators.services import Filters
from cchc.org.models import AdministrativeUnit, Agency


def add_filters(parser: CommandParser) -> None:
    parser.add_argument(
        "--period", required=True, help="2024, 2024-06, 2024-Q2, 2024-H1, 2024-BC-H1…"
    )
    parser.add_argument("--level", help="province, district, commune")
    parser.add_argument("--agency", help="agency id or identifier code (mã định danh)")
    parser.add_argument("--unit", help="administrative unit id or official code (mã ĐVHC)")
    parser.add_argument("--procedure", type=int, help="procedure id")
    parser.add_argument("--channel", type=int, choices=(1, 2, 3))
    parser.add_argument("--units", choices=("current", "historic"), default="current")
    parser.add_argument("--now", help="report instant (ISO), default now")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _ref(model: Any, raw: str | None, what: str) -> int | None:
    """An id, or the latest record with that official code."""
    if raw is None:
        return None
    found = model.objects.filter(code=raw).order_by("-valid_from").first()
    if found is not None:
        return int(found.pk)
    if raw.isdigit() and model.objects.filter(pk=int(raw)).exists():
        return int(raw)
    raise NotFound(f"Không tìm thấy {what} '{raw}' (mã hoặc số hiệu).")


def filters_from(opts: dict[str, Any]) -> Filters:
    return Filters(
        level=opts.get("level"),
        unit_id=_ref(AdministrativeUnit, opts.get("unit"), "địa bàn"),
        agency_id=_ref(Agency, opts.get("agency"), "cơ quan"),
        procedure_id=opts.get("procedure"),
        channel=opts.get("channel"),
        units=opts.get("units") or "current",
    )


def pct(value: Any) -> str:
    return services.fmt(value) + ("%" if value is not None else "")


def now_from(opts: dict[str, Any]) -> Any:
    return legaltime.parse_instant(opts["now"]) if opts.get("now") else timezone.now()


class Command(BaseCommand):
    help = "Chỉ tiêu CCHC: nạp định nghĩa, tính lại và kiểm tra số liệu tổng hợp, xem kết quả."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="load a definition file (default: the shipped ones)")
        load.add_argument("file", nargs="?")
        sub.add_parser("rebuild", help="recompute every aggregate cell from the dossiers")
        snap = sub.add_parser(
            "snapshot",
            help="count the dossiers in progress at the report instants that have passed "
            "(run daily after midnight)",
        )
        snap.add_argument("--now", help="ISO instant (default: now)")
        check = sub.add_parser(
            "verify", help="maintained cells == full recomputation? exit 1 if not"
        )
        check.add_argument("--json", action="store_true")
        show = sub.add_parser("show", help="plan target results for a period")
        show.add_argument("--plan", default=services.DEFAULT_PLAN)
        add_filters(show)
        rank = sub.add_parser("ranking", help="agencies ranked by the 766 total")
        rank.add_argument("--by", default="index766")
        add_filters(rank)
        rec = sub.add_parser("reconcile", help="our 766 figures next to the published ones")
        rec.add_argument("--period", required=True)
        rec.add_argument("--unit", required=True, help="unit id or official code")
        rec.add_argument("--json", action="store_true")
        res = sub.add_parser(
            "resolved", help="which finished dossiers count as resolved, with their sources"
        )
        res.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def _load(self, opts: dict[str, Any]) -> None:
        now = timezone.now()
        if opts["file"]:
            loaded = [definitions.load(SYSTEM, opts["file"], now=now)]
        else:
            loaded = [definitions.load(SYSTEM, None, now=now, kind=k) for k in definitions.SHIPPED]
        for d, outcome in loaded:
            word = "đã nạp" if outcome == "created" else "không đổi"
            self.stdout.write(
                f"{d.code} phiên bản {d.version} (áp dụng từ {d.effective_from:%d/%m/%Y}): {word}."
            )

    def _rebuild(self, opts: dict[str, Any]) -> None:
        cells = aggregates.rebuild()
        self.stdout.write(f"Đã tính lại số liệu tổng hợp: {cells} ô.")

    def _snapshot(self, opts: dict[str, Any]) -> None:
        done = progress.snapshot(now=now_from(opts), cutoff_day=settings.CCHC_PAR_CUTOFF_DAY)
        for instant in done:
            self.stdout.write(f"Đã đếm hồ sơ đang giải quyết tại {instant:%H:%M %d/%m/%Y}.")
        self.stdout.write(f"Thời điểm báo cáo mới được đếm: {len(done)}.")

    def _verify(self, opts: dict[str, Any]) -> None:
        report = aggregates.verify()
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for diff in report.differences:
                self.stdout.write(str(diff))
            for line in report.progress:
                self.stdout.write(line)
            self.stdout.write(f"Đã kiểm tra {report.cells} ô: {len(report.differences)} sai lệch.")
            if report.progress:
                self.stdout.write(
                    f"Số hồ sơ đang giải quyết tại các thời điểm đã lưu: {len(report.progress)} "
                    "sai lệch."
                )
        if not report.clean:
            self.stdout.flush()
            sys.exit(1)

    def _show(self, opts: dict[str, Any]) -> None:
        period = periods.parse(opts["period"])
        results = services.plan_results(
            opts["plan"], period, filters_from(opts), now=now_from(opts)
        )
        if opts["json"]:
            self.stdout.write(
                json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2)
            )
            return
        self.stdout.write(f"{period.label}")
        for r in results:
            met = {True: "đạt", False: "chưa đạt", None: "—"}[r.met]
            self.stdout.write(
                f"{r.code:<4} {r.name}: {r.value_text} ({services.fmt(r.numerator)}/"
                f"{services.fmt(r.denominator)}); chỉ tiêu {r.target_text}: {met}"
            )
            for b in r.breakdown:
                if "level" in b:
                    self.stdout.write(
                        f"       {b['level']}: {pct(b['value'])} "
                        f"({b['numerator']}/{b['denominator']})"
                    )

    def _ranking(self, opts: dict[str, Any]) -> None:
        period = periods.parse(opts["period"])
        rows = services.ranking(period, filters_from(opts), by=opts["by"], now=now_from(opts))
        if opts["json"]:
            self.stdout.write(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
            return
        for n, r in enumerate(rows, start=1):
            self.stdout.write(
                f"{n:>3}. {r.name}: {services.fmt(r.total)}/{services.fmt(r.max_total)} "
                f"(thang 100: {services.fmt(r.total_100)}; T4 {pct(r.t4)})"
            )

    def _reconcile(self, opts: dict[str, Any]) -> None:
        period = periods.parse(opts["period"])
        unit = _ref(AdministrativeUnit, opts["unit"], "địa bàn")
        assert unit is not None
        diffs = published.reconcile(period, unit)
        if opts["json"]:
            self.stdout.write(
                json.dumps([d.as_dict() for d in diffs], ensure_ascii=False, indent=2)
            )
            return
        for d in diffs:
            self.stdout.write(
                f"{d.name}: hệ thống {services.fmt(d.ours)}, công bố {services.fmt(d.published)}, "
                f"chênh lệch {services.fmt(d.difference)}"
            )

    def _resolved(self, opts: dict[str, Any]) -> None:
        d = resolved.definition()
        if opts["json"]:
            self.stdout.write(json.dumps(d.as_dict(), ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{d.name} ({d.label})")
        for v in d.versions:
            self.stdout.write(f"Áp dụng từ {v.effective_from:%d/%m/%Y}: {v.note}")
            for r in v.states:
                word = "được tính" if r.counted else "không tính"
                check = "đã kiểm chứng" if r.verified else "CHƯA KIỂM CHỨNG"
                self.stdout.write(f"  {r.label} ({r.state}): {word} — {r.basis}")
                note = f" {r.note}" if r.note else ""
                self.stdout.write(f"      Nguồn: {r.source} [{check}]{note}")
