"""Pure parsing and formatting helpers behind the ``cchc due`` / ``cchc calendar show`` commands."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from .calendar import Calendar, DayKind
from .durations import Duration, as_duration
from .engine import Pause, explain_due
from .errors import BadInstant, BadPause
from .explain import day_reason
from .instants import VN_TZ
from .table import DayTable

_INSTANT_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def parse_instant(text: str) -> datetime:
    """Parse ``2024-02-07T10:00`` / ``2024-02-07 10:00[:SS][+07:00|Z]``; naive = local +07:00."""
    match = _INSTANT_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise BadInstant(
            f'Không đọc được thời điểm "{text}": dùng dạng YYYY-MM-DDTHH:MM hoặc '
            "YYYY-MM-DD HH:MM, có thể kèm giây (:SS) và múi giờ (+07:00).",
            code="legaltime.unparseable_instant",
        )
    year, month, day, hour, minute, second, offset = match.groups()
    if offset is None:
        tz: timezone = VN_TZ
    elif offset == "Z":
        tz = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            raise BadInstant(
                f'Múi giờ không hợp lệ trong "{text}".', code="legaltime.unparseable_instant"
            )
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        value = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz
        )
    except ValueError:
        raise BadInstant(
            f'Thời điểm "{text}" không tồn tại (ngày hoặc giờ sai).',
            code="legaltime.unparseable_instant",
        ) from None
    return value.astimezone(VN_TZ)


def parse_pause(text: str) -> Pause:
    """Parse ``"START/END"`` into an ordered pair of instants."""
    parts = text.split("/") if isinstance(text, str) else []
    if len(parts) != 2:
        raise BadPause(
            f'Không đọc được khoảng tạm dừng "{text}": dùng dạng BẮT_ĐẦU/KẾT_THÚC, ví dụ '
            "2024-02-07T10:00/2024-02-08T09:00.",
            code="legaltime.unparseable_pause",
        )
    start, end = parse_instant(parts[0]), parse_instant(parts[1])
    if end <= start:
        raise BadPause(
            f'Khoảng tạm dừng "{text}" không hợp lệ: thời điểm kết thúc phải sau thời điểm bắt '
            "đầu.",
            code="legaltime.pause_inverted",
        )
    return start, end


def isoformat(value: datetime) -> str:
    """ISO 8601 in local time with ``+07:00``."""
    return value.astimezone(VN_TZ).isoformat()


def due_report(
    calendar: Calendar,
    received: datetime | str,
    duration: Duration | str,
    pauses: Iterable[Pause | str] = (),
) -> dict[str, Any]:
    """JSON-ready due computation with its Vietnamese explanation."""
    instant = parse_instant(received) if isinstance(received, str) else received
    pause_list = [parse_pause(p) if isinstance(p, str) else p for p in pauses]
    parsed = as_duration(duration)
    result = explain_due(calendar, instant, parsed, pause_list)
    explanation = result.explanation.texts() if result.explanation is not None else []
    return {
        "received": isoformat(result.received),
        "duration": str(parsed),
        "duration_label": parsed.label,
        "start": isoformat(result.start),
        "due": isoformat(result.due),
        "original_due": isoformat(result.original_due),
        "paused": result.paused_seconds,
        "paused_label": result.paused.label,
        "provisional": result.provisional,
        "calendar": calendar.code,
        "calendar_version": calendar.version,
        "explanation": explanation,
    }


def calendar_year_report(calendar: Calendar, year: int) -> list[dict[str, Any]]:
    """Every non-working weekday and every working weekend day of ``year``."""
    calendar.require_year(year)

    def run(table: DayTable) -> list[dict[str, Any]]:
        first = table.index_of(date(year, 1, 1))
        last = table.index_of(date(year, 12, 31))
        rows = []
        for i in range(first, last + 1):
            info = table.infos[i]
            off_weekday = not info.weekend and info.kind is DayKind.OFF
            work_weekend = info.weekend and info.kind is DayKind.WORK
            if not (off_weekday or work_weekend):
                continue
            rows.append(
                {
                    "date": info.date.isoformat(),
                    "weekday": info.weekday_name,
                    "kind": info.kind.value,
                    "name": info.name,
                    "reason": day_reason(info),
                    "source": info.source,
                    "verified": info.verified,
                    "layer": info.layer.value,
                    "provisional": info.provisional,
                    "swapped_with": info.swapped_with.isoformat() if info.swapped_with else None,
                }
            )
        return rows

    return calendar.run(run)


__all__ = [
    "calendar_year_report",
    "due_report",
    "isoformat",
    "parse_instant",
    "parse_pause",
]
