"""Parsing cell values the way real exports write them, with Vietnamese error messages.

Each parser takes the raw cell (str, number, date or None) and returns a Python value or
raises `CellError` whose message names what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from cchc.vietnamese import fold, nfc

EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (with its 1900 leap-year bug folded in)


class CellError(ValueError):
    """A cell value that cannot be read; the message is Vietnamese."""


def text(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return nfc(str(raw))


def boolean(raw: Any, *, default: bool = False) -> bool:
    word = fold(text(raw))
    if word == "":
        return default
    if word in {"co", "x", "1", "true", "yes", "dung", "da"}:
        return True
    if word in {"khong", "0", "false", "no", "sai", "chua"}:
        return False
    raise CellError(f"giá trị '{text(raw)}' không hợp lệ, cần 'Có' hoặc 'Không'")


def integer(raw: Any) -> int | None:
    """Whole number; accepts thousands separators '1.500.000', '1,500,000', '1 500 000'."""
    if isinstance(raw, bool):
        raise CellError("cần một số nguyên")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise CellError(f"'{raw}' không phải số nguyên")
    value = text(raw).replace("đồng", "").replace("đ", "").strip()
    if value == "":
        return None
    compact = re.sub(r"[\s.,]", "", value)
    if not re.fullmatch(r"-?\d+", compact):
        raise CellError(f"'{value}' không phải số nguyên")
    return int(compact)


def decimal(raw: Any) -> Decimal | None:
    """A decimal number; ',' or '.' as decimal mark ('0,5' or '0.5')."""
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return Decimal(str(raw))
    value = text(raw)
    if value == "":
        return None
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:
        raise CellError(f"'{value}' không phải là số") from None


_DATE_PATTERNS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")


def date(raw: Any) -> dt.date | None:
    """dd/mm/yyyy (also - or . separated), ISO yyyy-mm-dd, Excel serial numbers, dates."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if 1 <= raw < 2_958_466:
            return EXCEL_EPOCH + dt.timedelta(days=int(raw))
        raise CellError(f"'{raw}' không phải là ngày")
    value = text(raw)
    if value == "":
        return None
    if re.fullmatch(r"\d{4,5}(\.0+)?", value):
        return date(float(value))
    for pattern in _DATE_PATTERNS:
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise CellError(f"ngày '{value}' không hợp lệ, cần dạng dd/mm/yyyy")


def items(raw: Any, *, separators: str = "\n|") -> list[str]:
    """Split a multi-value cell on newlines (Alt+Enter in Excel) or the given separators."""
    value = "" if raw is None else str(raw)
    parts = re.split("[" + re.escape(separators) + "]", value)
    return [nfc(p) for p in parts if nfc(p)]
