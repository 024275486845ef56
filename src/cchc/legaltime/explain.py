"""Structured, Vietnamese explanations of legal-time computations.

Explanations are only built when asked for (``explain=True`` or the ``explain_*``
functions); the fast paths never touch this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from . import provenance
from .calendar import LABOUR_CODE_SOURCE, DayInfo, DayKind, Layer
from .durations import STANDARD_DAY_SECONDS, format_amount
from .instants import from_epoch
from .sessions import format_clock
from .table import DayTable

WEEKDAY_LOWER = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
WEEKDAY_TITLE = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
UNVERIFIED_NOTE = "chưa đối chiếu văn bản pháp lý"


class ItemKind(StrEnum):
    START_RULE = "start_rule"
    SKIPPED_DAY = "skipped_day"
    SWAPPED_WORKDAY = "swapped_workday"
    SATURDAY_RECEPTION = "saturday_reception"
    RULE = "rule"
    PAUSE = "pause"
    EXTENSION = "extension"
    WARNING = "warning"
    PROVISIONAL = "provisional"
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class ExplanationItem:
    """One explained fact; ``text`` is a complete Vietnamese sentence."""

    kind: ItemKind
    text: str
    date: date | None = None
    reason: str | None = None
    source: str | None = None
    verified: bool = True


@dataclass(frozen=True, slots=True)
class Explanation:
    items: tuple[ExplanationItem, ...]

    def texts(self) -> list[str]:
        return [item.text for item in self.items]

    def of_kind(self, kind: ItemKind) -> tuple[ExplanationItem, ...]:
        return tuple(item for item in self.items if item.kind is kind)

    @property
    def provisional(self) -> bool:
        return any(item.kind is ItemKind.PROVISIONAL for item in self.items)

    def __iter__(self) -> Iterator[ExplanationItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __str__(self) -> str:
        return "\n".join(self.texts())


# -- formatting ---------------------------------------------------------------------------


def format_date(day: date, *, title: bool = True) -> str:
    """``"Thứ Năm 08/02/2024"`` (or ``"thứ Năm 08/02/2024"`` with ``title=False``)."""
    names = WEEKDAY_TITLE if title else WEEKDAY_LOWER
    return f"{names[day.weekday()]} {day:%d/%m/%Y}"


def format_instant(value: datetime | int) -> str:
    """``"10:00 thứ Tư 07/02/2024"`` in local time."""
    moment = from_epoch(value) if isinstance(value, int) else value
    clock = moment.hour * 3600 + moment.minute * 60 + moment.second
    return f"{format_clock(clock)} {format_date(moment.date(), title=False)}"


def format_working_time(seconds: int, standard_day: int = STANDARD_DAY_SECONDS) -> str:
    """``"1 giờ 30 phút làm việc"``; whole days also shown in working days."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} giờ"] if hours or not (minutes or secs) else []
    if minutes:
        parts.append(f"{minutes} phút")
    if secs:
        parts.append(f"{secs} giây")
    text = f"{sign}{' '.join(parts)} làm việc"
    if seconds and seconds % (standard_day // 2) == 0:
        days = Decimal(seconds) / Decimal(standard_day)
        text += f" ({format_amount(days)} ngày làm việc)"
    return text


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text


def day_reason(info: DayInfo) -> str:
    """Why a day is (not) a working day, in Vietnamese, without the date."""
    if info.kind is DayKind.OFF:
        if info.weekend:
            reason = "nghỉ cuối tuần"
            if info.also:
                reason += f", trùng {info.also}"
            if info.reception and info.working:
                reason = "tiếp nhận hồ sơ buổi sáng thứ Bảy, được tính vào thời gian giải quyết"
            elif info.reception:
                reason += ", chỉ tiếp nhận hồ sơ buổi sáng, không tính vào thời gian giải quyết"
        else:
            name = info.name
            reason = _lower_first(name) if name.lower().startswith("nghỉ") else f"nghỉ {name}"
            if info.swapped_with is not None:
                reason += f" (hoán đổi, làm bù {format_date(info.swapped_with, title=False)})"
    elif info.weekend:
        if info.swapped_with is not None:
            reason = f"ngày làm việc bù cho {format_date(info.swapped_with, title=False)}"
        else:
            reason = f"ngày làm việc ({info.name})"
    elif info.layer is not Layer.WEEKLY:
        reason = f"ngày làm việc ({info.name})"
    else:
        reason = "ngày làm việc"
    if info.note and info.layer is not Layer.WEEKLY and not (info.weekend and not info.working):
        reason += f"; {info.note}"
    if not info.verified:
        reason += f" ({UNVERIFIED_NOTE})"
    if info.provisional and info.layer is Layer.STATUTORY:
        reason += " (tạm tính)"
    return reason


def day_text(info: DayInfo) -> str:
    text = f"{format_date(info.date)}: {day_reason(info)}"
    show_source = info.source and not (info.weekend and info.kind is DayKind.OFF)
    if show_source:
        text += f" — {info.source}"
    return text


def day_items(table: DayTable, first: int, last: int) -> list[ExplanationItem]:
    """Skipped non-working days and counted weekend days between two day indexes."""
    items: list[ExplanationItem] = []
    for i in range(first, last + 1):
        info = table.infos[i]
        if not info.working:
            kind = ItemKind.SKIPPED_DAY
        elif info.weekend and info.kind is DayKind.WORK:
            kind = ItemKind.SWAPPED_WORKDAY
        elif info.weekend:
            kind = ItemKind.SATURDAY_RECEPTION
        else:
            continue
        items.append(
            ExplanationItem(
                kind=kind,
                text=day_text(info),
                date=info.date,
                reason=day_reason(info),
                source=info.source or None,
                verified=info.verified,
            )
        )
    return items


def provisional_items(table: DayTable, first: int, last: int) -> list[ExplanationItem]:
    years = sorted({table.infos[i].date.year for i in range(first, last + 1)})
    items = []
    for year in years:
        if table.infos[table.index_of(date(year, 1, 1))].provisional:
            items.append(
                ExplanationItem(
                    kind=ItemKind.PROVISIONAL,
                    text=provenance.provisional_year_text(year),
                    date=date(year, 1, 1),
                    reason="tạm tính",
                    source=provenance.package_source(LABOUR_CODE_SOURCE),
                    verified=False,
                )
            )
    return items


GLOBAL_CUTOFF = "giờ chốt chung của lịch làm việc"
PROCEDURE_CUTOFF = "giờ chốt riêng của thủ tục"


def cutoff_origin(table: DayTable) -> str:
    """Where the table's reception cut-off comes from, in words: the calendar's own (the
    global setting) or a procedure's rule with its source."""
    if not table.cutoff_source:
        return GLOBAL_CUTOFF
    text = f"{PROCEDURE_CUTOFF}, theo {table.cutoff_source}"
    if not table.cutoff_verified:
        text += f", {UNVERIFIED_NOTE}"
    return text


def start_item(table: DayTable, received: int, start: int) -> ExplanationItem:
    """The start-of-clock rule applied to a receipt instant."""
    i, sec = table.locate(received)
    info = table.infos[i]
    when = format_instant(received)
    begin = format_instant(start)
    cutoff = table.cutoff
    if start == received:
        text = f"Tiếp nhận {when} trong giờ làm việc: bắt đầu tính ngay từ thời điểm tiếp nhận."
        reason = "trong giờ làm việc"
    elif not info.working:
        if info.reception and any(a <= sec < b for a, b in info.reception):
            reason = "buổi tiếp nhận sáng thứ Bảy, không tính vào thời gian giải quyết"
            text = f"Tiếp nhận {when} tại buổi tiếp nhận sáng thứ Bảy (không tính vào thời gian "
            text += f"giải quyết): bắt đầu tính từ {begin}."
        else:
            reason = f"ngày nghỉ: {day_reason(info)}"
            text = f"Tiếp nhận {when} vào ngày nghỉ ({day_reason(info)}): bắt đầu tính từ {begin}."
    elif cutoff is not None and cutoff < sec < table.last_end[i]:
        origin = cutoff_origin(table)
        reason = f"sau giờ chốt nhận hồ sơ {format_clock(cutoff)} ({origin})"
        text = (
            f"Tiếp nhận {when} sau giờ chốt nhận hồ sơ {format_clock(cutoff)} ({origin}): "
            f"bắt đầu tính từ {begin} (ngày làm việc tiếp theo)."
        )
        return ExplanationItem(
            kind=ItemKind.START_RULE,
            text=text,
            date=info.date,
            reason=reason,
            source=table.cutoff_source or None,
            verified=table.cutoff_verified,
        )
    elif table.first_start[i] <= sec < table.last_end[i]:
        reason = "trong giờ nghỉ giữa hai buổi làm việc"
        text = f"Tiếp nhận {when} trong giờ nghỉ trưa: bắt đầu tính từ {begin}."
    else:
        reason = "ngoài giờ làm việc"
        text = f"Tiếp nhận {when} ngoài giờ làm việc: bắt đầu tính từ {begin}."
    return ExplanationItem(kind=ItemKind.START_RULE, text=text, date=info.date, reason=reason)
