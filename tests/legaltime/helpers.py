from __future__ import annotations

from datetime import datetime

from cchc.legaltime import VN_TZ


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """Local (+07:00) instant."""
    return datetime(year, month, day, hour, minute, second, tzinfo=VN_TZ)
