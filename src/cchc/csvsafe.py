"""CSV that a spreadsheet opens as data, never as formulas (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or
``@`` (and, after trimming, one that starts with a tab or a carriage return): an applicant
name such as ``=HYPERLINK("http://x","y")`` would become a live link or worse when an
officer opens an export. Following the OWASP rule, such a *text* cell is prefixed with a
single quote, which the spreadsheet shows as a text marker and does not evaluate.

Numbers stay numbers: int, float and Decimal values pass unchanged, and so does text that
is a plain decimal numeral (``-5``, ``-1.5``, ``+84``, ``1e-3``) — the writers turn typed
numbers into such text, and a spreadsheet reads a numeral as a number, never as a formula.

Every CSV the system writes goes through `writer` (tests/test_csv_safety.py fails if a
module calls `csv.writer` or `csv.DictWriter` directly). Pure Python: no Django here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = frozenset("=+-@\t\r")
_NUMERAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def neutralise(value: Any) -> Any:
    """`value` as a safe CSV cell: a string starting with = + - @ tab or CR (and not a
    plain numeral) gets a leading ``'``; anything else is returned unchanged."""
    if isinstance(value, str) and value[:1] in TRIGGERS and _NUMERAL.fullmatch(value) is None:
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    """Every cell of `row` through `neutralise` (inlined: this runs once per exported cell)."""
    match = _NUMERAL.fullmatch
    return [
        "'" + v if isinstance(v, str) and v[:1] in TRIGGERS and match(v) is None else v for v in row
    ]


class SafeWriter:
    """`csv.writer` whose rows are neutralised cell by cell before they are written."""

    __slots__ = ("_writer",)

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    @property
    def dialect(self) -> Any:
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        write = self._writer.writerow
        for row in rows:
            write(safe_row(row))


def writer(stream: Any, **kwargs: Any) -> SafeWriter:
    """A CSV writer on `stream` (the `csv.writer` arguments) that neutralises every cell."""
    return SafeWriter(stream, **kwargs)
