"""Layered working calendars.

A day's status is resolved from four layers, later layers winning:

1. the weekly pattern (Mon-Fri working by default; optional Saturday-morning reception);
2. statutory holidays from ``holidays.country_holidays("VN")`` (Vietnamese lunar calendar);
3. decreed schedules (``Layer.DECREE`` overrides: extra days off, swapped working weekends);
4. local overrides (``Layer.LOCAL``: e.g. storm closures of a province or a desk).

A calendar has a *coverage*: the years for which it holds decreed schedule data. Any
computation that needs a day of another year raises :class:`CalendarCoverageError`, unless
the calendar allows provisional years (then layers 1, 2 and 4 alone are used and results
are marked as provisional, "tạm tính").
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar

import holidays

from . import provenance
from .errors import BadCalendar, CalendarCoverageError
from .sessions import SessionPlan, SessionSeconds, format_clock
from .table import DayTable, NeedYear

T = TypeVar("T")

MIN_YEAR = 1976
MAX_YEAR = 2199
LABOUR_CODE_SOURCE = "Bộ luật Lao động 2019, Điều 112"

WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


class DayKind(StrEnum):
    OFF = "off"
    WORK = "work"


class Layer(StrEnum):
    WEEKLY = "weekly"
    STATUTORY = "statutory"
    DECREE = "decree"
    LOCAL = "local"


@dataclass(frozen=True, slots=True)
class WeeklyPattern:
    """Working weekdays (0 = Monday ... 6 = Sunday); default Monday to Friday."""

    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})

    def __post_init__(self) -> None:
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        if not self.working_days or not self.working_days <= set(range(7)):
            raise BadCalendar("Mẫu tuần làm việc phải gồm các thứ từ 0 (thứ Hai) đến 6 (Chủ nhật).")


@dataclass(frozen=True, slots=True)
class DayOverride:
    """A decreed (layer 3) or local (layer 4) day: a day off or a working day.

    ``swapped_with`` links the two days of a swap (the working Saturday and the weekday off).
    ``verified`` is false for entries not yet checked against a legal text.
    """

    date: date
    kind: DayKind
    name: str
    source: str = ""
    layer: Layer = Layer.DECREE
    verified: bool = True
    note: str = ""
    swapped_with: dt.date | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", DayKind(self.kind))
            object.__setattr__(self, "layer", Layer(self.layer))
        except ValueError:
            raise BadCalendar(
                f"Ngày {self.date:%d/%m/%Y}: loại ngày phải là off/work và tầng phải là "
                f"decree/local (nhận {self.kind!r}, {self.layer!r})."
            ) from None
        if self.layer in (Layer.WEEKLY, Layer.STATUTORY):
            raise BadCalendar(
                f"Ngày {self.date:%d/%m/%Y}: điều chỉnh lịch chỉ thuộc tầng decree hoặc local."
            )
        if not self.name.strip():
            raise BadCalendar(f"Ngày {self.date:%d/%m/%Y}: thiếu tên ngày nghỉ/ngày làm việc.")


@dataclass(frozen=True, slots=True)
class DayInfo:
    """The resolved status of one day."""

    date: date
    working: bool
    sessions: tuple[SessionSeconds, ...]
    kind: DayKind
    layer: Layer
    weekend: bool
    name: str
    source: str
    verified: bool = True
    note: str = ""
    swapped_with: dt.date | None = None
    reception: tuple[SessionSeconds, ...] = ()
    provisional: bool = False
    also: str = field(default="")

    @property
    def weekday_name(self) -> str:
        return WEEKDAY_NAMES[self.date.weekday()]


def _normalise_holiday_name(name: str) -> str:
    return name.replace("Nguyên Đán", "Nguyên đán").replace("; ", ", ")


def _years_text(years: Iterable[int]) -> str:
    ordered = sorted(years)
    if not ordered:
        return "chưa có năm nào"
    if ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 1:
        return f"{ordered[0]}–{ordered[-1]}"
    return ", ".join(str(y) for y in ordered)


class Calendar:
    """A working calendar built from plain data (so it can be rebuilt from database rows).

    Instances are immutable in behaviour; the per-day lookup table is computed lazily,
    cached and extended on demand (thread-safe).
    """

    def __init__(
        self,
        *,
        code: str,
        version: str,
        weekly: WeeklyPattern | None = None,
        sessions: SessionPlan | None = None,
        overrides: Iterable[DayOverride] = (),
        covered_years: Iterable[int] = (),
        cutoff: time | None = None,
        saturday_reception: bool = False,
        saturday_advances_clock: bool = False,
        provisional_years_ok: bool = False,
        statutory_holidays: bool = True,
        name: str = "",
    ) -> None:
        self.code = code
        self.version = version
        self.name = name
        self.weekly = weekly if weekly is not None else WeeklyPattern()
        self.sessions = sessions if sessions is not None else SessionPlan()
        self.covered_years = frozenset(int(y) for y in covered_years)
        self.cutoff = cutoff
        self.saturday_reception = saturday_reception
        self.saturday_advances_clock = saturday_advances_clock
        self.provisional_years_ok = provisional_years_ok
        self.statutory_holidays = statutory_holidays
        if saturday_advances_clock and not saturday_reception:
            raise BadCalendar("Chỉ tính giờ thứ Bảy vào thời hạn khi có tiếp nhận sáng thứ Bảy.")
        if cutoff is not None and cutoff.tzinfo is not None:
            raise BadCalendar("Giờ chốt nhận hồ sơ phải là giờ địa phương, không kèm múi giờ.")
        for year in self.covered_years:
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise BadCalendar(f"Năm {year} nằm ngoài phạm vi hỗ trợ ({MIN_YEAR}–{MAX_YEAR}).")
        self._overrides: dict[Layer, dict[date, DayOverride]] = {
            Layer.DECREE: {},
            Layer.LOCAL: {},
        }
        for override in overrides:
            bucket = self._overrides[override.layer]
            if override.date in bucket:
                raise BadCalendar(
                    f"Ngày {override.date:%d/%m/%Y} được khai báo hai lần ở tầng "
                    f"{override.layer.value}."
                )
            bucket[override.date] = override
        self._years: dict[int, list[DayInfo]] = {}
        self._table: DayTable | None = None
        self._lock = threading.Lock()
        # A calendar made by `with_cutoff` keeps its base: same days, another cut-off.
        self._base: Calendar | None = None
        self.cutoff_source = ""
        self.cutoff_verified = True
        self._twins: dict[tuple[time, str, bool], Calendar] = {}

    # -- construction helpers -------------------------------------------------------------

    @property
    def overrides(self) -> tuple[DayOverride, ...]:
        items = [*self._overrides[Layer.DECREE].values(), *self._overrides[Layer.LOCAL].values()]
        return tuple(sorted(items, key=lambda o: (o.date, o.layer != Layer.DECREE)))

    def _arguments(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "version": self.version,
            "weekly": self.weekly,
            "sessions": self.sessions,
            "overrides": self.overrides,
            "covered_years": self.covered_years,
            "cutoff": self.cutoff,
            "saturday_reception": self.saturday_reception,
            "saturday_advances_clock": self.saturday_advances_clock,
            "provisional_years_ok": self.provisional_years_ok,
            "statutory_holidays": self.statutory_holidays,
            "name": self.name,
        }

    def replace(self, **changes: Any) -> Calendar:
        """A new calendar with some constructor arguments changed."""
        arguments = self._arguments()
        unknown = set(changes) - set(arguments)
        if unknown:
            raise TypeError(f"unknown calendar arguments: {sorted(unknown)}")
        arguments.update(changes)
        return Calendar(**arguments)

    def with_cutoff(self, cutoff: time | None, *, source: str, verified: bool = True) -> Calendar:
        """This calendar with another reception cut-off: a procedure's own rule (e.g. a
        request received after 15:00 counted from the next working day). ``None`` keeps the
        calendar's own cut-off (the global setting). ``source`` names the rule (its legal
        basis) for the explanation, ``verified`` says whether that basis was checked. Same
        code, version and days; the twin shares this calendar's resolved days and numpy
        arrays and is cached, so it costs one shallow copy of the day table per cut-off."""
        if cutoff is None:
            return self
        if cutoff.tzinfo is not None:
            raise BadCalendar("Giờ chốt nhận hồ sơ phải là giờ địa phương, không kèm múi giờ.")
        base = self._base if self._base is not None else self
        key = (cutoff, source, verified)
        with base._lock:
            twin = base._twins.get(key)
            if twin is None:
                twin = Calendar(**{**base._arguments(), "cutoff": cutoff})
                twin._base = base
                twin._years = base._years
                twin.cutoff_source = source
                twin.cutoff_verified = verified
                base._twins[key] = twin
        return twin

    def with_local_overrides(self, overrides: Iterable[DayOverride], *, version: str) -> Calendar:
        """A copy with additional local (layer 4) overrides, e.g. a desk's storm closures."""
        return self.replace(overrides=(*self.overrides, *overrides), version=version)

    def __repr__(self) -> str:
        return (
            f"Calendar(code={self.code!r}, version={self.version!r}, "
            f"covered_years={_years_text(self.covered_years)!r})"
        )

    @property
    def standard_day_seconds(self) -> int:
        return self.sessions.standard_day_seconds

    # -- coverage -----------------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        return year in self.covered_years

    def allows(self, year: int) -> bool:
        if not MIN_YEAR <= year <= MAX_YEAR:
            return False
        return year in self.covered_years or self.provisional_years_ok

    def coverage_error(self, year: int) -> CalendarCoverageError:
        if not MIN_YEAR <= year <= MAX_YEAR:
            message = (
                f"Năm {year} nằm ngoài phạm vi tính toán được hỗ trợ ({MIN_YEAR}–{MAX_YEAR}) "
                f'của lịch "{self.code}".'
            )
        else:
            message = (
                f'Lịch làm việc chưa có dữ liệu năm {year} (lịch "{self.code}", phiên bản '
                f'"{self.version}"; đã có dữ liệu: {_years_text(self.covered_years)}). Cần bổ '
                f"sung lịch nghỉ lễ, hoán đổi ngày làm việc năm {year} hoặc cho phép tạm tính."
            )
        return CalendarCoverageError(message, year=year)

    def require_year(self, year: int) -> None:
        if not self.allows(year):
            raise self.coverage_error(year)

    # -- day resolution ---------------------------------------------------------------------

    def statutory_for(self, year: int) -> dict[date, str]:
        """Layer 2: statutory holidays of ``year`` from the ``holidays`` package."""
        if not self.statutory_holidays:
            return {}
        table = holidays.country_holidays("VN", years=year, language="vi")
        return {day: _normalise_holiday_name(str(name)) for day, name in sorted(table.items())}

    def _resolve_year(self, year: int) -> list[DayInfo]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        statutory = self.statutory_for(year)
        provisional = year not in self.covered_years
        saturday = self.sessions.saturday_seconds()
        infos: list[DayInfo] = []
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            infos.append(self._resolve_day(day, statutory, saturday, provisional))
            day += one
        self._years[year] = infos
        return infos

    def _resolve_day(
        self,
        day: date,
        statutory: dict[date, str],
        saturday: tuple[SessionSeconds, ...],
        provisional: bool,
    ) -> DayInfo:
        weekend = day.weekday() not in self.weekly.working_days
        kind = DayKind.OFF if weekend else DayKind.WORK
        layer = Layer.WEEKLY
        name = "nghỉ cuối tuần" if weekend else "ngày làm việc"
        source = ""
        verified = True
        note = ""
        swapped_with: dt.date | None = None
        also = ""
        holiday = statutory.get(day)
        if holiday is not None:
            # The package's day: its real source, never verified (`provenance`).
            found = provenance.statutory(day, holiday)
            kind, layer, name, source = DayKind.OFF, Layer.STATUTORY, holiday, found.source
            verified, note = found.verified, found.note
        for level in (Layer.DECREE, Layer.LOCAL):
            override = self._overrides[level].get(day)
            if override is not None:
                kind, layer, name, source = override.kind, level, override.name, override.source
                verified, note, swapped_with = (
                    override.verified,
                    override.note,
                    override.swapped_with,
                )
        if weekend and kind is DayKind.OFF and layer is not Layer.WEEKLY:
            also = name
        reception: tuple[SessionSeconds, ...] = ()
        sessions: tuple[SessionSeconds, ...] = ()
        if kind is DayKind.WORK:
            sessions = self.sessions.sessions_for(day)
        elif layer is Layer.WEEKLY and day.weekday() == 5 and self.saturday_reception and saturday:
            reception = saturday
            if self.saturday_advances_clock:
                sessions = saturday
        return DayInfo(
            date=day,
            working=bool(sessions),
            sessions=sessions,
            kind=kind,
            layer=layer,
            weekend=weekend,
            name=name,
            source=source,
            verified=verified,
            note=note,
            swapped_with=swapped_with,
            reception=reception,
            provisional=provisional,
            also=also,
        )

    def day_info(self, day: date) -> DayInfo:
        """The resolved status of ``day`` (raises if its year is outside coverage)."""
        self.require_year(day.year)
        return self._resolve_year(day.year)[day.timetuple().tm_yday - 1]

    def is_working_day(self, day: date) -> bool:
        return self.day_info(day).working

    def sessions_on(self, day: date) -> tuple[SessionSeconds, ...]:
        return self.day_info(day).sessions

    def describe_sessions(self, day: date) -> str:
        return ", ".join(f"{format_clock(a)}-{format_clock(b)}" for a, b in self.sessions_on(day))

    # -- the lookup table ---------------------------------------------------------------------

    @property
    def cutoff_seconds(self) -> int | None:
        if self.cutoff is None:
            return None
        return self.cutoff.hour * 3600 + self.cutoff.minute * 60 + self.cutoff.second

    def _build_table(self, first_year: int, last_year: int) -> DayTable:
        infos: list[DayInfo] = []
        for year in range(first_year, last_year + 1):
            infos.extend(self._resolve_year(year))
        return DayTable(
            first_year=first_year,
            last_year=last_year,
            infos=infos,
            allowed=self.allows,
            covered=self.covers,
            cutoff=self.cutoff_seconds,
            coverage_error=self.coverage_error,
        )

    def table(self) -> DayTable:
        """The cached per-day lookup table (built on first use)."""
        base = self._base
        if base is not None:
            shared = base.table()
            mine = self._table
            if mine is None or mine.base is not shared:
                mine = self._table = shared.with_cutoff(
                    self.cutoff_seconds, self.cutoff_source, verified=self.cutoff_verified
                )
            return mine
        table = self._table
        if table is not None:
            return table
        with self._lock:
            if self._table is None:
                if self.covered_years:
                    first, last = min(self.covered_years), max(self.covered_years)
                    self._table = self._build_table(first, last)
                else:
                    self._table = DayTable.empty(self.coverage_error)
            return self._table

    def _extend(self, year: int) -> None:
        if self._base is not None:
            self._base._extend(year)
            return
        self.require_year(year)
        with self._lock:
            current = self._table
            if current is None or current.n == 0:
                self._table = self._build_table(year, year)
                return
            if current.first_year <= year <= current.last_year:
                raise self.coverage_error(year)  # pragma: no cover - defensive
            first = min(current.first_year, year)
            last = max(current.last_year, year)
            self._table = self._build_table(first, last)

    def run(self, operation: Callable[[DayTable], T]) -> T:
        """Run ``operation`` on the table, extending it (provisional years) when needed."""
        for _ in range(MAX_YEAR - MIN_YEAR + 2):
            table = self.table()
            try:
                return operation(table)
            except NeedYear as need:
                self._extend(need.year)
        raise self.coverage_error(MAX_YEAR + 1)  # pragma: no cover - defensive
