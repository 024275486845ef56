"""Hypothesis properties of the single-dossier path."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cchc.legaltime import (
    Duration,
    Unit,
    default_calendar,
    due,
    due_with_pauses,
    elapsed,
    start_of_clock,
)
from cchc.legaltime.instants import from_epoch

from .test_bulk import CALENDARS, durations, instants

CAL = default_calendar()


def _local(seconds: int) -> datetime:
    return from_epoch(seconds)


working = st.builds(
    lambda unit, n: Duration(Decimal(n) / 8, unit),
    st.sampled_from([Unit.WORKING_DAYS, Unit.WORKING_HOURS]),
    st.integers(1, 400),
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), received=instants(), duration=durations())
def test_due_is_never_at_a_non_working_moment(name: str, received: int, duration: Duration) -> None:
    calendar = CALENDARS[name]
    result = due(calendar, _local(received), duration)
    sessions = calendar.sessions_on(result.date())
    clock = result.hour * 3600 + result.minute * 60 + result.second
    assert any(start < clock <= end for start, end in sessions), (result, sessions)
    if not duration.is_zero or duration.is_working:
        assert result > start_of_clock(calendar, _local(received)) or duration.is_zero


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(CALENDARS)), received=instants(), duration=working)
def test_elapsed_of_due_is_the_duration(name: str, received: int, duration: Duration) -> None:
    calendar = CALENDARS[name]
    start = start_of_clock(calendar, _local(received))
    result = due(calendar, _local(received), duration)
    assert elapsed(calendar, start, result) == duration.working_seconds()


@settings(max_examples=300, deadline=None)
@given(
    received=instants(),
    unit=st.sampled_from([Unit.WORKING_DAYS, Unit.WORKING_HOURS]),
    a=st.integers(1, 200),
    b=st.integers(1, 200),
)
def test_due_is_additive(received: int, unit: Unit, a: int, b: int) -> None:
    first = Duration(Decimal(a) / 4, unit)
    second = Duration(Decimal(b) / 4, unit)
    chained = due(CAL, due(CAL, _local(received), first), second)
    assert chained == due(CAL, _local(received), first + second)


@settings(max_examples=300, deadline=None)
@given(
    received=instants(),
    duration=durations(),
    offset=st.integers(0, 30 * 86400),
    length=st.integers(1, 15 * 86400),
)
def test_a_pause_moves_the_due_by_its_working_time(
    received: int, duration: Duration, offset: int, length: int
) -> None:
    start = start_of_clock(CAL, _local(received))
    begin = start.timestamp() + offset
    pause = (_local(int(begin)), _local(int(begin) + length))
    result = due_with_pauses(CAL, _local(received), duration, [pause])
    assert result.original_due == due(CAL, _local(received), duration)
    assert result.paused_seconds == elapsed(CAL, *pause)
    assert elapsed(CAL, result.original_due, result.due) == result.paused_seconds
