"""A report as renderer-neutral data: header, sections of paragraphs, tables and charts,
recipients and signature. The Word, PDF and XLSX renderers walk the same object, so the
three files always carry the same figures.

Cells are typed: numbers stay `Decimal`/`int` (percentages as percent values, e.g. 66.67),
and each renderer formats them (Vietnamese decimal comma in documents, real numbers with a
number format in the workbook).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cchc.reports import wording

# Cell kinds: how a number is written.
TEXT = "text"
INT = "int"  # a count
PERCENT = "percent"  # a percentage, 66.67 = 66,67 %
POINTS = "points"  # a score (766 points), two decimals
CHANGE = "change"  # a change in percentage points, signed
DATE = "date"  # a calendar day

NO_DATA = "Không có dữ liệu"
LEFT_FROM = 24  # text columns at least this wide (names, descriptions) are left-aligned


@dataclass(frozen=True)
class Cell:
    """A value with its own kind, overriding the column's (e.g. T11 counts indices while
    the other targets are percentages)."""

    value: Any
    kind: str = TEXT


@dataclass(frozen=True)
class Column:
    heading: str
    kind: str = TEXT
    width: float = 12  # workbook width in characters; documents use it as a relative width
    printed: bool = True  # shown in the Word/PDF table
    in_workbook: bool = True  # written to the statistics workbook


@dataclass
class Table:
    key: str  # sheet name in the workbook (≤ 31 characters)
    title: str  # "Bảng 1. …"
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    printed: bool = True  # False: workbook only (detail tables)
    emphasis: set[int] = field(default_factory=set)  # row indexes shown in bold (totals)

    def printed_columns(self) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c.printed]

    def workbook_columns(self) -> list[int]:
        return [i for i, c in enumerate(self.columns) if c.in_workbook]


@dataclass
class Chart:
    """A chart, drawn (`draw`, matplotlib, from figures already computed) the first time
    its PNG is asked for, once: the Word file and the PDF embed it, the workbook never
    does — a report made only as XLSX draws no chart (that was about half of its CPU time,
    benchmarks/report.py)."""

    key: str
    title: str  # "Biểu đồ 1. …"
    draw: Callable[[], bytes]
    width_cm: float = 16.0
    alt: str = ""
    _png: bytes | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def png(self) -> bytes:
        if self._png is None:
            self._png = self.draw()
        return self._png


@dataclass
class Paragraph:
    text: str
    style: str = "body"  # body | note | bullet


@dataclass
class Section:
    heading: str  # "I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH"
    level: int = 1  # 1: roman numeral heading, 2: arabic sub-heading
    items: list[Paragraph | Table | Chart] = field(default_factory=list)

    def say(self, text: str, style: str = "body") -> None:
        if text:
            self.items.append(Paragraph(text, style))


@dataclass
class Issuer:
    """The issuing body as printed in the top-left block (NĐ 30/2020, Phụ lục I)."""

    code: str
    superior: str  # upper-case line above the issuer ("UBND TỈNH BẮC GIANG"), may be ""
    name_lines: list[str]  # bold upper-case lines ("ỦY BAN NHÂN DÂN", "TỈNH BẮC GIANG")
    symbol: str  # abbreviation after "BC-" ("UBND", "STP")
    place: str  # on the date line ("Bắc Giang")
    sign_on_behalf: str  # "TM. ỦY BAN NHÂN DÂN" or ""
    sign_title: str  # "CHỦ TỊCH", "GIÁM ĐỐC"
    signer: str  # the head's name when recorded, else ""
    display_name: str  # in sentences ("UBND tỉnh Bắc Giang", "Sở Tư pháp tỉnh Bắc Giang")


@dataclass
class Report:
    issuer: Issuer
    number: str  # "Số: …/BC-UBND" without "Số: "
    place_date: str  # "Bắc Giang, ngày 05 tháng 7 năm 2024"
    title: str  # "BÁO CÁO"
    subject: str  # "Kết quả công tác cải cách hành chính quý II năm 2024"
    data_window: str  # "(Số liệu từ ngày … đến ngày …)"
    period_code: str
    sections: list[Section]
    recipients: list[str]
    metadata_date: dt.datetime  # fixed document date derived from the period (reproducible)
    as_of: dt.datetime  # the instant the figures were computed at
    issue_date: dt.date
    file_stem: str  # ASCII file name without extension
    summary: dict[str, Any] = field(default_factory=dict)  # figures for tests and the page

    def tables(self) -> list[Table]:
        return [i for s in self.sections for i in s.items if isinstance(i, Table)]

    def charts(self) -> list[Chart]:
        return [i for s in self.sections for i in s.items if isinstance(i, Chart)]


def unwrap(value: Any, kind: str) -> tuple[Any, str]:
    """(value, kind) of a cell: a `Cell` brings its own kind."""
    if isinstance(value, Cell):
        return value.value, value.kind
    return value, kind


def shown(value: Any, kind: str) -> str:
    """A cell as printed in the Word and PDF tables (Vietnamese number format)."""

    value, kind = unwrap(value, kind)
    if value is None:
        return "—" if kind != TEXT else ""
    if kind == PERCENT:
        return wording.percent(Decimal(str(value)))
    if kind == CHANGE:
        return wording.signed(Decimal(str(value)))
    if kind == INT:
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        return wording.number(value)
    if kind == POINTS:
        return wording.number(Decimal(str(value)))
    if kind == DATE and isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def as_number(value: Any) -> Decimal | int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, float):
        return Decimal(str(value))
    return None
