"""Reporting periods (spec 04): calendar periods and the PAR reporting periods of BNV
581/BNV-CCHC, whose data run from a cut-off day (setting `CCHC_PAR_CUTOFF_DAY`, default 15)
of the previous month-end to the day before it.

Codes: ``2024`` (year), ``2024-06`` (month), ``2024-Q2`` (quarter), ``2024-H1`` (half year),
``2024-BC-Q1`` (15/12/2023–14/3/2024), ``2024-BC-H1`` (15/12/2023–14/6/2024), ``2024-BC-Q3``
(15/6/2024–14/9/2024), ``2024-BC-NAM`` (15/12/2023–14/12/2024). `end` is inclusive.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings

from cchc.errors import InvalidInput

ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
KINDS = ("year", "half", "quarter", "month", "par")
PAR_PERIODS = ("Q1", "H1", "Q3", "NAM")
# Each label names what the data window covers (581/BNV-CCHC): the quarter I report
# 15/12–14/3 (one quarter), the 6-month report 15/12–14/6 (the first half), the quarter III
# report 15/6–14/9 (one quarter — not "9 tháng": the nine months to date are not its
# window), the year's report 15/12–14/12.
PAR_LABELS = {
    "Q1": "Báo cáo quý I",
    "H1": "Báo cáo 6 tháng đầu năm",
    "Q3": "Báo cáo quý III",
    "NAM": "Báo cáo năm",
}


@dataclass(frozen=True)
class Period:
    code: str
    label: str
    kind: str  # year | half | quarter | month | par
    start: dt.date
    end: dt.date  # inclusive

    @property
    def year(self) -> int:
        return self.end.year

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def __str__(self) -> str:
        return self.label


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def cutoff_day() -> int:
    day = int(getattr(settings, "CCHC_PAR_CUTOFF_DAY", 15))
    if not 2 <= day <= 28:
        raise InvalidInput(
            f"CCHC_PAR_CUTOFF_DAY = {day} không hợp lệ: ngày chốt số liệu phải từ 2 đến 28.",
            code="indicators.cutoff",
        )
    return day


def _par(year: int, which: str) -> Period:
    cut = cutoff_day()
    start_prev = dt.date(year - 1, 12, cut)
    if which == "Q1":
        start, end = start_prev, dt.date(year, 3, cut - 1)
    elif which == "H1":
        start, end = start_prev, dt.date(year, 6, cut - 1)
    elif which == "Q3":
        start, end = dt.date(year, 6, cut), dt.date(year, 9, cut - 1)
    else:
        start, end = start_prev, dt.date(year, 12, cut - 1)
    # "Báo cáo năm 2026", "Báo cáo 6 tháng đầu năm 2026": never "năm năm 2026"
    base = PAR_LABELS[which]
    named = f"{base} {year}" if base.endswith("năm") else f"{base} năm {year}"
    label = f"{named} ({start:%d/%m/%Y}–{end:%d/%m/%Y})"
    return Period(f"{year}-BC-{which}", label, "par", start, end)


# A report is written in the days after its period closes: for this many days after a
# reporting period's end, that period is still the one an office is reporting on.
REPORT_WRITING_DAYS = 15


def report_due(day: dt.date) -> Period:
    """The PAR reporting period an office is reporting on at `day`: the one that closed in
    the last REPORT_WRITING_DAYS days, otherwise the next one to close (on 7 December the
    year's report, not the first quarter's; on 20 December still that year's report)."""
    candidates = sorted(
        (_par(y, which) for y in (day.year - 1, day.year, day.year + 1) for which in PAR_PERIODS),
        key=lambda p: p.end,
    )
    recent = [p for p in candidates if p.end < day <= p.end + dt.timedelta(REPORT_WRITING_DAYS)]
    if recent:
        return recent[-1]
    return next(p for p in candidates if p.end >= day)


def year(y: int) -> Period:
    return Period(str(y), f"Năm {y}", "year", dt.date(y, 1, 1), dt.date(y, 12, 31))


def parse(code: str) -> Period:
    """The period named by `code`; InvalidInput with the accepted forms otherwise."""
    text = str(code or "").strip().upper()
    match = re.fullmatch(r"(\d{4})(?:-(.+))?", text)
    if not match:
        raise _bad(code)
    y, rest = int(match[1]), match[2]
    if not 2000 <= y <= 2100:
        raise InvalidInput(f"Năm {y} của kỳ '{code}' nằm ngoài khoảng 2000–2100.", code="period")
    if rest is None:
        return year(y)
    if m := re.fullmatch(r"(\d{1,2})", rest):
        month = int(m[1])
        if not 1 <= month <= 12:
            raise InvalidInput(
                f"Kỳ '{code}': tháng {month} không hợp lệ (cần 01–12).", code="period"
            )
        return Period(
            f"{y}-{month:02d}",
            f"Tháng {month}/{y}",
            "month",
            dt.date(y, month, 1),
            _month_end(y, month),
        )
    if m := re.fullmatch(r"Q([1-4])", rest):
        q = int(m[1])
        return Period(
            f"{y}-Q{q}",
            f"Quý {ROMAN[q]}/{y}",
            "quarter",
            dt.date(y, 3 * q - 2, 1),
            _month_end(y, 3 * q),
        )
    if m := re.fullmatch(r"H([12])", rest):
        h = int(m[1])
        if h == 1:
            return Period(
                f"{y}-H1", f"6 tháng đầu năm {y}", "half", dt.date(y, 1, 1), dt.date(y, 6, 30)
            )
        return Period(
            f"{y}-H2", f"6 tháng cuối năm {y}", "half", dt.date(y, 7, 1), dt.date(y, 12, 31)
        )
    if m := re.fullmatch(r"BC-(Q1|H1|Q3|NAM)", rest):
        return _par(y, m[1])
    raise _bad(code)


def _bad(code: str) -> InvalidInput:
    return InvalidInput(
        f"Kỳ báo cáo '{code}' không hợp lệ. Dùng: năm (2024), tháng (2024-06), quý (2024-Q2), "
        "6 tháng (2024-H1, 2024-H2) hoặc kỳ báo cáo CCHC (2024-BC-Q1, 2024-BC-H1, 2024-BC-Q3, "
        "2024-BC-NAM).",
        code="period",
    )


def previous(p: Period) -> Period:
    """The period of the same kind just before `p` (the same PAR report of last year)."""
    y = p.start.year if p.kind != "par" else p.end.year
    if p.kind == "year":
        return year(y - 1)
    if p.kind == "month":
        first = p.start - dt.timedelta(days=1)
        return parse(f"{first.year}-{first.month:02d}")
    if p.kind == "quarter":
        q = (p.start.month - 1) // 3 + 1
        return parse(f"{y}-Q{q - 1}") if q > 1 else parse(f"{y - 1}-Q4")
    if p.kind == "half":
        return parse(f"{y}-H1") if p.start.month > 1 else parse(f"{y - 1}-H2")
    return parse(f"{y - 1}-BC-{p.code.rsplit('-', 1)[1]}")


def choices(y: int) -> list[Period]:
    """Every period of year `y`: the year, halves, quarters, months, PAR reports."""
    out = [year(y), parse(f"{y}-H1"), parse(f"{y}-H2")]
    out += [parse(f"{y}-Q{q}") for q in range(1, 5)]
    out += [parse(f"{y}-{m:02d}") for m in range(1, 13)]
    out += [_par(y, which) for which in PAR_PERIODS]
    return out


def months(p: Period) -> list[Period]:
    """The calendar months overlapping `p`, in order."""
    out = []
    day = p.start.replace(day=1)
    while day <= p.end:
        out.append(parse(f"{day.year}-{day.month:02d}"))
        day = _month_end(day.year, day.month) + dt.timedelta(days=1)
    return out
