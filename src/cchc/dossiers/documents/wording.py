"""Vietnamese wording of dates, times and places on printed forms (local Vietnam time)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from cchc.legaltime import VN_TZ
from cchc.legaltime.explain import WEEKDAY_LOWER

if TYPE_CHECKING:
    from cchc.org.models import AdministrativeUnit


def local(instant: dt.datetime | None) -> dt.datetime | None:
    """`instant` in Asia/Ho_Chi_Minh (None stays None)."""
    return instant.astimezone(VN_TZ) if instant is not None else None


def long_date(day: dt.date) -> str:
    """`ngày 03 tháng 06 năm 2024`, as on administrative documents."""
    return f"ngày {day:%d} tháng {day:%m} năm {day:%Y}"


def clock(instant: dt.datetime) -> str:
    """`09 giờ 00 phút` (local time)."""
    moment = local(instant)
    return f"{moment:%H} giờ {moment:%M} phút"


def moment_words(instant: dt.datetime, *, weekday: bool = False) -> str:
    """`09 giờ 00 phút, ngày 03 tháng 06 năm 2024` (optionally with the weekday)."""
    moment = local(instant)
    day = f"{WEEKDAY_LOWER[moment.weekday()]}, " if weekday else ""
    return f"{clock(moment)}, {day}{long_date(moment.date())}"


def short(instant: dt.datetime | None) -> str:
    """`09:00 ngày 03/06/2024`; empty for None."""
    moment = local(instant)
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y}" if moment else ""


def place_name(unit: AdministrativeUnit | None) -> str:
    """The place on the date line: the unit's name without its kind (`Tỉnh Bắc Giang` →
    `Bắc Giang`)."""
    name = unit.name if unit is not None else ""
    kind = getattr(unit, "kind", "") or ""
    if kind and name.lower().startswith(kind.lower() + " "):
        return name[len(kind) + 1 :]
    return name


def place_and_date(unit: AdministrativeUnit | None, day: dt.date) -> str:
    """`Bắc Giang, ngày 03 tháng 06 năm 2024`."""
    place = place_name(unit)
    return f"{place}, {long_date(day)}" if place else long_date(day).capitalize()
