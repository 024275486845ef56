"""Reading CSV and XLSX files as (line number, row) pairs keyed by header names.

Real exports put a title block above the header, leave empty trailing rows and mix
Unicode forms; the reader finds the header row by the expected column names, skips empty
rows and normalises header names to NFC. Line numbers are spreadsheet row numbers (1-based,
a record with multi-line cells counts once), so error messages point at the row the user
sees in Excel, for CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cchc.errors import InvalidInput
from cchc.vietnamese import fold, nfc

HEADER_SEARCH_ROWS = 30


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, Any]

    def get(self, name: str) -> Any:
        return self.cells.get(name)


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    for encoding in ("utf-8-sig", "cp1258", "latin-1"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = content[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    # Number records as a spreadsheet shows rows (a multi-line cell is still one row),
    # so a reported line means the same in Excel for a CSV and an XLSX file.
    yield from enumerate(reader, start=1)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"Không đọc được tệp Excel: {exc}", code="import.bad_file") from None
    sheet = book.worksheets[0]
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, list(values)
    book.close()


def read_rows(
    source: str | Path | IO[bytes] | bytes,
    *,
    required: Iterable[str],
    filename: str | None = None,
) -> Iterator[Row]:
    """Yield data rows of a CSV or XLSX file whose header contains every `required` name.

    Header matching ignores case, diacritics and spacing. Raises InvalidInput if the file
    cannot be read or no header row is found in the first rows.
    """
    if isinstance(source, str | Path):
        name = str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InvalidInput(
                f"Không mở được tệp {name}: {exc.strerror}", code="import.bad_file"
            ) from None
    elif isinstance(source, bytes):
        name, data = filename or "", source
    else:
        name, data = filename or getattr(source, "name", "") or "", source.read()
    is_xlsx = name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK"
    rows = _xlsx_rows(data) if is_xlsx else _csv_rows(data)

    wanted = {fold(h): h for h in required}
    header: list[str] | None = None
    for line, values in rows:
        if header is None:
            if line > HEADER_SEARCH_ROWS:
                break
            folded = [fold(str(v)) if v is not None else "" for v in values]
            if set(wanted) <= set(folded):
                header = [
                    wanted.get(f, nfc(str(v)) if v is not None else "")
                    for f, v in zip(folded, values, strict=True)
                ]
            continue
        if all(v is None or (isinstance(v, str) and v.strip() == "") for v in values):
            continue
        cells = {h: v for h, v in zip(header, values, strict=False) if h}
        yield Row(line, cells)
    if header is None:
        missing = ", ".join(sorted(wanted.values()))
        raise InvalidInput(
            f"Không tìm thấy dòng tiêu đề có đủ các cột: {missing}", code="import.no_header"
        )
