"""Exports (issue 8): dossiers, their events and indicator results as CSV, XLSX or Parquet,
for any filter, limited to what the user may see, each one recorded in the audit log.

An `Export` is a dataset (typed columns, a lazy row iterator over the database) built for a
user and a set of filters; the writers of `cchc.tabular.export_formats` consume its rows as
they come, so memory stays bounded whatever the number of rows. Permissions are checked
when the export is built, before anything is written; the audit entry (who, dataset,
filters, format, rows, complete or interrupted) is written when the rows have been
consumed.

Filters reuse the existing vocabularies: the dossier list's (`QueueFilters`: state, text
search, mine, at risk, overdue, step), the dashboard's (`indicators.services.Filters`:
level, unit, agency — the competent agency as reported, current or historic units —,
procedure, channel) and the reporting periods (`indicators.periods`), plus a date range,
the outcome, and which instant the period applies to (receipt or finishing).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.utils import timezone

from cchc.accounts import policy
from cchc.audit import log
from cchc.dossiers.models import Channel, Outcome, State
from cchc.dossiers.queries import QueueFilters
from cchc.errors import InvalidInput, PermissionDenied
from cchc.indicators import periods
from cchc.indicators.periods import Period
from cchc.indicators.services import Filters, check_view
from cchc.interop import export_datasets as datasets
from cchc.org.models import UnitLevel
from cchc.tabular.export_formats import (
    CONTENT_TYPES,
    FORMATS,
    Column,
    csv_chunks,
    write_csv,
    write_parquet,
    write_xlsx,
)
from cchc.tabular.values import CellError
from cchc.tabular.values import date as parse_date
from cchc.webkit import params

DATASETS = {
    "dossiers": "Hồ sơ",
    "events": "Lịch sử xử lý hồ sơ",
    "indicators": "Kết quả chỉ tiêu, chỉ số",
}
FILE_STEMS = {"dossiers": "ho-so", "events": "lich-su-xu-ly", "indicators": "ket-qua-chi-so"}
BASES = {"received": "ngày tiếp nhận", "finished": "ngày hoàn thành"}
CHUNK = 2_000  # rows fetched from the database at a time


@dataclass(frozen=True)
class ExportFilters:
    """Which dossiers (and their events) an export covers. `period` or `start`/`end`
    (inclusive Vietnamese days, either side open) bound the instant named by `basis`."""

    period: Period | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    basis: str = "received"  # received | finished
    scope: Filters = field(default_factory=Filters)
    queue: QueueFilters = field(default_factory=lambda: QueueFilters(state="all"))
    outcome: str = ""

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise InvalidInput(
                f"Mốc lọc theo ngày '{self.basis}' không hợp lệ (received hoặc finished).",
                code="export.basis",
            )
        if self.period is not None and (self.start or self.end):
            raise InvalidInput(
                "Chọn kỳ báo cáo hoặc khoảng ngày (từ ngày, đến ngày), không chọn cả hai.",
                code="export.window",
            )
        if self.start and self.end and self.start > self.end:
            raise InvalidInput(
                f"Từ ngày {self.start:%d/%m/%Y} phải trước hoặc bằng đến ngày {self.end:%d/%m/%Y}.",
                code="export.window",
            )
        if self.outcome and self.outcome not in Outcome.values:
            raise InvalidInput(
                f"Kết quả giải quyết '{self.outcome}' không hợp lệ. Dùng: "
                + ", ".join(f"{v} ({label})" for v, label in Outcome.choices)
                + ".",
                code="export.outcome",
            )
        state = self.queue.state
        if state and state not in ("open", "all") and state not in State.values:
            raise InvalidInput(
                f"Trạng thái '{state}' không hợp lệ. Dùng: open, all, "
                + ", ".join(State.values)
                + ".",
                code="export.state",
            )

    @property
    def window(self) -> tuple[dt.date | None, dt.date | None]:
        if self.period is not None:
            return self.period.start, self.period.end
        return self.start, self.end

    def describe(self) -> dict[str, Any]:
        """The filters in effect, for the audit entry (only those set)."""
        q = self.queue
        out: dict[str, Any] = {
            "period": self.period.code if self.period else None,
            "from": self.start,
            "to": self.end,
            "basis": self.basis if (self.period or self.start or self.end) else None,
            "outcome": self.outcome or None,
            "state": q.state or "open",
            "q": q.q or None,
            "mine": q.mine or None,
            "risk": q.risk or None,
            "overdue": q.overdue or None,
            "step": q.step,
            **{k: v for k, v in self.scope.as_dict().items() if k != "units"},
        }
        if any(out[k] is not None for k in ("level", "unit_id", "agency_id")):
            out["units"] = self.scope.units
        return {k: v for k, v in out.items() if v is not None}


def parse_day(raw: str | None, label: str) -> dt.date | None:
    """A day typed as 2024-06-03 or 03/06/2024; InvalidInput naming the field otherwise."""
    if raw is None or not str(raw).strip():
        return None
    try:
        return parse_date(str(raw).strip())
    except CellError as exc:
        raise InvalidInput(
            f"{label} không hợp lệ: {exc} (dùng dạng 2024-06-03 hoặc 03/06/2024).",
            code="export.date",
        ) from None


def _whole(raw: str | None, label: str) -> int | None:
    # One parser for every page and command (cchc.webkit.params): no value past 64 bits
    # reaches the database.
    try:
        return params.whole(raw, label)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, code="export.filter") from None


def scope_filters(get: Mapping[str, Any]) -> Filters:
    """The dashboard's filter fields (level, unit, agency, procedure, channel, units) read
    from a query string, validated like the dashboard does — without the dashboard's
    `indicator.view` scope, which a dossier export does not need (`dossier.view` applies)."""
    level = (get.get("level") or "").strip() or None
    if level is not None and not UnitLevel.objects.filter(code=level).exists():
        known = ", ".join(UnitLevel.objects.order_by("rank").values_list("code", flat=True))
        raise InvalidInput(
            f"Cấp hành chính không hợp lệ: {level} (dùng: {known}).", code="export.level"
        )
    channel = _whole(get.get("channel"), "Kênh nộp")
    if channel is not None and channel not in Channel.values:
        raise InvalidInput(
            f"Kênh nộp không hợp lệ: {channel} (1 trực tiếp, 2 trực tuyến, 3 bưu chính).",
            code="export.channel",
        )
    units = (get.get("units") or "").strip() or "current"
    if units not in ("current", "historic"):
        raise InvalidInput(
            f"Cách quy đổi đơn vị '{units}' không hợp lệ (current hoặc historic).",
            code="export.units",
        )
    return Filters(
        level=level,
        unit_id=_whole(get.get("unit"), "Đơn vị hành chính"),
        agency_id=_whole(get.get("agency"), "Cơ quan"),
        procedure_id=_whole(get.get("procedure"), "Thủ tục"),
        channel=channel,
        units=units,
    )


def filters_from_query(get: Mapping[str, Any], *, queue: QueueFilters) -> ExportFilters:
    """Export filters from a page's query string: the dossier list's own filters (already
    parsed into `queue`), the dashboard's names (`period`, `level`, `unit`, `agency`,
    `procedure`, `channel`, `units`) and `tu_ngay`, `den_ngay`, `theo_ngay`
    (received/finished), `ket_qua` (early/on_time/overdue)."""
    code = (get.get("period") or "").strip()
    return ExportFilters(
        period=periods.parse(code) if code else None,
        start=parse_day(get.get("tu_ngay"), "Từ ngày"),
        end=parse_day(get.get("den_ngay"), "Đến ngày"),
        basis=(get.get("theo_ngay") or "").strip() or "received",
        scope=scope_filters(get),
        queue=queue,
        outcome=(get.get("ket_qua") or "").strip(),
    )


# -- the export object ----------------------------------------------------------------------------


@dataclass
class Export:
    """A dataset ready to be written. `rows` is consumed once; `count` follows it."""

    dataset: str
    columns: list[Column]
    rows: Iterable[Sequence[Any]]
    user: Any
    filters: dict[str, Any]
    now: dt.datetime
    personal_data: bool = False
    title: str = ""
    count: int = 0
    audited: bool = False

    def counted(self) -> Iterator[Sequence[Any]]:
        for row in self.rows:
            self.count += 1
            yield row

    def filename(self, fmt: str) -> str:
        stamp = timezone.localtime(self.now).strftime("%Y%m%d-%H%M")
        return f"{FILE_STEMS[self.dataset]}-{stamp}.{fmt}"

    def metadata(self) -> dict[str, str]:
        return {
            "dataset": self.dataset,
            "title": self.title,
            "generated_at": timezone.localtime(self.now).isoformat(),
            "filters": json.dumps(self.filters, ensure_ascii=False, default=str),
        }

    def write(self, fmt: str, out: str | Path | IO[bytes]) -> int:
        """Write every row to `out` (a path or a binary file; seekable for XLSX). Returns
        the number of rows."""
        check_format(fmt)
        rows = self.counted()
        if fmt == "csv":
            if isinstance(out, str | Path):
                with open(out, "wb") as handle:
                    write_csv(self.columns, rows, handle)
            else:
                write_csv(self.columns, rows, out)
        elif fmt == "xlsx":
            write_xlsx(self.columns, rows, out, sheet=DATASETS[self.dataset][:31])
        else:
            write_parquet(self.columns, rows, out, metadata=self.metadata())
        return self.count

    def csv_stream(self) -> Iterator[bytes]:
        """The CSV as byte chunks; the audit entry is written when the stream ends (marked
        incomplete when the reader went away before the end)."""
        complete = False
        try:
            yield from csv_chunks(self.columns, self.counted())
            complete = True
        finally:
            self.audit("csv", complete=complete)

    def audit(self, fmt: str, *, complete: bool = True) -> None:
        if self.audited:
            return
        self.audited = True
        with transaction.atomic():
            log.record(
                f"export.{self.dataset}",
                actor=self.user,
                data={
                    "dataset": self.dataset,
                    "format": fmt,
                    "filters": self.filters,
                    "rows": self.count,
                    "personal_data": self.personal_data,
                    "complete": complete,
                },
                at=timezone.now(),
            )


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(
            f"Định dạng '{fmt}' không hỗ trợ. Dùng: {', '.join(FORMATS)}.", code="export.format"
        )
    return fmt


def content_type(fmt: str) -> str:
    return CONTENT_TYPES[check_format(fmt)]


def write_file(export: Export, fmt: str, path: str | Path) -> int:
    """Write `export` to `path` atomically (a partial file never takes its place) and audit
    it. Returns the number of rows."""
    target = Path(path)
    if not target.parent.is_dir():
        raise InvalidInput(
            f"Thư mục '{target.parent}' không tồn tại: không ghi được tệp {target.name}.",
            code="export.out",
        )
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(handle)
    try:
        export.write(fmt, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    export.audit(fmt)
    return export.count


def spool(export: Export, fmt: str) -> IO[bytes]:
    """Write `export` to an anonymous temporary file (gone when closed), audit it, and
    return the file rewound — for a web download of XLSX or Parquet."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (the caller's response closes it)
    try:
        export.write(fmt, handle)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    export.audit(fmt)
    return handle


# -- datasets -------------------------------------------------------------------------------------


def _require_dossiers(user: Any) -> None:
    if not policy.can(user, "dossier.view"):
        raise PermissionDenied(
            "Bạn không có quyền xem hồ sơ nên không xuất được dữ liệu hồ sơ.",
            code="export.forbidden",
        )


def dossier_export(user: Any, filters: ExportFilters, *, now: dt.datetime | None = None) -> Export:
    """Every dossier `user` may see that `filters` select, one row each (ordered by id).
    The applicant's personal data is masked on dossiers the user's `dossier.personal_data`
    grant does not cover (`export_datasets.dossier_rows`)."""
    now = now or timezone.now()
    _require_dossiers(user)
    qs = datasets.dossier_queryset(user, filters, now=now)
    personal = datasets.PersonalData.of(user)
    columns = datasets.dossier_columns()
    return Export(
        dataset="dossiers",
        columns=columns,
        rows=datasets.dossier_rows(qs, personal=personal, chunk=CHUNK),
        user=user,
        filters=filters.describe(),
        now=now,
        personal_data=personal.any,
        title=DATASETS["dossiers"],
    )


def event_export(user: Any, filters: ExportFilters, *, now: dt.datetime | None = None) -> Export:
    """The events of every dossier `dossier_export` would list, by dossier and sequence.
    An applicant acting on their own dossier is named only to users allowed to see the
    applicant's personal data."""
    now = now or timezone.now()
    _require_dossiers(user)
    qs = datasets.dossier_queryset(user, filters, now=now)
    personal = datasets.PersonalData.of(user)
    return Export(
        dataset="events",
        columns=list(datasets.EVENT_COLUMNS),
        rows=datasets.event_rows(qs, personal=personal, chunk=CHUNK),
        user=user,
        filters=filters.describe(),
        now=now,
        personal_data=personal.any,
        title=DATASETS["events"],
    )


def indicator_export(
    user: Any,
    period: Period,
    filters: Filters | None = None,
    *,
    plan_code: str | None,
    now: dt.datetime | None = None,
) -> Export:
    """The plan's targets (when `plan_code` is given) and the 766 index — total, groups and
    sub-indicators — for `period` and `filters`, checked with the engine's `check_view`."""
    now = now or timezone.now()
    filters = filters or Filters()
    check_view(user, filters)
    rows = datasets.indicator_rows(period, filters, plan_code=plan_code, now=now)
    described = {k: v for k, v in filters.as_dict().items() if v is not None}
    return Export(
        dataset="indicators",
        columns=list(datasets.INDICATOR_COLUMNS),
        rows=rows,
        user=user,
        filters={"period": period.code, "plan": plan_code, **described},
        now=now,
        title=f"{DATASETS['indicators']} — {period.label}",
    )
