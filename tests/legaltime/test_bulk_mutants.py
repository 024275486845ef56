"""Edges of the vectorised path (`cchc.legaltime.bulk`) that survived `make mutate`
(scripts/mutate.py): coverage gaps inside the table, the table's last second, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from cchc.legaltime import (
    BadCalendar,
    BadDuration,
    BadInstant,
    Calendar,
    CalendarCoverageError,
    SessionPlan,
    bulk_due,
    bulk_elapsed,
    bulk_start,
    default_calendar,
    due,
    due_with_pauses,
    elapsed,
    from_epoch_array,
    start_of_clock,
    to_epoch_array,
)

from .helpers import at


@pytest.fixture(scope="module")
def gap() -> Calendar:
    """Data for 2024 and 2026 only: the table spans 2024–2026 with 2025 refused."""
    return default_calendar().replace(covered_years=[2024, 2026], version="gap-2025")


def test_a_due_crossing_an_uncovered_year_is_refused(gap: Calendar) -> None:
    inside = to_epoch_array([at(2024, 6, 3, 9), at(2026, 3, 2, 9)])
    assert from_epoch_array(bulk_due(gap, inside, [3, 3], "wd")) == [
        due(gap, at(2024, 6, 3, 9), "3wd"),
        due(gap, at(2026, 3, 2, 9), "3wd"),
    ]
    crossing = to_epoch_array([at(2024, 6, 3, 9), at(2024, 12, 30, 9)])
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        bulk_due(gap, crossing, [3, 3], "wd")
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        due(gap, at(2024, 12, 30, 9), "3wd")
    # calendar days and months too
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        bulk_due(gap, crossing, [1, 1], "mo")


def test_elapsed_and_start_across_an_uncovered_year_are_refused(gap: Calendar) -> None:
    a = to_epoch_array([at(2024, 6, 3, 9), at(2024, 12, 31, 9)])
    b = to_epoch_array([at(2024, 6, 4, 9), at(2026, 1, 5, 9)])
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        bulk_elapsed(gap, a, b)
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        bulk_elapsed(gap, b, a)  # whichever comes first
    assert bulk_elapsed(gap, a[:1], b[:1]).tolist() == [
        elapsed(gap, at(2024, 6, 3, 9), at(2024, 6, 4, 9))
    ]
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        bulk_start(gap, to_epoch_array([at(2025, 3, 3, 9)]))
    # received on the last evening of 2024: the clock would start in 2025
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        bulk_start(gap, to_epoch_array([at(2024, 12, 31, 20)]))
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        start_of_clock(gap, at(2024, 12, 31, 20))


def test_a_due_at_the_tables_last_working_second_needs_no_next_year() -> None:
    cal = default_calendar()  # 2024–2026, no provisional years
    received = at(2026, 12, 31, 7, 30)
    assert due(cal, received, "8wh") == at(2026, 12, 31, 17, 30)
    got = bulk_due(cal, to_epoch_array([received]), [8], "wh")
    assert from_epoch_array(got) == [at(2026, 12, 31, 17, 30)]
    with pytest.raises(CalendarCoverageError, match="năm 2027"):
        bulk_due(cal, to_epoch_array([received]), [8 * 3600 + 1], "wh")


def test_the_first_second_after_the_table_is_outside_it() -> None:
    cal = default_calendar()
    with pytest.raises(CalendarCoverageError, match="năm 2027"):
        bulk_elapsed(cal, to_epoch_array([at(2026, 12, 31, 9)]), to_epoch_array([at(2027, 1, 1)]))
    just_before = to_epoch_array([at(2026, 12, 31, 23, 59, 59)])
    assert bulk_elapsed(cal, to_epoch_array([at(2026, 12, 31, 9)]), just_before).tolist() == [
        elapsed(cal, at(2026, 12, 31, 9), at(2026, 12, 31, 23, 59, 59))
    ]


def test_a_calendar_day_due_on_the_first_day_after_the_table() -> None:
    cal = default_calendar()
    # 21/12/2026 + 11 days = 1/1/2027: outside the data
    with pytest.raises(CalendarCoverageError, match="năm 2027"):
        bulk_due(cal, to_epoch_array([at(2026, 12, 21, 9)]), [11], "d")
    assert from_epoch_array(bulk_due(cal, to_epoch_array([at(2026, 12, 21, 9)]), [10], "d")) == [
        due(cal, at(2026, 12, 21, 9), "10d")
    ]


def test_unit_codes_are_checked_at_both_ends(cal: Calendar) -> None:
    received = to_epoch_array([at(2024, 3, 4, 9), at(2024, 3, 4, 9)])
    for codes in ([0, 4], [-1, 0], [4, 4]):
        with pytest.raises(BadDuration) as caught:
            bulk_due(cal, received, [1, 1], np.array(codes))
        assert caught.value.code == "legaltime.unknown_unit"
    with pytest.raises(BadDuration) as caught:
        bulk_due(cal, received, [1, 1], "weeks")
    assert caught.value.code == "legaltime.unknown_unit"
    with pytest.raises(BadDuration):
        bulk_due(cal, received, [1, 1], np.array([0]))  # one code for two rows
    mixed = bulk_due(cal, received, [1, 3], np.array([0, 3]))  # 1wd and 3mo
    assert from_epoch_array(mixed) == [
        due(cal, at(2024, 3, 4, 9), "1wd"),
        due(cal, at(2024, 3, 4, 9), "3mo"),
    ]


def test_amounts_are_checked_with_their_codes(cal: Calendar) -> None:
    received = to_epoch_array([at(2024, 3, 4, 9)])
    for amounts, code in (
        ([-1], "legaltime.negative_duration"),
        ([np.inf], "legaltime.negative_duration"),
        ([np.nan], "legaltime.negative_duration"),
    ):
        with pytest.raises(BadDuration) as caught:
            bulk_due(cal, received, amounts, "wd")
        assert caught.value.code == code
    with pytest.raises(BadDuration) as caught:
        bulk_due(cal, received, [1.5], "mo")
    assert caught.value.code == "legaltime.fractional_duration"
    with pytest.raises(BadDuration):
        bulk_due(cal, received, [1, 2], "wd")  # more amounts than receipts


def test_paused_seconds_are_checked_and_added_per_row(cal: Calendar) -> None:
    received = to_epoch_array([at(2024, 3, 4, 9), at(2024, 3, 4, 9)])
    got = bulk_due(cal, received, [3, 3], "wd", paused=[0, 3600])
    single = due_with_pauses(
        cal, at(2024, 3, 4, 9), "3wd", [(at(2024, 3, 5, 9), at(2024, 3, 5, 10))]
    )
    assert from_epoch_array(got) == [due(cal, at(2024, 3, 4, 9), "3wd"), single.due]
    with pytest.raises(BadDuration):
        bulk_due(cal, received, [3, 3], "wd", paused=[0])
    with pytest.raises(BadDuration):
        bulk_due(cal, received, [3, 3], "wd", paused=[0, -1])


def test_instants_must_be_integer_seconds(cal: Calendar) -> None:
    seconds = to_epoch_array([at(2024, 3, 4, 9)])
    with pytest.raises(BadInstant):
        bulk_start(cal, seconds.astype(np.float64))
    assert bulk_start(cal, seconds.astype(np.uint64)).tolist() == bulk_start(cal, seconds).tolist()


def test_short_working_days_take_the_search_path() -> None:
    # Days of five minutes: too short for the bucket lookup, so the table falls back to a
    # binary search; both paths must agree with the single-dossier engine.
    tiny = default_calendar(sessions=SessionPlan.from_strings(["08:00-08:05"], saturday=[]))
    received = [at(2024, 3, 4, 7), at(2024, 3, 4, 8, 2), at(2024, 3, 8, 9)]
    got = bulk_due(tiny, to_epoch_array(received), [1, 3, 2], "wd")
    assert from_epoch_array(got) == [
        due(tiny, r, f"{n}wd") for r, n in zip(received, [1, 3, 2], strict=True)
    ]
    assert from_epoch_array(got)[0] == at(2024, 3, 4, 8, 5)


def test_supported_years_are_1976_to_2199() -> None:
    for year in (1976, 2199):
        assert Calendar(code="x", version="1", covered_years=[year]).covers(year)
    for year in (1975, 2200):
        with pytest.raises(BadCalendar):
            Calendar(code="x", version="1", covered_years=[year])
    provisional = Calendar(code="x", version="1", provisional_years_ok=True)
    assert provisional.allows(1976) and provisional.allows(2199)
    assert not provisional.allows(1975) and not provisional.allows(2200)


def test_coverage_error_names_the_years_with_data(gap: Calendar) -> None:
    message = str(gap.coverage_error(2025))
    assert "đã có dữ liệu: 2024, 2026" in message
    assert "2024–2026" in repr(default_calendar())
