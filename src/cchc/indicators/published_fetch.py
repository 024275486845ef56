"""The 766 figures the national portal publishes, fetched from it (`LayChiSo766`) instead of
typed in: the answer, in the portal's own six-column layout plus its deduction for
technical and synchronisation faults (``TruDiem``), is written as one row of the
six-column table and recorded through the same import as a file
(`importers.PublishedImporter`, ``cchc import published-766``): the same checks, the same
audited `published.save_published`, group 4 as the sum of its two portal columns, and the
deduction as its own figure. The reconciliation page then shows it beside ours.

``cchc published766 fetch --period 2026-Q3 [--unit CODE] [--json]``; called by the
worker or a command, never in a request (the portal call has a time-out).

UNVERIFIED: the service name, the period parameter (``Ky``) and the answer's keys. The
answer's columns are recognised by the titles the import accepts (``"Số hóa hồ sơ"``…), by
our codes (``"3"``, ``"4-dvc"``…) or by the names below; its unit is ``MaDiaBan`` (official
unit code) when given, else the `--unit` option, else the province (the only top-level unit
in force at the period's end).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from cchc import csvsafe
from cchc.errors import InvalidInput
from cchc.indicators import definitions
from cchc.indicators.importers import PublishedImporter, norm, wide_headers
from cchc.indicators.periods import parse
from cchc.indicators.published import DEDUCTION, portal_columns
from cchc.national import client
from cchc.org.models import AdministrativeUnit

SERVICE = "LayChiSo766"  # UNVERIFIED service name
# Answer keys the portal might use for the total and the deduction (UNVERIFIED).
EXTRA_KEYS = {
    "trudiem": DEDUCTION,
    "diemtru": DEDUCTION,
    "tongdiem": "total",
    "tong": "total",
    "total": "total",
}
TOTAL_TITLE = "Tổng điểm"
DEDUCTION_TITLE = "Điểm trừ"


@dataclass
class FetchReport:
    period: str
    unit: str
    figures: dict[str, str] = field(default_factory=dict)  # code -> value as fetched
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _province(on: dt.date) -> str:
    tops = list(
        AdministrativeUnit.objects.valid_on(on)
        .filter(parent__isnull=True)
        .values_list("code", flat=True)
    )
    if len(tops) != 1:
        raise InvalidInput(
            "Không xác định được địa bàn của số liệu Cổng DVCQG: ghi rõ mã địa bàn (--unit)."
        )
    return tops[0]


def figures_of(answer: dict[str, Any], period_end: dt.date) -> dict[str, Decimal]:
    """{code: value} of the answer's columns (the six portal columns, total, deduction)."""
    known = wide_headers()
    d = definitions.current("index766", on=period_end)
    codes = {c.code for c in portal_columns(d)} | {"total", DEDUCTION}
    out: dict[str, Decimal] = {}
    flat = dict(answer)
    # The columns as a list: [{"Ma": code, "Ten": title, "Diem": points}] (UNVERIFIED).
    for column in answer.get("ChiSo") or []:
        if isinstance(column, dict) and column.get("Diem") not in (None, ""):
            name = str(column.get("Ma") or column.get("Ten") or "").strip()
            if name and name not in flat:
                flat[name] = column["Diem"]
    for key, raw in flat.items():
        if isinstance(raw, dict | list) or raw in (None, ""):
            continue
        text = str(key).strip()
        code = (
            text
            if text in codes
            else known.get(norm(text)) or EXTRA_KEYS.get(norm(text).replace(" ", ""))
        )
        if code is None or code in out:
            continue
        try:
            out[code] = Decimal(str(raw).replace(",", "."))
        except InvalidOperation:
            raise InvalidInput(
                f"Cổng DVCQG trả về điểm «{text}» không phải là số: {raw!r}."
            ) from None
    return out


def table(period: str, unit: str, figures: dict[str, Decimal], source: str) -> bytes:
    """The six-column table the import reads (one data row), as CSV bytes."""
    d = definitions.current("index766", on=parse(period).end)
    title = {c.code: c.name for c in portal_columns(d)}
    title.update({"total": TOTAL_TITLE, DEDUCTION: DEDUCTION_TITLE})
    order = [c.code for c in portal_columns(d)] + ["total", DEDUCTION]
    present = [c for c in order if c in figures]
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer)
    writer.writerow(["Kỳ", "Mã địa bàn", *(title[c] for c in present), "Nguồn"])
    writer.writerow([period, unit, *(f"{figures[c]:f}" for c in present), source])
    return buffer.getvalue().encode("utf-8")


def fetch(
    period_text: str, *, actor: Any, now: dt.datetime, unit: str | None = None
) -> FetchReport:
    """Fetch the published figures of `period_text` and record them (see the module).
    Raises `client.NationalError` (exit code 6) when the portal cannot be reached or
    refuses, InvalidInput when its answer lacks the six columns."""
    period = parse(period_text)
    answer = client.call(SERVICE, extra={"Ky": period.code})
    if not isinstance(answer, dict):
        raise InvalidInput("Cổng DVCQG trả về số liệu 766 không đúng dạng.")
    figures = figures_of(answer, period.end)
    code = str(answer.get("MaDiaBan") or unit or "").strip() or _province(period.end)
    at = now.strftime("%d/%m/%Y %H:%M")
    source = f"Cổng DVCQG ({SERVICE}, kỳ {period.code}, lấy lúc {at})"
    report = FetchReport(period.code, code, {k: f"{v:f}" for k, v in figures.items()})
    done = PublishedImporter().run(
        table(period.code, code, figures, source),
        actor=actor,
        now=now,
        filename=f"{SERVICE}-{period.code}.csv",
    )
    report.created, report.updated, report.unchanged = done.created, done.updated, done.unchanged
    report.rejected = [{"line": e.line, "reason": e.reason} for e in done.rejected]
    return report
