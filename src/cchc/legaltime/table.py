"""Per-day lookup table of a calendar: the core of both the single and the bulk paths.

Working time is modelled by a monotone function ``W(t)``: the cumulative working seconds
from the table's first local midnight up to instant ``t``. Per day the table stores the
cumulative working seconds at local midnight (``cum``) and the day's working sessions
(seconds after midnight). Then

* ``W(t)`` is ``cum[day] + worked part of the day's sessions before t``;
* the due instant of ``d`` working seconds from clock start ``s`` is the *smallest* instant
  ``t`` with ``W(t) >= W(s) + d`` (a bisection on ``cum``), which is a session end when the
  consumption ends exactly there.

The single path uses Python lists (``bisect``); :mod:`cchc.legaltime.bulk` uses the numpy
arrays (``searchsorted``) built from the same data, so both give identical results.
"""

from __future__ import annotations

import copy
from bisect import bisect_left
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .errors import CalendarCoverageError
from .instants import DAY_SECONDS, date_of_day_number, day_number, local_date, local_midnight

if TYPE_CHECKING:
    from .calendar import DayInfo

I64 = npt.NDArray[np.int64]


class NeedYear(Exception):
    """Internal signal: the table must be extended to ``year`` (if the calendar allows it)."""

    def __init__(self, year: int) -> None:
        super().__init__(year)
        self.year = year


class DayTable:
    """Immutable per-day table over whole years ``first_year`` .. ``last_year``."""

    def __init__(
        self,
        *,
        first_year: int,
        last_year: int,
        infos: list[DayInfo],
        allowed: Callable[[int], bool],
        covered: Callable[[int], bool],
        cutoff: int | None,
        coverage_error: Callable[[int], CalendarCoverageError],
        cutoff_source: str = "",
    ) -> None:
        self.first_year = first_year
        self.last_year = last_year
        self.infos = infos
        self.n = n = len(infos)
        self.day0 = day_number(date(first_year, 1, 1)) if n else 0
        self.midnight0 = local_midnight(self.day0)
        self.cutoff = cutoff
        # Where the cut-off comes from: "" for the calendar's own (the global setting), or
        # the rule that set it (a procedure's reception rule), for the explanation.
        self.cutoff_source = cutoff_source
        self.cutoff_verified = True
        self.base: DayTable | None = None
        self.coverage_error = coverage_error
        self.sessions = [info.sessions for info in infos]
        cum = [0] * (n + 1)
        total = 0
        for i, sessions in enumerate(self.sessions):
            cum[i] = total
            for start, end in sessions:
                total += end - start
        cum[n] = total
        self.cum = cum
        next_work = [n] * (n + 1)
        following = n
        for i in range(n - 1, -1, -1):
            if self.sessions[i]:
                following = i
            next_work[i] = following
        self.next_work = next_work
        self.first_start = [s[0][0] if s else 0 for s in self.sessions]
        self.last_end = [s[-1][1] if s else 0 for s in self.sessions]
        bad = [0] * (n + 1)
        provisional = [0] * (n + 1)
        year_ok: dict[int, tuple[bool, bool]] = {}
        for i, info in enumerate(infos):
            year = info.date.year
            flags = year_ok.get(year)
            if flags is None:
                flags = year_ok[year] = (allowed(year), covered(year))
            bad[i + 1] = bad[i] + (0 if flags[0] else 1)
            provisional[i + 1] = provisional[i] + (0 if flags[1] else 1)
        self.bad = bad
        self.provisional = provisional
        self.all_allowed = bad[n] == 0
        self._arrays: TableArrays | None = None

    @classmethod
    def empty(cls, coverage_error: Callable[[int], CalendarCoverageError]) -> DayTable:
        return cls(
            first_year=0,
            last_year=0,
            infos=[],
            allowed=lambda year: False,
            covered=lambda year: False,
            cutoff=None,
            coverage_error=coverage_error,
        )

    def with_cutoff(self, cutoff: int | None, source: str, *, verified: bool = True) -> DayTable:
        """The same days with another reception cut-off (seconds after local midnight), its
        source and whether that source is verified; the per-day data and the numpy arrays
        are shared, not copied."""
        twin = copy.copy(self)
        twin.cutoff = cutoff
        twin.cutoff_source = source
        twin.cutoff_verified = verified
        twin.base = self.base if self.base is not None else self
        twin._arrays = None
        return twin

    # -- single path ------------------------------------------------------------------------

    def index_of(self, day: date) -> int:
        i = day_number(day) - self.day0
        if not 0 <= i < self.n:
            raise NeedYear(day.year)
        return i

    def date_of(self, i: int) -> date:
        return date_of_day_number(self.day0 + i)

    def locate(self, seconds: int) -> tuple[int, int]:
        """(day index, seconds after local midnight) of an instant."""
        i, sec = divmod(seconds - self.midnight0, DAY_SECONDS)
        if not 0 <= i < self.n:
            raise NeedYear(local_date(seconds).year)
        return i, sec

    def midnight(self, i: int) -> int:
        return self.midnight0 + i * DAY_SECONDS

    def work_at(self, seconds: int) -> int:
        """``W(t)``: cumulative working seconds up to ``t``."""
        i, sec = self.locate(seconds)
        work = self.cum[i]
        for start, end in self.sessions[i]:
            if sec <= start:
                break
            work += (sec if sec < end else end) - start
        return work

    def next_working(self, i: int) -> int:
        """Index of the first working day at or after index ``i``."""
        if i >= self.n:
            raise NeedYear(self.date_of(i).year)
        j = self.next_work[i]
        if j >= self.n:
            raise NeedYear(self.last_year + 1)
        return j

    def start_of_clock(self, seconds: int) -> tuple[int, int]:
        """(clock start instant, its day index) for a receipt instant."""
        i, sec = self.locate(seconds)
        sessions = self.sessions[i]
        if sessions and (self.cutoff is None or sec <= self.cutoff):
            for start, end in sessions:
                if sec < end:
                    return self.midnight0 + i * DAY_SECONDS + (sec if sec > start else start), i
        j = self.next_working(i + 1)
        return self.midnight0 + j * DAY_SECONDS + self.first_start[j], j

    def at_work(self, target: int) -> int:
        """Smallest instant ``t`` with ``W(t) >= target`` (``target`` > 0)."""
        j = bisect_left(self.cum, target)
        if j > self.n:
            raise NeedYear(self.last_year + 1)
        i = j - 1
        rest = target - self.cum[i]
        base = self.midnight0 + i * DAY_SECONDS
        for start, end in self.sessions[i]:
            length = end - start
            if rest <= length:
                return base + start + rest
            rest -= length
        raise AssertionError("inconsistent day table")  # pragma: no cover

    def end_of_day(self, i: int) -> int:
        """End of the last working session of (working) day ``i``."""
        return self.midnight0 + i * DAY_SECONDS + self.last_end[i]

    def check_span(self, first: int, last: int) -> None:
        """Raise the coverage error if a day in ``first .. last`` is in a disallowed year."""
        if self.all_allowed:
            return
        if self.bad[last + 1] != self.bad[first]:
            for i in range(first, last + 1):
                if self.bad[i + 1] != self.bad[i]:
                    raise self.coverage_error(self.infos[i].date.year)

    def is_provisional(self, first: int, last: int) -> bool:
        return self.provisional[last + 1] != self.provisional[first]

    # -- bulk path --------------------------------------------------------------------------

    @property
    def arrays(self) -> TableArrays:
        arrays = self._arrays
        if arrays is None:
            # The arrays do not depend on the cut-off: a twin uses its base table's.
            arrays = TableArrays(self) if self.base is None else self.base.arrays
            self._arrays = arrays
        return arrays


class TableArrays:
    """numpy views of a :class:`DayTable` for the vectorised path."""

    def __init__(self, table: DayTable) -> None:
        n = table.n
        width = max([1, *(len(s) for s in table.sessions)])
        starts = np.zeros((n, width), dtype=np.int64)
        ends = np.zeros((n, width), dtype=np.int64)
        for i, sessions in enumerate(table.sessions):
            pad = sessions[-1][1] if sessions else 0
            for k in range(width):
                if k < len(sessions):
                    starts[i, k], ends[i, k] = sessions[k]
                else:
                    starts[i, k] = ends[i, k] = pad
        lengths = ends - starts
        in_day = np.zeros((n, width + 1), dtype=np.int64)
        np.cumsum(lengths, axis=1, out=in_day[:, 1:])
        self.width = width
        self.starts = starts
        self.ends = ends
        self.lengths = lengths
        self.in_day = in_day
        # Per-session columns (contiguous) for fast 1-D gathers.
        self.start_cols = [np.ascontiguousarray(starts[:, k]) for k in range(width)]
        self.length_cols = [np.ascontiguousarray(lengths[:, k]) for k in range(width)]
        self.in_day_cols = [np.ascontiguousarray(in_day[:, k]) for k in range(width + 1)]
        # Idle time between session k and k + 1 (0 for padding).
        self.gap_cols = [
            np.ascontiguousarray(starts[:, k + 1] - ends[:, k]) for k in range(width - 1)
        ]
        self.cum: I64 = np.asarray(table.cum, dtype=np.int64)
        self.next_work: I64 = np.asarray(table.next_work, dtype=np.int64)
        self.first_start: I64 = np.asarray(table.first_start, dtype=np.int64)
        self.last_end: I64 = np.asarray(table.last_end, dtype=np.int64)
        self.working = np.asarray([bool(s) for s in table.sessions], dtype=bool)
        self.bad: I64 = np.asarray(table.bad, dtype=np.int64)
        self.provisional: I64 = np.asarray(table.provisional, dtype=np.int64)
        # Working days only, for the inverse of W: the k-th working day has index
        # work_day[k], cumulative work work_begin[k] at its start and work_end[k] at its end.
        work = lengths.sum(axis=1)
        days = np.flatnonzero(work > 0)
        self.work_day: I64 = days.astype(np.int64)
        self.work_begin: I64 = self.cum[days]
        self.work_end: I64 = self.cum[days] + work[days]
        # Bucket lookup: every working day has at least ``bucket`` seconds of work, so a
        # bucket of that width holds at most one working-day end; one correction step after
        # the lookup finds the day (falls back to searchsorted for tiny buckets).
        self.bucket = int(work[days].min()) if days.size else 0
        self.lookup: I64 | None = None
        if self.bucket >= 600 and days.size:
            total = int(self.work_end[-1])
            edges = np.arange(0, total + self.bucket + 1, self.bucket, dtype=np.int64)
            self.lookup = np.searchsorted(self.work_end, edges, side="left").astype(np.int64)
            self.lookup = np.minimum(self.lookup, days.size - 1)
        self.day0 = table.day0
