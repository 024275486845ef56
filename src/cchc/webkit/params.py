"""Query-string values read by pages and exports: ids, whole numbers, years and days.

One parser for every view, so that a hand-edited or hostile URL gets the same answer
everywhere: an empty value is "not given" (None); anything else that is not a valid value —
letters, a sign, an exponent, an integer beyond the database's 64 bits, day 45 of month 13
— raises InvalidInput with a Vietnamese message naming the field, which pages render as a
400 page (cchc.webkit.request_guard) and the CLI as exit code 2. Nothing out of range ever
reaches the database (SQLite raises OverflowError past 2**63 - 1, PostgreSQL "out of range").
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field

from cchc.errors import InvalidInput

MAX_ID = 2**63 - 1  # BIGINT / SQLite INTEGER: the largest primary key a database holds
YEARS = (1900, 2100)  # years a plan, register or report can be about
_SHOWN = 40  # characters of a refused value quoted back in the message

# The same bounds for API parameters and bodies (django-ninja validates them and publishes
# them in the OpenAPI schema; a value outside answers 422 in the error envelope).
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Whole = Annotated[int, Field(ge=0, le=MAX_ID)]
Year = Annotated[int, Field(ge=YEARS[0], le=YEARS[1])]

_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def shown(raw: Any) -> str:
    """`raw` as it may be quoted in a message: printable, at most 40 characters."""
    text = "".join(c if c.isprintable() else "?" for c in str(raw))
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _clean(raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def whole(raw: Any, label: str, *, low: int = 0, high: int = MAX_ID) -> int | None:
    """A whole number in `low`..`high` written with ASCII digits only (no sign, no
    exponent, no spaces inside); None when empty. Raises InvalidInput otherwise."""
    text = _clean(raw)
    if text is None:
        return None
    # str.isdigit() accepts '²' and other Unicode digits that int() refuses; cap the length
    # before int() so a million digits cost nothing.
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        raise InvalidInput(f"{label} không hợp lệ: {shown(text)} (cần một số nguyên).")
    value = int(text)
    if not low <= value <= high:
        raise InvalidInput(f"{label} không hợp lệ: {shown(text)} (cần từ {low} đến {high}).")
    return value


def record_id(raw: Any, label: str) -> int | None:
    """The id of a record (1 … 2**63 - 1); None when empty; InvalidInput otherwise."""
    text = _clean(raw)
    if text is None:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        raise InvalidInput(f"{label} không hợp lệ: {shown(text)} (cần mã số của bản ghi).")
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{label} không hợp lệ: {shown(text)} (cần mã số của bản ghi).")
    return value


def year(raw: Any, label: str = "Năm") -> int | None:
    """A year in 1900..2100; None when empty; InvalidInput otherwise."""
    return whole(raw, label, low=YEARS[0], high=YEARS[1])


def day(raw: Any, label: str) -> dt.date | None:
    """A day written 2024-06-03 or 03/06/2024; None when empty; InvalidInput otherwise."""
    text = _clean(raw)
    if text is None:
        return None
    iso, dmy = _ISO.fullmatch(text), _DMY.fullmatch(text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dmy:
            return dt.date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
    except ValueError:
        pass
    raise InvalidInput(
        f"{label} không hợp lệ: {shown(text)} (dùng dạng 2024-06-03 hoặc 03/06/2024)."
    )


def query_id(get: Mapping[str, Any], name: str, label: str) -> int | None:
    """`record_id` of the query-string value `name`."""
    return record_id(get.get(name), label)
