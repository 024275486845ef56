"""Writers of tabular exports: CSV, XLSX and Parquet, fed row by row.

A dataset is a list of typed `Column`s and an iterable of row tuples. Every writer consumes
the rows as they come and keeps only a bounded buffer (a few thousand rows; for Parquet one
row group in Arrow's compact form), so memory does not grow with the number of rows:

- CSV: UTF-8 with a byte-order mark (Excel then shows Vietnamese correctly), comma
  separated; instants as ``YYYY-MM-DD HH:MM:SS`` in Vietnamese time, booleans "Có"/"Không";
  text that a spreadsheet would evaluate (``=…``, ``+…``, ``-…``, ``@…``) is neutralised
  by `cchc.csvsafe`, numbers stay numbers.
- XLSX: XlsxWriter in ``constant_memory`` mode (each row is flushed to disk once written);
  instants are real Excel dates in Vietnamese time, numbers are numbers, booleans are
  booleans, text is always written as a string cell (never a formula). A sheet holds at
  most 1 048 576 rows: longer exports continue on further sheets.
- Parquet: pyarrow, one row group per `PARQUET_ROW_GROUP` rows; typed columns (timestamps with
  the time zone Asia/Ho_Chi_Minh, int64, bool, float64, string). Field names are the
  Vietnamese headers; each field's metadata carries its stable English key.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from cchc import csvsafe
from cchc.legaltime import VN_TZ

FORMATS = ("csv", "xlsx", "parquet")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
KINDS = ("text", "int", "float", "bool", "instant", "date")
CSV_FLUSH_ROWS = 2_000
PARQUET_BATCH = 5_000  # rows held as Python objects before they become Arrow arrays
PARQUET_ROW_GROUP = 50_000  # rows per row group (a multiple of PARQUET_BATCH)
XLSX_MAX_ROWS = 1_048_576  # Excel's limit per sheet, header included
XLSX_WIDTHS = {"text": 28, "int": 12, "float": 12, "bool": 9, "instant": 19, "date": 12}


@dataclass(frozen=True)
class Column:
    """One exported column: `key` (stable, English), `header` (Vietnamese) and `kind`, one
    of `KINDS` (instants are aware datetimes, written in Vietnamese time)."""

    key: str
    header: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


def local(value: dt.datetime) -> dt.datetime:
    """An aware instant in Vietnamese time; a naive one is taken to be Vietnamese already."""
    return value.astimezone(VN_TZ) if value.tzinfo is not None else value.replace(tzinfo=VN_TZ)


# -- CSV -------------------------------------------------------------------------------------------


def csv_text(value: Any, kind: str) -> str:
    """One cell as CSV text (empty for None)."""
    if value is None:
        return ""
    convert = _csv_converter(kind)
    return str(value) if convert is None else convert(value)


def _instant_text(value: dt.datetime) -> str:
    # isoformat is several times faster than strftime; [:19] drops fractions and offset.
    return local(value).isoformat(" ")[:19]


def _decimal_text(value: Any) -> str:
    if isinstance(value, Decimal) and value == value.to_integral():
        return format(value.normalize(), "f")
    return str(value)


def _csv_converter(kind: str) -> Callable[[Any], str] | None:
    """How a non-empty cell of `kind` becomes text; None when `str` (the csv module's own
    conversion) is right, as for text and integers."""
    return {
        "instant": _instant_text,
        "date": lambda v: v.isoformat(),
        "bool": lambda v: "Có" if v else "Không",
        "float": _decimal_text,
    }.get(kind)


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file as byte chunks (BOM first), one chunk per `CSV_FLUSH_ROWS` rows."""
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    converters = [
        (n, convert)
        for n, c in enumerate(columns)
        if (convert := _csv_converter(c.kind)) is not None
    ]
    pending = 0
    first = True
    for row in rows:
        if converters:
            cells = list(row)
            for n, convert in converters:
                if cells[n] is not None:
                    cells[n] = convert(cells[n])
            writer.writerow(cells)
        else:
            writer.writerow(row)
        pending += 1
        if pending >= CSV_FLUSH_ROWS:
            yield _take(buffer, bom=first)
            first, pending = False, 0
    yield _take(buffer, bom=first)


def _take(buffer: io.StringIO, *, bom: bool) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def write_csv(columns: Sequence[Column], rows: Iterable[Sequence[Any]], out: IO[bytes]) -> None:
    for chunk in csv_chunks(columns, rows):
        out.write(chunk)


# -- XLSX ------------------------------------------------------------------------------------------


def write_xlsx(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    out: str | Path | IO[bytes],
    *,
    sheet: str = "Dữ liệu",
) -> None:
    """Write an XLSX workbook to `out` (a path or a seekable binary file) in constant
    memory: XlsxWriter keeps each sheet's rows in its own temporary file."""
    import xlsxwriter  # startup cost: loaded only when a workbook is written

    book = xlsxwriter.Workbook(
        str(out) if isinstance(out, Path) else out,
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False},
    )
    try:
        head = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        instant = book.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        day = book.add_format({"num_format": "dd/mm/yyyy"})
        decimal = book.add_format({"num_format": "#,##0.00"})
        whole = book.add_format({"num_format": "#,##0"})
        kinds = [c.kind for c in columns]
        sheets = 0

        def new_sheet() -> Any:
            nonlocal sheets
            sheets += 1
            name = sheet if sheets == 1 else f"{sheet} ({sheets})"
            ws = book.add_worksheet(name[:31])
            for n, c in enumerate(columns):
                width = max(XLSX_WIDTHS[c.kind], min(len(c.header) + 2, 40))
                ws.set_column(n, n, width)
                ws.write_string(0, n, c.header, head)
            ws.freeze_panes(1, 0)
            return ws

        ws = new_sheet()
        r = 0
        for row in rows:
            r += 1
            if r >= XLSX_MAX_ROWS:
                ws.autofilter(0, 0, r - 1, len(columns) - 1)
                ws, r = new_sheet(), 1
            for n, (value, kind) in enumerate(zip(row, kinds, strict=True)):
                if value is None or value == "":
                    continue
                if kind == "instant":
                    ws.write_datetime(r, n, local(value).replace(tzinfo=None), instant)
                elif kind == "date":
                    ws.write_datetime(r, n, value, day)
                elif kind == "bool":
                    ws.write_boolean(r, n, bool(value))
                elif kind == "int":
                    ws.write_number(r, n, int(value), whole)
                elif kind == "float":
                    ws.write_number(r, n, float(value), decimal)
                else:
                    ws.write_string(r, n, str(value))
        ws.autofilter(0, 0, max(r, 1), len(columns) - 1)
    finally:
        book.close()


# -- Parquet ---------------------------------------------------------------------------------------


def arrow_type(kind: str) -> Any:
    import pyarrow as pa  # startup cost: pyarrow loads only for Parquet

    return {
        "text": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "instant": pa.timestamp("us", tz="Asia/Ho_Chi_Minh"),
        "date": pa.date32(),
    }[kind]


def arrow_schema(columns: Sequence[Column], metadata: dict[str, str] | None = None) -> Any:
    import pyarrow as pa  # startup cost: pyarrow loads only for Parquet

    fields = [pa.field(c.header, arrow_type(c.kind), metadata={"key": c.key}) for c in columns]
    return pa.schema(fields, metadata=metadata or None)


def _arrow_value(value: Any, kind: str) -> Any:
    if value is None or (value == "" and kind != "text"):
        return None
    if kind == "float":
        return float(value)
    if kind == "int":
        return int(value)
    if kind == "instant" and value.tzinfo is None:
        return value.replace(tzinfo=VN_TZ)
    return value


def write_parquet(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    out: str | Path | IO[bytes],
    *,
    metadata: dict[str, str] | None = None,
    batch: int | None = None,
    group: int | None = None,
) -> None:
    """Write a Parquet file with one row group per `group` rows (the last one shorter; an
    empty file has one empty group). Rows are turned into Arrow arrays every `batch` rows,
    so only that many rows are ever held as Python objects."""
    # startup cost: pyarrow loads only for Parquet
    import pyarrow as pa
    import pyarrow.parquet as pq

    batch, group = batch or PARQUET_BATCH, group or PARQUET_ROW_GROUP
    schema = arrow_schema(columns, metadata)
    kinds = [c.kind for c in columns]
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        buffer: list[list[Any]] = [[] for _ in columns]
        batches: list[Any] = []
        held = filled = 0
        wrote = False

        def convert() -> None:
            arrays = [
                pa.array(values, type=f.type) for values, f in zip(buffer, schema, strict=True)
            ]
            batches.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            for values in buffer:
                values.clear()

        def flush() -> None:
            table = pa.Table.from_batches(batches, schema=schema)
            writer.write_table(table, row_group_size=max(table.num_rows, 1))
            batches.clear()

        for row in rows:
            for values, value, kind in zip(buffer, row, kinds, strict=True):
                values.append(_arrow_value(value, kind))
            filled += 1
            if filled >= batch:
                convert()
                held, filled = held + filled, 0
                if held >= group:
                    flush()
                    held, wrote = 0, True
        if filled or not (wrote or held):
            convert()
            held += filled
        if held or not wrote:
            flush()


# -- small in-memory tables (the dashboard's) ------------------------------------------------------


def infer_columns(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Column]:
    """Columns for a small table whose cells carry their own Python types: a column is
    numeric, boolean, an instant or a date when all its non-empty cells are; else text."""
    out = []
    for n, header in enumerate(headers):
        values = [r[n] for r in rows if n < len(r) and r[n] is not None and r[n] != ""]
        out.append(Column(f"c{n + 1}", str(header), _kind_of(values)))
    return out


def _kind_of(values: list[Any]) -> str:
    if not values:
        return "text"
    if all(isinstance(v, bool) for v in values):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return "int"
    if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values):
        return "float"
    if all(isinstance(v, dt.datetime) for v in values):
        return "instant"
    if all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in values):
        return "date"
    return "text"


def table_parquet(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str) -> bytes:
    """A small table (a dashboard table) as Parquet bytes; text columns hold `str(cell)`."""
    columns = infer_columns(headers, rows)
    width = len(columns)
    padded = [
        tuple(
            str(v) if c.kind == "text" and v is not None else v
            for v, c in zip((*r, *([None] * (width - len(r))))[:width], columns, strict=True)
        )
        for r in rows
    ]
    out = io.BytesIO()
    write_parquet(columns, padded, out, metadata={"title": title})
    return out.getvalue()
