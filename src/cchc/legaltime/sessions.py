"""Working sessions of a day, with optional seasonal variants."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from itertools import pairwise

from .errors import BadCalendar

#: A session as (start, end) seconds after local midnight.
SessionSeconds = tuple[int, int]


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def format_clock(seconds: int) -> str:
    """``HH:MM`` (or ``HH:MM:SS`` when seconds are not zero) of seconds after midnight."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if secs:
        return f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{hours:02d}:{minutes:02d}"


@dataclass(frozen=True, slots=True)
class Session:
    """One working session, e.g. ``Session(time(7, 30), time(11, 30))``."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise BadCalendar("Giờ làm việc phải là giờ địa phương, không kèm múi giờ.")
        if _seconds(self.end) <= _seconds(self.start):
            raise BadCalendar(
                f"Buổi làm việc không hợp lệ: giờ kết thúc {self.end:%H:%M} phải sau giờ bắt "
                f"đầu {self.start:%H:%M}."
            )

    @property
    def seconds(self) -> SessionSeconds:
        return (_seconds(self.start), _seconds(self.end))

    @classmethod
    def parse(cls, text: str) -> Session:
        """Parse ``"07:30-11:30"``."""
        try:
            left, right = text.replace("–", "-").split("-")
            return cls(time.fromisoformat(left.strip()), time.fromisoformat(right.strip()))
        except (ValueError, TypeError):
            raise BadCalendar(
                f'Không đọc được buổi làm việc "{text}": dùng dạng HH:MM-HH:MM.'
            ) from None


def _check_sequence(sessions: Sequence[Session], what: str) -> tuple[Session, ...]:
    result = tuple(sessions)
    for before, after in pairwise(result):
        if before.seconds[1] > after.seconds[0]:
            raise BadCalendar(
                f"{what}: các buổi làm việc phải theo thứ tự và không chồng lấn "
                f"({before.start:%H:%M}-{before.end:%H:%M}, {after.start:%H:%M}-{after.end:%H:%M})."
            )
    return result


DEFAULT_SESSIONS: tuple[Session, ...] = (
    Session(time(7, 30), time(11, 30)),
    Session(time(13, 30), time(17, 30)),
)
DEFAULT_SATURDAY_SESSIONS: tuple[Session, ...] = (Session(time(7, 30), time(11, 30)),)


@dataclass(frozen=True, slots=True)
class SeasonalSessions:
    """Sessions used from ``start`` to ``end`` (inclusive (month, day) pairs; may wrap the year)."""

    start: tuple[int, int]
    end: tuple[int, int]
    sessions: tuple[Session, ...]

    def __post_init__(self) -> None:
        for month, day in (self.start, self.end):
            if not (1 <= month <= 12 and 1 <= day <= 31):
                raise BadCalendar(f"Mốc ngày-tháng không hợp lệ: {day}/{month}.")
        if not self.sessions:
            raise BadCalendar("Lịch làm việc theo mùa phải có ít nhất một buổi làm việc.")
        object.__setattr__(self, "sessions", _check_sequence(self.sessions, "Lịch theo mùa"))

    def applies(self, day: date) -> bool:
        key = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= key <= self.end
        return key >= self.start or key <= self.end


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """Daily sessions: a default list, seasonal variants (first match wins) and Saturday hours.

    ``standard_day_seconds`` is the length of one working day (``1wd``); by default the total
    of the default sessions (8 h for 07:30-11:30 + 13:30-17:30).
    """

    default: tuple[Session, ...] = DEFAULT_SESSIONS
    seasonal: tuple[SeasonalSessions, ...] = ()
    saturday: tuple[Session, ...] = DEFAULT_SATURDAY_SESSIONS
    standard_day_seconds: int = field(default=0)

    def __post_init__(self) -> None:
        if not self.default:
            raise BadCalendar("Phải có ít nhất một buổi làm việc trong ngày.")
        object.__setattr__(self, "default", _check_sequence(self.default, "Giờ làm việc"))
        object.__setattr__(self, "seasonal", tuple(self.seasonal))
        object.__setattr__(self, "saturday", _check_sequence(self.saturday, "Giờ thứ Bảy"))
        if self.standard_day_seconds == 0:
            total = sum(end - start for start, end in (s.seconds for s in self.default))
            object.__setattr__(self, "standard_day_seconds", total)
        if self.standard_day_seconds <= 0:
            raise BadCalendar("Độ dài ngày làm việc chuẩn phải dương.")

    @classmethod
    def from_strings(
        cls,
        default: Iterable[str],
        seasonal: Iterable[tuple[tuple[int, int], tuple[int, int], Iterable[str]]] = (),
        saturday: Iterable[str] = ("07:30-11:30",),
    ) -> SessionPlan:
        return cls(
            default=tuple(Session.parse(s) for s in default),
            seasonal=tuple(
                SeasonalSessions(start, end, tuple(Session.parse(s) for s in sessions))
                for start, end, sessions in seasonal
            ),
            saturday=tuple(Session.parse(s) for s in saturday),
        )

    def sessions_for(self, day: date) -> tuple[SessionSeconds, ...]:
        for season in self.seasonal:
            if season.applies(day):
                return tuple(s.seconds for s in season.sessions)
        return tuple(s.seconds for s in self.default)

    def saturday_seconds(self) -> tuple[SessionSeconds, ...]:
        return tuple(s.seconds for s in self.saturday)
