"""Conversions between aware datetimes and epoch seconds in Vietnamese local time.

The engine works at one-second resolution on integer epoch seconds. Local time is
Asia/Ho_Chi_Minh, which has been a fixed UTC+07:00 offset without DST since 1975; the
engine uses that fixed offset consistently (``VN_TZ``). Sub-second parts of input
instants are truncated.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from .errors import BadInstant

VN_TZ = timezone(timedelta(hours=7))
UTC_OFFSET_SECONDS = 7 * 3600
DAY_SECONDS = 86400
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def to_epoch(value: datetime, what: str = "Thời điểm") -> int:
    """Return the epoch seconds of an aware datetime; naive datetimes are rejected."""
    if not isinstance(value, datetime):
        raise BadInstant(f"{what} không hợp lệ: cần kiểu datetime, nhận được {value!r}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise BadInstant(
            f"{what} {value.isoformat(sep=' ')} không có múi giờ: cần thời điểm có múi giờ "
            "Asia/Ho_Chi_Minh (+07:00)."
        )
    return int(value.timestamp())


def from_epoch(seconds: int) -> datetime:
    """Return the aware local (+07:00) datetime of epoch seconds."""
    return datetime.fromtimestamp(seconds, VN_TZ)


def day_number(value: date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return value.toordinal() - EPOCH_ORDINAL


def date_of_day_number(number: int) -> date:
    return date.fromordinal(number + EPOCH_ORDINAL)


def local_day_number(seconds: int) -> int:
    """Local (+07:00) day number of epoch seconds."""
    return (seconds + UTC_OFFSET_SECONDS) // DAY_SECONDS


def local_date(seconds: int) -> date:
    return date_of_day_number(local_day_number(seconds))


def local_midnight(number: int) -> int:
    """Epoch seconds of local midnight starting day ``number``."""
    return number * DAY_SECONDS - UTC_OFFSET_SECONDS
