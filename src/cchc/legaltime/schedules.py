"""Loading decreed schedule data files (TOML) and the default civil-service calendar.

The format is documented in the header of every shipped file
(``cchc/legaltime/data/vn-civil-service-YYYY.toml``).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from importlib import resources
from pathlib import Path
from typing import Any

from .calendar import Calendar, DayKind, DayOverride, Layer, WeeklyPattern
from .errors import BadCalendar
from .sessions import SessionPlan

DEFAULT_CODE = "vn-civil-service"
_ENTRY_KEYS = {"date", "kind", "name", "source", "verified", "note", "swapped_with"}
_TOP_KEYS = {"schema", "calendar", "year", "title", "day"}


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """The decreed entries of one year for one calendar code."""

    calendar: str
    year: int
    title: str
    entries: tuple[DayOverride, ...]
    digest: str


def parse_schedule(
    text: str, *, origin: str = "<chuỗi>", layer: Layer = Layer.DECREE
) -> YearSchedule:
    """Parse one schedule file's text; every inconsistency raises :class:`BadCalendar`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadCalendar(f"Tệp lịch {origin} không đúng cú pháp TOML: {exc}.") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise BadCalendar(f"Tệp lịch {origin} có khóa không hỗ trợ: {', '.join(sorted(unknown))}.")
    if data.get("schema") != 1:
        raise BadCalendar(f"Tệp lịch {origin}: chỉ hỗ trợ schema = 1.")
    year = data.get("year")
    code = data.get("calendar")
    if not isinstance(year, int) or not isinstance(code, str) or not code:
        raise BadCalendar(f"Tệp lịch {origin}: thiếu year (số nguyên) hoặc calendar (mã lịch).")
    entries = [_entry(raw, origin, year, layer) for raw in data.get("day", [])]
    by_date: dict[date, DayOverride] = {}
    for entry in entries:
        if entry.date in by_date:
            raise BadCalendar(f"Tệp lịch {origin}: ngày {entry.date:%d/%m/%Y} khai báo hai lần.")
        by_date[entry.date] = entry
    for entry in entries:
        if entry.swapped_with is None:
            continue
        other = by_date.get(entry.swapped_with)
        if other is None or other.kind is entry.kind or other.swapped_with != entry.date:
            raise BadCalendar(
                f"Tệp lịch {origin}: ngày {entry.date:%d/%m/%Y} hoán đổi với "
                f"{entry.swapped_with:%d/%m/%Y} nhưng không có mục tương ứng (khác loại, trỏ "
                "ngược lại)."
            )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return YearSchedule(
        calendar=code,
        year=year,
        title=str(data.get("title", "")),
        entries=tuple(sorted(entries, key=lambda e: e.date)),
        digest=digest,
    )


def _entry(raw: Any, origin: str, year: int, layer: Layer) -> DayOverride:
    if not isinstance(raw, dict):
        raise BadCalendar(f"Tệp lịch {origin}: mỗi [[day]] phải là một bảng.")
    unknown = set(raw) - _ENTRY_KEYS
    where = f"Tệp lịch {origin}, mục {raw.get('date', '?')}"
    if unknown:
        raise BadCalendar(f"{where}: khóa không hỗ trợ {', '.join(sorted(unknown))}.")
    day = raw.get("date")
    if not isinstance(day, date) or isinstance(day, datetime):
        raise BadCalendar(f"{where}: date phải là ngày dạng YYYY-MM-DD.")
    if day.year != year:
        raise BadCalendar(f"{where}: ngày không thuộc năm {year}.")
    kind = raw.get("kind")
    if kind not in ("off", "work"):
        raise BadCalendar(f'{where}: kind phải là "off" hoặc "work".')
    name, source = raw.get("name"), raw.get("source")
    if not isinstance(name, str) or not name.strip():
        raise BadCalendar(f"{where}: thiếu name.")
    if not isinstance(source, str) or not source.strip():
        raise BadCalendar(f"{where}: thiếu source (số hiệu và ngày văn bản).")
    verified = raw.get("verified", True)
    note = raw.get("note", "")
    swapped = raw.get("swapped_with")
    if not isinstance(verified, bool) or not isinstance(note, str):
        raise BadCalendar(f"{where}: verified phải là true/false, note phải là chuỗi.")
    if swapped is not None and not isinstance(swapped, date):
        raise BadCalendar(f"{where}: swapped_with phải là ngày dạng YYYY-MM-DD.")
    return DayOverride(
        date=day,
        kind=DayKind(kind),
        name=name,
        source=source,
        layer=layer,
        verified=verified,
        note=note,
        swapped_with=swapped,
    )


def load_schedule(path: str | Path, *, layer: Layer = Layer.DECREE) -> YearSchedule:
    file = Path(path)
    return parse_schedule(file.read_text(encoding="utf-8"), origin=file.name, layer=layer)


def shipped_schedules(code: str = DEFAULT_CODE) -> list[YearSchedule]:
    """The schedule files shipped in ``cchc/legaltime/data`` for calendar ``code``."""
    folder = resources.files("cchc.legaltime").joinpath("data")
    result = []
    for item in sorted(folder.iterdir(), key=lambda f: f.name):
        if item.name.startswith(f"{code}-") and item.name.endswith(".toml"):
            schedule = parse_schedule(item.read_text(encoding="utf-8"), origin=item.name)
            if schedule.calendar != code:
                raise BadCalendar(f"Tệp lịch {item.name} khai báo mã lịch {schedule.calendar}.")
            result.append(schedule)
    return result


def calendar_from_schedules(
    schedules: Iterable[YearSchedule],
    *,
    code: str,
    version: str | None = None,
    local_overrides: Iterable[DayOverride] = (),
    weekly: WeeklyPattern | None = None,
    sessions: SessionPlan | None = None,
    cutoff: time | None = None,
    saturday_reception: bool = False,
    saturday_advances_clock: bool = False,
    provisional_years_ok: bool = False,
) -> Calendar:
    """Build a calendar whose coverage is the years of ``schedules``."""
    items = list(schedules)
    years = [s.year for s in items]
    if len(set(years)) != len(years):
        raise BadCalendar("Mỗi năm chỉ được có một tệp lịch.")
    if version is None:
        digest = hashlib.sha256("".join(s.digest for s in items).encode()).hexdigest()[:12]
        span = f"{min(years)}-{max(years)}" if years else "none"
        version = f"{code}:{span}:{digest}"
    return Calendar(
        code=code,
        version=version,
        weekly=weekly,
        sessions=sessions,
        overrides=[*(e for s in items for e in s.entries), *local_overrides],
        covered_years=years,
        cutoff=cutoff,
        saturday_reception=saturday_reception,
        saturday_advances_clock=saturday_advances_clock,
        provisional_years_ok=provisional_years_ok,
    )


_DEFAULT: Calendar | None = None


def default_calendar(
    *,
    cutoff: time | None = None,
    saturday_reception: bool = False,
    saturday_advances_clock: bool = False,
    provisional_years_ok: bool = False,
    sessions: SessionPlan | None = None,
) -> Calendar:
    """The Vietnamese civil-service calendar from the shipped data (cached when unchanged)."""
    global _DEFAULT
    plain = (
        cutoff is None
        and not saturday_reception
        and not saturday_advances_clock
        and not provisional_years_ok
        and sessions is None
    )
    if plain and _DEFAULT is not None:
        return _DEFAULT
    calendar = calendar_from_schedules(
        shipped_schedules(DEFAULT_CODE),
        code=DEFAULT_CODE,
        cutoff=cutoff,
        saturday_reception=saturday_reception,
        saturday_advances_clock=saturday_advances_clock,
        provisional_years_ok=provisional_years_ok,
        sessions=sessions,
    )
    if plain:
        _DEFAULT = calendar
    return calendar
