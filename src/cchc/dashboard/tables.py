"""Downloadable tables: every dashboard table is a `Table` (Vietnamese headers, typed cells)
rendered on the page and as CSV (UTF-8 with BOM, so Excel shows Vietnamese), XLSX
(openpyxl; numbers stay numbers, percentages and points keep their decimals, text is always
a string cell, never a formula) or Parquet (the exports' writer,
`cchc.tabular.export_formats`; column types inferred from the cells). CSV cells that a
spreadsheet would evaluate are neutralised by `cchc.csvsafe`."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

from cchc import csvsafe
from cchc.tabular.export_formats import CONTENT_TYPES, table_parquet

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx", "parquet")


@dataclass
class Table:
    """`name` becomes the file name (ASCII slug); `title` the sheet's heading line."""

    name: str
    title: str
    headers: Sequence[str]
    rows: list[Sequence[Any]] = field(default_factory=list)
    note: str = ""


def _cell(value: Any) -> Any:
    """A value as a spreadsheet cell: numbers as numbers, instants in Vietnamese time."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, int | float | dt.date):
        return value
    return str(value)


def _csv_text(value: Any) -> str:
    cell = _cell(value)
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        return cell.strftime("%d/%m/%Y %H:%M")
    if isinstance(cell, dt.date):
        return cell.strftime("%d/%m/%Y")
    return str(cell)


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csvsafe.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _append(sheet: Any, values: list[Any]) -> Any:
    """Append a row and return its cells. openpyxl takes a string starting with "=" for a
    formula; a table cell is data, so such a cell is stored as the text it is."""
    sheet.append(values)
    cells = sheet[sheet.max_row]
    for cell in cells:
        if cell.data_type == "f":
            cell.data_type = "s"
    return cells


def to_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook  # startup cost: openpyxl loads only when a workbook is made
    from openpyxl.styles import Font  # startup cost (as above)
    from openpyxl.utils import get_column_letter  # startup cost (as above)

    book = Workbook()
    sheet = book.active
    sheet.title = table.name[:31]
    _append(sheet, [table.title])
    sheet["A1"].font = Font(bold=True, size=13)
    if table.note:
        _append(sheet, [table.note])
    header_row = sheet.max_row + 1
    _append(sheet, list(table.headers))
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in table.rows:
        for cell in _append(sheet, [_cell(v) for v in row]):
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "dd/mm/yyyy"
            elif isinstance(cell.value, float):
                cell.number_format = "0.00"
    for index, header in enumerate(table.headers, start=1):
        width = max([len(str(header))] + [len(_csv_text(r[index - 1])) for r in table.rows[:200]])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def download(table: Table, fmt: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(to_xlsx(table), content_type=XLSX_TYPE)
    elif fmt == "parquet":
        content = table_parquet(table.headers, table.rows, title=table.title)
        response = HttpResponse(content, content_type=CONTENT_TYPES["parquet"])
    else:
        response = HttpResponse(to_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table.name}.{fmt}"'
    return response
