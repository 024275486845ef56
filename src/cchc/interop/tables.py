"""Reading CSV and XLSX files as (line number, row) pairs keyed by header names.

Real exports put a title block above the header, leave empty trailing rows and mix
Unicode forms; the reader finds the header row by the expected column names, skips empty
rows and normalises header names to NFC. Line numbers are spreadsheet row numbers (1-based,
a record with multi-line cells counts once), so error messages point at the row the user
sees in Excel, for CSV and XLSX alike.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cchc.errors import InvalidInput
from cchc.vietnamese import fold, nfc

HEADER_SEARCH_ROWS = 30
_OS_ERRORS = {
    errno.ENOENT: "tệp không tồn tại",
    errno.EACCES: "không có quyền đọc tệp",
    errno.EISDIR: "đây là một thư mục, không phải tệp",
}


@dataclass(frozen=True)
class Row:
    line: int
    cells: dict[str, Any]

    def get(self, name: str) -> Any:
        return self.cells.get(name)


def _encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) if the sample decodes as such, else Windows-1258 (the
    Vietnamese code page of older exports), else Latin-1 (never fails)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    for encoding in ("utf-8", "cp1258"):
        try:
            # A multi-byte character may be cut at the sample's end: decode incrementally.
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _csv_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    """Records of a CSV stream, read as they come (a file of millions of rows is never held
    in memory)."""
    sample = stream.read(65536)
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding=_encoding(sample), newline="")
    head = sample.decode(_encoding(sample), errors="ignore")[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(head, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect)
    # Number records as a spreadsheet shows rows (a multi-line cell is still one row),
    # so a reported line means the same in Excel for a CSV and an XLSX file.
    yield from enumerate(reader, start=1)


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"Không đọc được tệp Excel: {exc}", code="import.bad_file") from None
    sheet = book.worksheets[0]
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield number, list(values)
    book.close()


def open_source(
    source: str | Path | IO[bytes] | bytes, filename: str | None = None
) -> tuple[str, IO[bytes]]:
    """(name, seekable binary stream) of a path, bytes or an uploaded file."""
    if isinstance(source, str | Path):
        try:
            # `filename`: the name the user knows (an upload kept under another name).
            return filename or str(source), Path(source).open("rb")
        except OSError as exc:
            why = _OS_ERRORS.get(exc.errno or 0, exc.strerror)
            raise InvalidInput(
                f"Không mở được tệp {source}: {why}", code="import.bad_file"
            ) from None
    if isinstance(source, bytes):
        return filename or "", io.BytesIO(source)
    name = filename or getattr(source, "name", "") or ""
    if not getattr(source, "seekable", lambda: False)():
        return name, io.BytesIO(source.read())
    return name, source


def read_rows(
    source: str | Path | IO[bytes] | bytes,
    *,
    required: Iterable[str],
    filename: str | None = None,
    known: Iterable[str] = (),
) -> Iterator[Row]:
    """Yield data rows of a CSV or XLSX file whose header contains every `required` name.

    Header matching ignores case, diacritics and spacing; cells are keyed by the required
    or `known` name a header matches, else by the header as written (NFC). Raises
    InvalidInput if the file cannot be read or no header row is found in the first rows.
    """
    name, stream = open_source(source, filename)
    try:
        yield from _rows(name, stream, list(required), list(known))
    finally:
        if isinstance(source, str | Path):
            stream.close()  # opened here


def _rows(name: str, stream: IO[bytes], required: list[str], known: list[str]) -> Iterator[Row]:
    magic = stream.read(2)
    stream.seek(0)
    is_xlsx = name.lower().endswith((".xlsx", ".xlsm")) or magic == b"PK"
    rows = _xlsx_rows(stream) if is_xlsx else _csv_rows(stream)

    wanted = {fold(h): h for h in required}
    names = {**{fold(h): h for h in known}, **wanted}
    header: list[str] | None = None
    for line, values in rows:
        if header is None:
            if line > HEADER_SEARCH_ROWS:
                break
            folded = [fold(str(v)) if v is not None else "" for v in values]
            if set(wanted) <= set(folded):
                header = [
                    names.get(f, nfc(str(v)) if v is not None else "")
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
