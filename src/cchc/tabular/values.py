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


VN = dt.timezone(dt.timedelta(hours=7))  # Vietnam keeps UTC+7 all year
_DAYS: dict[str, dt.date] = {}  # date texts seen (an export repeats its days many times)


def _day(text_: str) -> dt.date:
    day = _DAYS.get(text_)
    if day is None:
        day = date(text_)
        assert day is not None
        if len(_DAYS) < 100_000:
            _DAYS[text_] = day
    return day


def instant(
    raw: Any, *, formats: tuple[str, ...] = (), end_of_day: bool = False
) -> dt.datetime | None:
    """An instant in Vietnamese local time: 'dd/mm/yyyy HH:MM[:SS]', 'dd/mm/yyyy', ISO
    'yyyy-mm-dd[ HH:MM[:SS]]' (or with 'T'), Excel serial numbers (days with a fraction),
    datetimes and dates, or any of `formats` (strptime patterns, tried first). A value
    without a time of day means the start of that day, or its last second with
    `end_of_day` (an appointment date: the day is the limit)."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw if raw.tzinfo is not None else raw.replace(tzinfo=VN)
    if isinstance(raw, dt.date):
        return _at_day(raw, end_of_day)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if not 1 <= raw < 2_958_466:
            raise CellError(f"'{raw}' không phải là ngày")
        if float(raw).is_integer():
            return _at_day(EXCEL_EPOCH + dt.timedelta(days=int(raw)), end_of_day)
        moment = dt.datetime(1899, 12, 30) + dt.timedelta(seconds=round(float(raw) * 86400))
        return moment.replace(tzinfo=VN)
    value = raw.strip() if isinstance(raw, str) else text(raw)
    if value == "":
        return None
    for pattern in formats:
        try:
            parsed = dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
        if not any(code in pattern for code in ("%H", "%I", "%M")):
            return _at_day(parsed.date(), end_of_day)
        return parsed.replace(tzinfo=VN)
    day_part, _, time_part = value.replace("T", " ", 1).partition(" ")
    try:
        day = _day(day_part)
    except CellError:
        raise CellError(
            f"ngày '{value}' không hợp lệ, cần dạng dd/mm/yyyy hoặc dd/mm/yyyy HH:MM"
        ) from None
    time_part = time_part.strip()
    if not time_part:
        return _at_day(day, end_of_day)
    pieces = time_part.split(":")
    try:
        if len(pieces) not in (2, 3):
            raise ValueError
        hour, minute = int(pieces[0]), int(pieces[1])
        second = int(float(pieces[2])) if len(pieces) == 3 else 0
        return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=VN)
    except ValueError:
        raise CellError(f"giờ '{time_part}' không hợp lệ, cần dạng HH:MM") from None


def _at_day(day: dt.date, end_of_day: bool) -> dt.datetime:
    if end_of_day:
        return dt.datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=VN)
    return dt.datetime(day.year, day.month, day.day, tzinfo=VN)
