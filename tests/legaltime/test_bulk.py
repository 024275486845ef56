"""The vectorised path gives exactly the single-dossier results."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc.legaltime import (
    NO_INSTANT,
    UNIT_CODES,
    BadDuration,
    Calendar,
    CalendarCoverageError,
    Duration,
    Outcome,
    SessionPlan,
    Unit,
    bulk_classify,
    bulk_due,
    bulk_elapsed,
    bulk_start,
    classify,
    default_calendar,
    due,
    due_with_pauses,
    elapsed,
    from_epoch_array,
    outcomes,
    start_of_clock,
    to_epoch_array,
)

from .helpers import at

CALENDARS = {
    "default": default_calendar(),
    "cutoff": default_calendar(cutoff=time(15, 0)),
    "saturday": default_calendar(saturday_reception=True, saturday_advances_clock=True),
    "seasonal": default_calendar(
        cutoff=time(16, 0),
        sessions=SessionPlan.from_strings(
            ["07:30-11:30", "13:30-17:30"],
            seasonal=[((11, 15), (2, 15), ["07:00-09:00", "09:15-11:30", "13:00-16:45"])],
            saturday=["08:00-11:00"],
        ),
        saturday_reception=True,
        saturday_advances_clock=True,
    ),
}

FIRST = int(at(2024, 1, 1).timestamp())
# Receipts up to 1/6/2026: the longest duration drawn (6 months, then the next working
# day) must end inside the calendars' data (2024–2026); from 30/6 it can reach 2027.
LAST = int(at(2026, 6, 1).timestamp())
EDGES = [
    0,
    6 * 3600,
    7 * 3600 + 1800,
    11 * 3600 + 1800,
    12 * 3600,
    13 * 3600 + 1800,
    15 * 3600,
    17 * 3600 + 1800,
    22 * 3600,
    86399,
]
SPECIAL_DAYS = [
    at(2024, 2, 7),
    at(2024, 2, 8),
    at(2024, 2, 10),
    at(2024, 4, 26),
    at(2024, 5, 4),
    at(2024, 8, 30),
    at(2025, 1, 24),
    at(2025, 4, 26),
    at(2025, 5, 2),
    at(2026, 1, 2),
    at(2026, 1, 10),
    at(2026, 2, 13),
]


@st.composite
def instants(draw: st.DrawFn) -> int:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.integers(FIRST, LAST))
    if choice == 1:
        day = draw(st.integers(0, (LAST - FIRST) // 86400))
        return FIRST + day * 86400 + draw(st.sampled_from(EDGES))
    day = draw(st.sampled_from(SPECIAL_DAYS))
    return int(day.timestamp()) + draw(st.sampled_from(EDGES))


@st.composite
def durations(draw: st.DrawFn) -> Duration:
    unit = draw(st.sampled_from(list(Unit)))
    if unit is Unit.WORKING_DAYS:
        return Duration.working_days(Decimal(draw(st.integers(0, 160))) / 8)
    if unit is Unit.WORKING_HOURS:
        return Duration.working_hours(Decimal(draw(st.integers(0, 400))) / 4)
    if unit is Unit.DAYS:
        return Duration.days(draw(st.integers(0, 90)))
    return Duration.months(draw(st.integers(0, 6)))


def _local(seconds: int) -> datetime:
    return from_epoch_array([seconds])[0]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(CALENDARS)),
    rows=st.lists(st.tuples(instants(), durations()), min_size=1, max_size=30),
)
def test_bulk_due_equals_single(name: str, rows: list[tuple[int, Duration]]) -> None:
    calendar = CALENDARS[name]
    received = np.array([r[0] for r in rows], dtype=np.int64)
    amounts = np.array([float(r[1].amount) for r in rows])
    codes = np.array([UNIT_CODES[r[1].unit] for r in rows], dtype=np.int8)
    got = bulk_due(calendar, received, amounts, codes)
    expected = [int(due(calendar, _local(s), d).timestamp()) for s, d in rows]
    assert got.tolist() == expected
    starts = bulk_start(calendar, received)
    assert starts.tolist() == [
        int(start_of_clock(calendar, _local(s)).timestamp()) for s in received
    ]


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(CALENDARS)),
    pairs=st.lists(st.tuples(instants(), instants()), min_size=1, max_size=30),
)
def test_bulk_elapsed_equals_single(name: str, pairs: list[tuple[int, int]]) -> None:
    calendar = CALENDARS[name]
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    expected = [elapsed(calendar, _local(x), _local(y)) for x, y in pairs]
    assert bulk_elapsed(calendar, a, b).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(instants(), st.one_of(st.none(), instants()), instants()),
        min_size=1,
        max_size=30,
    ),
    overdue=st.sampled_from(list(__import__("cchc.legaltime").legaltime.Granularity)),
    early=st.sampled_from(list(__import__("cchc.legaltime").legaltime.Granularity)),
)
def test_bulk_classify_equals_single(
    rows: list[tuple[int, int | None, int]], overdue: object, early: object
) -> None:
    limit = np.array([r[0] for r in rows], dtype=np.int64)
    done = np.array([NO_INSTANT if r[1] is None else r[1] for r in rows], dtype=np.int64)
    now = np.array([r[2] for r in rows], dtype=np.int64)
    got = outcomes(
        bulk_classify(limit, done, now, overdue_granularity=overdue, early_granularity=early)  # type: ignore[arg-type]
    )
    expected = [
        classify(
            _local(d),
            finished=None if f is None else _local(f),
            at=_local(t),
            overdue_granularity=overdue,  # type: ignore[arg-type]
            early_granularity=early,  # type: ignore[arg-type]
        )
        for d, f, t in rows
    ]
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(
    received=instants(),
    amount=st.integers(1, 80),
    pause_at=st.integers(0, 20 * 86400),
    pause_len=st.integers(1, 10 * 86400),
)
def test_bulk_paused_equals_single(
    received: int, amount: int, pause_at: int, pause_len: int
) -> None:
    calendar = CALENDARS["default"]
    start = start_of_clock(calendar, _local(received))
    begin = int(start.timestamp()) + pause_at
    end = begin + pause_len
    single = due_with_pauses(
        calendar, _local(received), Duration.working_hours(amount), [(_local(begin), _local(end))]
    )
    got = bulk_due(
        calendar,
        [received],
        [amount],
        "wh",
        paused=[single.paused_seconds],
    )
    assert got.tolist() == [int(single.due.timestamp())]


def test_bulk_examples() -> None:
    calendar = CALENDARS["default"]
    received = to_epoch_array([at(2024, 3, 4, 9), at(2024, 3, 8, 16), at(2024, 2, 7, 10)])
    got = from_epoch_array(bulk_due(calendar, received, [3, 1, 2], "wd"))
    assert got == [at(2024, 3, 7, 9), at(2024, 3, 11, 16), at(2024, 2, 16, 10)]
    datetimes = received.astype("datetime64[s]")
    assert bulk_due(calendar, datetimes, [3, 1, 2]).tolist() == [int(g.timestamp()) for g in got]


def test_bulk_errors() -> None:
    calendar = CALENDARS["default"]
    received = to_epoch_array([at(2024, 3, 4, 9)])
    with pytest.raises(BadDuration):
        bulk_due(calendar, received, [-1], "wd")
    with pytest.raises(BadDuration):
        bulk_due(calendar, received, [1.5], "d")
    with pytest.raises(BadDuration):
        bulk_due(calendar, received, [1], "weeks")
    with pytest.raises(CalendarCoverageError, match="năm 2027"):
        bulk_due(calendar, to_epoch_array([at(2026, 12, 30, 9)]), [5], "wd")
    with pytest.raises(CalendarCoverageError, match="năm 2023"):
        bulk_start(calendar, to_epoch_array([at(2023, 12, 30, 9)]))


def test_bulk_provisional_extends_the_table() -> None:
    calendar = default_calendar(provisional_years_ok=True).replace(version="bulk-provisional")
    received = to_epoch_array([at(2026, 12, 30, 10), at(2028, 6, 1, 9)])
    got = bulk_due(calendar, received, [5, 1], "wd")
    assert from_epoch_array(got) == [
        due(calendar, at(2026, 12, 30, 10), "5wd"),
        due(calendar, at(2028, 6, 1, 9), "1wd"),
    ]


def test_bulk_classify_codes() -> None:
    limit = to_epoch_array([at(2024, 3, 7, 17, 30)] * 3)
    done = to_epoch_array([at(2024, 3, 6, 9), None, None])
    now = to_epoch_array([at(2024, 3, 8), at(2024, 3, 7), at(2024, 3, 8)])
    assert outcomes(bulk_classify(limit, done, now)) == [
        Outcome.EARLY,
        Outcome.IN_PROGRESS,
        Outcome.OVERDUE_IN_PROGRESS,
    ]


def test_empty_arrays(cal: Calendar) -> None:
    empty = np.array([], dtype=np.int64)
    assert bulk_due(cal, empty, np.array([]), "wd").size == 0
    assert bulk_start(cal, empty).size == 0
    assert bulk_elapsed(cal, empty, empty).size == 0
