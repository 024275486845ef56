"""Reading CSV and XLSX files as (line number, row) pairs keyed by header names.

Real exports put a title block above the header, leave empty rows, sign off with a footer
(totals, "Người lập biểu", the place and date, signatures) and mix Unicode forms; the
reader finds the header row by the expected column names, normalises header names to NFC
and yields only data rows. The other lines are counted, by kind, in a `Skipped` tally
(title block, blank lines, footer) so an import can report them as skipped, never as
refused data. Line numbers are spreadsheet row numbers (1-based, a record with multi-line
cells counts once), so error messages point at the row the user sees in Excel, for CSV and
XLSX alike.

CSV files may be UTF-8 (with or without BOM) or Windows-1258, separated by semicolons, tabs
or commas. The separator is the one under which a line of the file's head carries every
expected header name (`_delimiter`): a vendor's title lines carry fewer separators than
its header row (or commas inside their text), which defeats a generic sniffer.

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
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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


# Kinds of skipped lines, with their Vietnamese names (import summaries).
SKIP_KINDS = {
    "title": "tiêu đề",  # above the header row, and a column-numbering row below it
    "blank": "dòng trống",  # empty lines before the last non-empty one (not trailing ones)
    "footer": "chân trang",  # totals, "Người lập biểu", place and date, signatures, notes
}
SKIPPED_RANGES_KEPT = 200


@dataclass
class Skipped:
    """The lines of a file that are not data, by kind, and where they are (as ranges of
    consecutive lines of one kind, the first `SKIPPED_RANGES_KEPT` of them)."""

    title: int = 0
    blank: int = 0
    footer: int = 0
    ranges: list[list[Any]] = field(default_factory=list)  # [first, last, kind]

    @property
    def total(self) -> int:
        return self.title + self.blank + self.footer

    def add(self, line: int, kind: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        last = self.ranges[-1] if self.ranges else None
        if last is not None and last[2] == kind and last[1] == line - 1:
            last[1] = line
        elif len(self.ranges) < SKIPPED_RANGES_KEPT:
            self.ranges.append([line, line, kind])

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "title": self.title,
            "blank": self.blank,
            "footer": self.footer,
            "ranges": [list(r) for r in self.ranges],
        }

    def summary(self) -> str:
        """Vietnamese, e.g. "dòng 1–6 (tiêu đề), 18 (dòng trống), 19–25 (chân trang)"."""
        return describe_skipped(self.as_dict())


def describe_skipped(data: dict[str, Any] | None) -> str:
    """`Skipped.summary` of a tally's `as_dict` form (as an import run keeps it)."""
    if not data or not data.get("total"):
        return ""
    parts = [
        (f"{a}–{b}" if a != b else f"{a}") + f" ({SKIP_KINDS.get(kind, kind)})"
        for a, b, kind in data.get("ranges", [])
    ]
    shown = sum(b - a + 1 for a, b, _ in data.get("ranges", []))
    more = data["total"] - shown
    return "dòng " + ", ".join(parts) + (f" và {_count(more)} dòng khác" if more > 0 else "")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


# Footer lines, by the start of one of their cells (folded): totals, who drew up and who
# signs the report, signing formulas, the place and date line, notes.
_FOOTER = re.compile(
    r"^(?:tong cong|tong so|tong:|tong$|cong:|cong$|nguoi lap|nguoi ky|nguoi duyet|nguoi kiem tra|"
    r"nguoi tong hop|thu truong|lanh dao|giam doc|pho giam doc|chu tich|pho chu tich|"
    r"truong phong|truong bo phan|ke toan|can bo|ky ten|\(ky|ky,|ky ghi ro|da ky|xac nhan|"
    r"noi nhan|ghi chu|luu:|kt\. |tm\. |tl\. |q\. |ket thuc)"
)
# "Bắc Giang, ngày 30 tháng 6 năm 2024", "Ngày … tháng … năm …" (folded).
_DATELINE = re.compile(r"(?:^|, )ngay[\s.…_/-]*\d*[\s.…_/-]*thang[\s.…_/-]*\d*[\s.…_/-]*nam\b")
# A column-numbering row under the header: (1) (2) (3) … or A B 1 2 3 …
_NUMBERING = re.compile(r"\(?(?:\d{1,3}|[a-z])\)?")


def _is_footer(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, str) and value.strip():
            word = fold(value)
            if _FOOTER.match(word) or _DATELINE.search(word):
                return True
    return False


def _is_numbering(values: list[Any]) -> bool:
    cells = [v for v in values if not _blank(v)]
    return len(cells) >= 3 and all(
        _NUMBERING.fullmatch(fold(str(v))) or (isinstance(v, int) and 0 < v < 1000) for v in cells
    )


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


DELIMITERS = (";", "\t", ",")


def _delimiter(head: str, wanted: set[str]) -> str | None:
    """The separator under which a line among the first HEADER_SEARCH_ROWS of `head` holds
    every `wanted` (folded) header name: the earliest such line wins, then the widest.
    None if no separator gives such a line."""
    best: tuple[int, int, str] | None = None
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)
        try:
            for number, values in enumerate(reader, start=1):
                if number > HEADER_SEARCH_ROWS:
                    break
                if wanted <= {fold(v) for v in values}:
                    if best is None or (number, -len(values)) < (best[0], best[1]):
                        best = (number, -len(values), delimiter)
                    break
        except csv.Error:
            continue
    return best[2] if best is not None else None


def _csv_rows(
    stream: IO[bytes], limits: Limits, wanted: set[str]
) -> Iterator[tuple[int, list[Any]]]:
    """Records of a CSV stream, read as they come (a file of millions of rows is never held
    in memory)."""
    _check_csv_size(stream, limits)
    sample = stream.read(65536)
    stream.seek(0)
    encoding = _encoding(sample)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    head = sample.decode(encoding, errors="ignore")
    if encoding == "utf-8-sig":
        head = head.removeprefix("\ufeff")
    delimiter = _delimiter(head, wanted)
    dialect: Any
    if delimiter is not None:
        dialect = csv.excel
    else:
        # No line carries the header (the reader then says so): read as the sniffer sees it.
        try:
            dialect = csv.Sniffer().sniff(head[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
    # Windows-1258 writes tone marks as combining characters: cells are composed (NFC) as
    # a UTF-8 export of the same table would have them.
    composing = encoding == "cp1258"
    reader = (
        csv.reader(text, dialect, delimiter=delimiter)
        if delimiter is not None
        else csv.reader(text, dialect)
    )
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
        if composing:
            values = [unicodedata.normalize("NFC", v) for v in values]
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
    skipped: Skipped | None = None,
) -> Iterator[Row]:
    """Yield data rows of a CSV or XLSX file whose header contains every `required` name.

    Header matching ignores case, diacritics and spacing; cells are keyed by the required
    or `known` name a header matches, else by the header as written (NFC). Lines that are
    not data are counted in `skipped` (if given) and not yielded:

    * the title block above the header row, and a column-numbering row right below it;
    * blank lines (those after the last non-empty line are not counted);
    * footer lines: a line that fills at most half of the `required` columns and starts a
      cell with a footer phrase (Tổng cộng, Người lập biểu, Thủ trưởng đơn vị, "(Ký, ghi rõ
      họ tên)", "…, ngày … tháng … năm …", Ghi chú, …), and the sparse lines that follow
      it (the signatories' names); a line filling more than half the required columns is
      data again (a subtotal between groups of rows does not end the data).

    Raises InvalidInput if the file cannot be read, is over `limits` (default: the settings)
    or no header row is found in the first rows.
    """
    name, stream = open_source(source, filename)
    try:
        yield from _rows(
            name,
            stream,
            list(required),
            list(known),
            limits or Limits.from_settings(),
            skipped if skipped is not None else Skipped(),
        )
    finally:
        if isinstance(source, str | Path):
            stream.close()  # opened here


def _rows(
    name: str,
    stream: IO[bytes],
    required: list[str],
    known: list[str],
    limits: Limits,
    skipped: Skipped,
) -> Iterator[Row]:
    magic = stream.read(2)
    stream.seek(0)
    is_xlsx = name.lower().endswith((".xlsx", ".xlsm")) or magic == b"PK"
    wanted = {fold(h): h for h in required}
    rows = _xlsx_rows(stream, limits) if is_xlsx else _csv_rows(stream, limits, set(wanted))

    names = {**{fold(h): h for h in known}, **wanted}
    header: list[str] | None = None
    keys: list[int] = []  # positions of the required columns
    blanks: list[int] = []  # blank lines not counted yet (trailing ones never are)
    under_header = False  # the line right below the header (a column-numbering row?)
    footer = False  # inside a footer: sparse lines are its lines too
    for line, values in rows:
        if all(_blank(v) for v in values):
            blanks.append(line)
            continue
        for blank in blanks:
            skipped.add(blank, "blank")
        blanks.clear()
        if header is None:
            if line > HEADER_SEARCH_ROWS:
                break
            folded = [fold(str(v)) if v is not None else "" for v in values]
            if set(wanted) <= set(folded):
                header = [
                    names.get(f, nfc(str(v)) if v is not None else "")
                    for f, v in zip(folded, values, strict=True)
                ]
                keys = [i for i, f in enumerate(folded) if f in wanted]
                under_header = True
            else:
                skipped.add(line, "title")
            continue
        if under_header:
            under_header = False
            if _is_numbering(values):
                skipped.add(line, "title")
                continue
        filled = sum(1 for i in keys if i < len(values) and not _blank(values[i]))
        if filled * 2 <= len(keys) and (footer or _is_footer(values)):
            footer = True
            skipped.add(line, "footer")
            continue
        footer = False
        cells = {h: v for h, v in zip(header, values, strict=False) if h}
        yield Row(line, cells)
    if header is None:
        missing = ", ".join(sorted(wanted.values()))
        raise InvalidInput(
            f"Không tìm thấy dòng tiêu đề có đủ các cột: {missing}", code="import.no_header"
        )
