"""`cchc export dossiers|events|indicators --format csv|xlsx|parquet --out FILE [filters]`:
parses options and calls `cchc.interop.exports`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cchc.accounts.models import User
from cchc.accounts.policy import SYSTEM
from cchc.catalog.models import Procedure
from cchc.dossiers.queries import QueueFilters
from cchc.errors import DomainError, InvalidInput, NotFound
from cchc.indicators import periods
from cchc.indicators.management.commands.indicators import filters_from
from cchc.indicators.services import DEFAULT_PLAN
from cchc.interop import exports
from cchc.org.models import UnitLevel
from cchc.tabular.export_formats import FORMATS


class Command(BaseCommand):
    help = (
        "Xuất dữ liệu (hồ sơ, lịch sử xử lý, kết quả chỉ tiêu/chỉ số) ra CSV, XLSX hoặc Parquet "
        "theo bộ lọc."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", choices=sorted(exports.DATASETS), help="what to export")
        parser.add_argument(
            "--format", choices=FORMATS, help="file format (default: the extension of --out)"
        )
        parser.add_argument("--out", required=True, help="file to write (replaced if present)")
        parser.add_argument(
            "--user",
            help="export as this user: only what they may see, personal data only if they may "
            "see it (default: the system, everything)",
        )
        parser.add_argument("--period", help="2024, 2024-06, 2024-Q2, 2024-H1, 2024-BC-H1…")
        parser.add_argument("--from", dest="start", help="first day (2024-06-01 or 01/06/2024)")
        parser.add_argument("--to", dest="end", help="last day, inclusive")
        parser.add_argument(
            "--by",
            choices=("received", "finished"),
            default="received",
            help="which instant --period/--from/--to bound (default: receipt)",
        )
        parser.add_argument("--level", help="province, district, commune")
        parser.add_argument("--agency", help="competent agency: id or identifier code")
        parser.add_argument("--unit", help="administrative unit id or official code (mã ĐVHC)")
        parser.add_argument("--procedure", help="procedure id or code (mã TTHC)")
        parser.add_argument("--channel", type=int, choices=(1, 2, 3))
        parser.add_argument("--units", choices=("current", "historic"), default="current")
        parser.add_argument(
            "--state", default="all", help="all (default), open, or a state code (returned…)"
        )
        parser.add_argument("--outcome", help="early, on_time, overdue")
        parser.add_argument("--search", default="", help="dossier code, applicant or procedure")
        parser.add_argument("--plan", help="indicators: plan code (default bac-giang-2024)")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            count, fmt, out = self._run(opts)
        except DomainError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None
        self.stdout.write(f"Đã xuất {count} dòng ({fmt}) vào {out}.")

    def _run(self, opts: dict[str, Any]) -> tuple[int, str, Path]:
        out = Path(opts["out"])
        fmt = opts["format"] or out.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InvalidInput(
                f"Không đoán được định dạng từ tên tệp '{out.name}': dùng --format "
                f"{'|'.join(FORMATS)} hoặc đuôi .csv, .xlsx, .parquet.",
                code="export.format",
            )
        user = _user(opts["user"])
        now = timezone.now()
        if opts["dataset"] == "indicators":
            export = self._indicators(user, opts, now)
        else:
            dossiers = opts["dataset"] == "dossiers"
            build = exports.dossier_export if dossiers else exports.event_export
            export = build(user, _dossier_filters(opts), now=now)
        count = exports.write_file(export, fmt, out)
        return count, fmt, out

    def _indicators(self, user: Any, opts: dict[str, Any], now: Any) -> exports.Export:
        if not opts["period"]:
            raise InvalidInput(
                "Xuất kết quả chỉ tiêu cần --period (ví dụ 2024, 2024-06, 2024-Q2, 2024-BC-H1).",
                code="export.period",
            )
        for name in ("start", "end", "outcome"):
            if opts[name]:
                raise InvalidInput(
                    "Kết quả chỉ tiêu tính theo kỳ báo cáo: --from, --to và --outcome chỉ dùng "
                    "cho hồ sơ và lịch sử xử lý.",
                    code="export.filter",
                )
        filters = filters_from({**opts, "procedure": _procedure(opts["procedure"])})
        return exports.indicator_export(
            user,
            periods.parse(opts["period"]),
            filters,
            plan_code=opts["plan"] or DEFAULT_PLAN,
            now=now,
        )


def _user(name: str | None) -> Any:
    if not name:
        return SYSTEM
    user = User.objects.filter(username=name, is_active=True).first()
    if user is None:
        raise NotFound(f"Không có người dùng '{name}' (hoặc tài khoản đã bị khóa).")
    return user


def _procedure(raw: str | None) -> int | None:
    """A procedure id or its code (mã TTHC)."""
    if not raw:
        return None
    found = Procedure.objects.filter(code=raw).values_list("pk", flat=True).first()
    if found is not None:
        return int(found)
    if raw.isdigit() and Procedure.objects.filter(pk=int(raw)).exists():
        return int(raw)
    raise NotFound(f"Không tìm thấy thủ tục '{raw}' (mã TTHC hoặc số hiệu).")


def _dossier_filters(opts: dict[str, Any]) -> exports.ExportFilters:
    level = opts["level"]
    if level and not UnitLevel.objects.filter(code=level).exists():
        known = ", ".join(UnitLevel.objects.order_by("rank").values_list("code", flat=True))
        raise InvalidInput(f"Cấp hành chính không hợp lệ: {level} (dùng: {known}).")
    return exports.ExportFilters(
        period=periods.parse(opts["period"]) if opts["period"] else None,
        start=exports.parse_day(opts["start"], "--from"),
        end=exports.parse_day(opts["end"], "--to"),
        basis=opts["by"],
        scope=filters_from({**opts, "procedure": _procedure(opts["procedure"])}),
        queue=QueueFilters(q=opts["search"], state=opts["state"]),
        outcome=opts["outcome"] or "",
    )
