"""Reading CSV and XLSX files as (line number, row) pairs keyed by header names.

Real exports put a title block above the header, leave empty trailing rows and mix
Unicode forms; the reader finds the header row by the expected column names, skips empty
rows and normalises header names to NFC. Line numbers are spreadsheet row numbers (1-based,
a record with multi-line cells counts once), so error messages point at the row the user
sees in Excel, for CSV and XLSX alike.

Hostile files are bounded (`Limits`, from the CCHC_IMPORT_MAX_* settings): the size of a
CSV file, and the decompressed size, member count and compression ratio of an XLSX archive,
are checked before its body is read (an XLSX of a few MB can hold a 300 MB shared string,
which openpyxl loads whole); the sheet's declared dimension before its rows; rows,
columns and the length of a CSV field while reading. Each refusal is an InvalidInput
(`import.too_large`) naming the limit, so the CLI exits 2 and the web preview shows it.
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings

from cchc.errors import InvalidInput
from cchc.vietnamese import fold, nfc

HEADER_SEARCH_ROWS = 30
MAX_ZIP_MEMBERS = 10_000  # an XLSX workbook has a few dozen parts
MAX_ZIP_RATIO = 200  # real sheets compress 5–30×; zip bombs 1 000× and more
RATIO_FLOOR = 1 << 20  # members smaller than 1 MB decompressed are never a bomb
# openpyxl holds the shared-strings part whole in memory (about 4× its size): a 300 MB
# shared string took 1.3 GB. 100 MB is several million distinct cell texts.
MAX_SHARED_STRINGS = 100 << 20
_OS_ERRORS = {
    errno.ENOENT: "tệp không tồn tại",
    errno.EACCES: "không có quyền đọc tệp",
    errno.EISDIR: "đây là một thư mục, không phải tệp",
}


@dataclass(frozen=True)
class Limits:
    """How much one import file may hold. `max_bytes`: a CSV file's size, an XLSX file's
    total decompressed size; `max_rows` counts every row up to the last (header included);
    `max_columns` cells per row."""

    max_bytes: int
    max_rows: int
    max_columns: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_bytes=settings.CCHC_IMPORT_MAX_BYTES,
            max_rows=settings.CCHC_IMPORT_MAX_ROWS,
            max_columns=settings.CCHC_IMPORT_MAX_COLUMNS,
        )


def _too_large(message: str) -> InvalidInput:
    return InvalidInput(message, code="import.too_large")


def _size(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB".replace(",", ".") if n >= 1 << 20 else f"{n:,} byte"


def _count(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _check_csv_size(stream: IO[bytes], limits: Limits) -> None:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if size > limits.max_bytes:
        raise _too_large(
            f"Tệp quá lớn: {_size(size)}, tối đa {_size(limits.max_bytes)} "
            "(CCHC_IMPORT_MAX_BYTES). Hãy chia tệp thành nhiều phần."
        )


def _check_xlsx_archive(stream: IO[bytes], limits: Limits) -> None:
    """Refuse an XLSX whose parts would decompress past the limits, from the archive's
    directory alone (nothing is decompressed)."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise InvalidInput(
            "Không đọc được tệp Excel: tệp không phải là tệp .xlsx hợp lệ.", code="import.bad_file"
        ) from None
    finally:
        stream.seek(0)
    if len(members) > MAX_ZIP_MEMBERS:
        raise _too_large(
            f"Tệp Excel có {_count(len(members))} thành phần nén, tối đa "
            f"{_count(MAX_ZIP_MEMBERS)}: không phải một bảng tính thông thường."
        )
    total = sum(m.file_size for m in members)
    if total > limits.max_bytes:
        raise _too_large(
            f"Tệp Excel khi giải nén lớn {_size(total)}, tối đa {_size(limits.max_bytes)} "
            "(CCHC_IMPORT_MAX_BYTES). Hãy chia tệp thành nhiều phần hoặc lưu dạng CSV."
        )
    for m in members:
        if m.filename.lower().endswith("sharedstrings.xml") and m.file_size > MAX_SHARED_STRINGS:
            raise _too_large(
                f"Tệp Excel có bảng chuỗi dùng chung lớn {_size(m.file_size)}, tối đa "
                f"{_size(MAX_SHARED_STRINGS)}. Hãy lưu dạng CSV."
            )
        if m.file_size > RATIO_FLOOR and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1):
            raise _too_large(
                f"Tệp Excel có thành phần {m.filename} nén bất thường ({_size(m.file_size)} "
                f"từ {_size(m.compress_size)}): từ chối để bảo vệ hệ thống."
            )


def _check_dimension(rows: int, columns: int, limits: Limits) -> None:
    """The sheet's declared size (may be absent or false: rows are counted while read)."""
    if rows > limits.max_rows or columns > limits.max_columns:
        raise _too_large(
            f"Trang tính khai báo {_count(rows)} dòng × {_count(columns)} cột, tối đa "
            f"{_count(limits.max_rows)} dòng (CCHC_IMPORT_MAX_ROWS) và "
            f"{_count(limits.max_columns)} cột (CCHC_IMPORT_MAX_COLUMNS)."
        )


def _check_shape(line: int, width: int, limits: Limits) -> None:
    if line > limits.max_rows:
        raise _too_large(
            f"Tệp có hơn {_count(limits.max_rows)} dòng (CCHC_IMPORT_MAX_ROWS). "
            "Hãy chia tệp thành nhiều phần."
        )
    if width > limits.max_columns:
        raise _too_large(
            f"Dòng {line}: có {_count(width)} cột, tối đa {_count(limits.max_columns)} "
            "(CCHC_IMPORT_MAX_COLUMNS)."
        )


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


def _csv_rows(stream: IO[bytes], limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    """Records of a CSV stream, read as they come (a file of millions of rows is never held
    in memory)."""
    _check_csv_size(stream, limits)
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
    line = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The csv module's field-size limit (131 072 characters by default): a field
            # that long is a damaged or hostile file, never a real cell (Excel: 32 767).
            raise _too_large(
                f"Dòng {line + 1}: không đọc được ({exc}); một ô dài quá "
                f"{_count(csv.field_size_limit())} ký tự hoặc dấu ngoặc kép không đóng."
            ) from None
        line += 1
        _check_shape(line, len(values), limits)
        yield line, values


def _xlsx_rows(stream: IO[bytes], limits: Limits) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # startup cost: openpyxl loads only for XLSX files

    _check_xlsx_archive(stream, limits)
    try:
        book = load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise InvalidInput(f"Không đọc được tệp Excel: {exc}", code="import.bad_file") from None
    try:
        sheet = book.worksheets[0]
        _check_dimension(sheet.max_row or 0, sheet.max_column or 0, limits)
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            _check_shape(number, len(values), limits)
            yield number, list(values)
    finally:
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
    limits: Limits | None = None,
) -> Iterator[Row]:
    """Yield data rows of a CSV or XLSX file whose header contains every `required` name.

    Header matching ignores case, diacritics and spacing; cells are keyed by the required
    or `known` name a header matches, else by the header as written (NFC). Raises
    InvalidInput if the file cannot be read, is over `limits` (default: the settings) or no
    header row is found in the first rows.
    """
    name, stream = open_source(source, filename)
    try:
        yield from _rows(
            name, stream, list(required), list(known), limits or Limits.from_settings()
        )
    finally:
        if isinstance(source, str | Path):
            stream.close()  # opened here


def _rows(
    name: str, stream: IO[bytes], required: list[str], known: list[str], limits: Limits
) -> Iterator[Row]:
    magic = stream.read(2)
    stream.seek(0)
    is_xlsx = name.lower().endswith((".xlsx", ".xlsm")) or magic == b"PK"
    rows = _xlsx_rows(stream, limits) if is_xlsx else _csv_rows(stream, limits)

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
