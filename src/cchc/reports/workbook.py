"""A `Report`'s statistics as an XLSX workbook (XlsxWriter): an information sheet, then one
sheet per table. Cells hold real numbers — percentages as fractions with a percent format,
counts as integers, points with two decimals, dates as dates — never numbers as text.
Vietnamese headers, the header row frozen, columns sized.

Reproducible: XlsxWriter stamps ZIP entries with a fixed time and the workbook's created
date is the report's metadata date.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import xlsxwriter

from cchc.reports.document import CHANGE, DATE, INT, PERCENT, POINTS, Report, Table, unwrap

INVALID_SHEET = set("[]:*?/\\")


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join("-" if ch in INVALID_SHEET else ch for ch in name)[:31]
    base, n = clean, 2
    while clean.lower() in used:
        suffix = f" ({n})"
        clean, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(clean.lower())
    return clean


def _number(value: Any) -> int | float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, int | float):
        return value
    return None


def render(report: Report) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "remove_timezone": True})
    book.set_properties(
        {
            "title": f"Số liệu {report.subject[0].lower()}{report.subject[1:]}",
            "subject": report.subject,
            "author": report.issuer.display_name,
            "company": report.issuer.display_name,
            "keywords": f"cải cách hành chính, {report.period_code}",
            "comments": report.data_window,
            "created": report.metadata_date.replace(tzinfo=None),
        }
    )
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 13}),
        "head": book.add_format(
            {
                "bold": True,
                "text_wrap": True,
                "valign": "vcenter",
                "align": "center",
                "border": 1,
                "bg_color": "#DDE5F0",
            }
        ),
        "text": book.add_format({"text_wrap": True, "valign": "top", "border": 1}),
        INT: book.add_format({"num_format": "#,##0", "valign": "top", "border": 1}),
        PERCENT: book.add_format({"num_format": "0.00%", "valign": "top", "border": 1}),
        POINTS: book.add_format({"num_format": "0.00", "valign": "top", "border": 1}),
        CHANGE: book.add_format({"num_format": "+0.00;-0.00;0.00", "valign": "top", "border": 1}),
        DATE: book.add_format({"num_format": "dd/mm/yyyy", "valign": "top", "border": 1}),
        "note": book.add_format({"italic": True}),
        "key": book.add_format({"bold": True, "valign": "top"}),
        "value": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    bold = {
        k: book.add_format({**props, "bold": True})
        for k, props in (
            ("text", {"text_wrap": True, "valign": "top", "border": 1}),
            (INT, {"num_format": "#,##0", "valign": "top", "border": 1}),
            (PERCENT, {"num_format": "0.00%", "valign": "top", "border": 1}),
            (POINTS, {"num_format": "0.00", "valign": "top", "border": 1}),
        )
    }
    used: set[str] = set()
    _info(book.add_worksheet(_sheet_name("Thông tin", used)), report, fmt)
    for table in report.tables():
        _table(book.add_worksheet(_sheet_name(table.key, used)), table, fmt, bold)
    book.close()
    return out.getvalue()


def _info(sheet: Any, report: Report, fmt: dict[str, Any]) -> None:
    rows = [
        ("Báo cáo", f"{report.title} {report.subject}"),
        ("Cơ quan báo cáo", report.issuer.display_name),
        ("Kỳ báo cáo", f"{report.period_code} {report.data_window}"),
        ("Thời điểm tổng hợp số liệu", report.as_of.strftime("%H:%M ngày %d/%m/%Y")),
        ("Số, ký hiệu", report.number.replace("\u00a0", " ").strip()),
        ("Ngày báo cáo", report.issue_date.strftime("%d/%m/%Y")),
    ]
    sheet.write(0, 0, "Thông tin báo cáo", fmt["title"])
    for n, (key, value) in enumerate(rows, start=2):
        sheet.write_string(n, 0, key, fmt["key"])
        sheet.write_string(n, 1, value, fmt["value"])
    sheet.set_column(0, 0, 30)
    sheet.set_column(1, 1, 90)


def _table(sheet: Any, table: Table, fmt: dict[str, Any], bold: dict[str, Any]) -> None:
    cols = table.workbook_columns()
    sheet.write_string(0, 0, table.title, fmt["title"])
    header = 2
    if table.note:
        sheet.write_string(1, 0, table.note, fmt["note"])
    for j, i in enumerate(cols):
        column = table.columns[i]
        sheet.write_string(header, j, column.heading, fmt["head"])
        sheet.set_column(j, j, column.width)
    sheet.set_row(header, 32)
    for r, row in enumerate(table.rows, start=header + 1):
        strong = (r - header - 1) in table.emphasis
        for j, i in enumerate(cols):
            value, kind = unwrap(row[i], table.columns[i].kind)
            style = (bold if strong else fmt).get(kind, fmt.get(kind, fmt["text"]))
            if kind in (INT, POINTS, CHANGE, PERCENT):
                num = _number(value)
                if num is None:
                    sheet.write_blank(r, j, None, fmt.get(kind, fmt["text"]))
                elif kind == PERCENT:
                    sheet.write_number(r, j, float(Decimal(str(num)) / 100), style)
                else:
                    sheet.write_number(r, j, num, style)
            elif kind == DATE and isinstance(value, dt.date):
                sheet.write_datetime(r, j, dt.datetime.combine(value, dt.time(0)), style)
            elif value is None or value == "":
                sheet.write_blank(r, j, None, style if kind != DATE else fmt["text"])
            else:
                sheet.write_string(r, j, str(value), bold["text"] if strong else fmt["text"])
    sheet.freeze_panes(header + 1, 0)
    if table.rows:
        sheet.autofilter(header, 0, header + len(table.rows), len(cols) - 1)
