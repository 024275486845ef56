"""Tests written against mutants that survived `make mutate` (scripts/mutate.py): each pins a
rule of the legal-time core that no other test checked."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal

import numpy as np
import pytest

from cchc.legaltime import (
    BadDuration,
    BadInstant,
    BadPause,
    Calendar,
    Duration,
    Granularity,
    Outcome,
    Unit,
    bulk_classify,
    calendar_year_report,
    classify,
    default_calendar,
    due_report,
    elapsed,
    elapsed_duration,
    explain_due,
    outcomes,
    parse_instant,
    parse_pause,
    start_of_clock,
    to_epoch_array,
)

from .helpers import at

# -- classification by local (UTC+7) day ------------------------------------------------------


def test_date_granularity_compares_local_days_not_utc_days() -> None:
    # 06:00 local on 5/3 is still 4/3 in UTC; the due (17:00 local) is 5/3 in UTC too.
    # Same local day: on time, not early.
    due, finished = at(2024, 3, 5, 17), at(2024, 3, 5, 6)
    assert classify(due, finished=finished) is Outcome.ON_TIME
    assert classify(due, finished=at(2024, 3, 4, 23, 30)) is Outcome.EARLY


def test_date_granularity_overdue_near_local_midnight() -> None:
    # Due 00:30 local on 6/3 (17:30 UTC on 5/3), finished 23:00 local the same local day
    # (16:00 UTC on 6/3): late by the clock, on time by the local day.
    due, finished = at(2024, 3, 6, 0, 30), at(2024, 3, 6, 23)
    assert classify(due, finished=finished, overdue_granularity=Granularity.DATE) is Outcome.ON_TIME
    assert classify(due, finished=finished) is Outcome.OVERDUE
    # an open dossier looked at late on its due's local day is not overdue by date
    assert (
        classify(due, at=at(2024, 3, 6, 23), overdue_granularity=Granularity.DATE)
        is Outcome.IN_PROGRESS
    )
    assert (
        classify(due, at=at(2024, 3, 7, 0, 1), overdue_granularity=Granularity.DATE)
        is Outcome.OVERDUE_IN_PROGRESS
    )


def test_bulk_classification_uses_the_local_day_too() -> None:
    due = to_epoch_array([at(2024, 3, 5, 17), at(2024, 3, 5, 17), at(2024, 3, 6, 0, 30)])
    finished = to_epoch_array([at(2024, 3, 5, 6), at(2024, 3, 4, 23, 30), at(2024, 3, 6, 23)])
    now = int(at(2024, 3, 10).timestamp())
    codes = bulk_classify(due, finished, now, overdue_granularity=Granularity.DATE)
    assert outcomes(codes) == [Outcome.ON_TIME, Outcome.EARLY, Outcome.ON_TIME]
    assert outcomes(bulk_classify(due, finished, now))[2] is Outcome.OVERDUE
    assert isinstance(codes, np.ndarray)


# -- elapsed working time as a duration -------------------------------------------------------


def test_elapsed_duration_is_exact_working_hours(cal: Calendar) -> None:
    # Monday 9:00 to Monday 10:30: an hour and a half of work.
    assert elapsed_duration(cal, at(2024, 3, 4, 9), at(2024, 3, 4, 10, 30)) == Duration(
        Decimal("1.5"), Unit.WORKING_HOURS
    )
    # Friday 16:00 to Monday 9:00: an hour and a half on Friday (to 17:30), as much on
    # Monday (from 7:30).
    assert elapsed_duration(cal, at(2024, 3, 8, 16), at(2024, 3, 11, 9)) == Duration(
        Decimal(3), Unit.WORKING_HOURS
    )
    assert elapsed_duration(cal, at(2024, 3, 4, 9), at(2024, 3, 4, 9)).is_zero


def test_elapsed_duration_refuses_an_inverted_interval(cal: Calendar) -> None:
    assert elapsed(cal, at(2024, 3, 4, 10), at(2024, 3, 4, 9)) == -3600
    with pytest.raises(BadInstant) as caught:
        elapsed_duration(cal, at(2024, 3, 4, 10), at(2024, 3, 4, 9))
    assert caught.value.code == "legaltime.inverted_interval"


# -- durations --------------------------------------------------------------------------------


def test_from_working_seconds_keeps_fractions_of_an_hour() -> None:
    assert Duration.from_working_seconds(5400) == Duration(Decimal("1.5"), Unit.WORKING_HOURS)
    assert Duration.from_working_seconds(1).amount * 3600 == 1
    assert Duration.from_working_seconds(0).is_zero


def test_working_seconds_round_half_to_even() -> None:
    # The rule (docstring of Duration.working_seconds): whole seconds, rounded half-even.
    half = Duration.working_days("0.5")
    assert half.working_seconds(1) == 0  # 0.5 s -> 0 (half-up would give 1)
    assert half.working_seconds(3) == 2  # 1.5 s -> 2 (truncation would give 1)
    assert half.working_seconds(5) == 2  # 2.5 s -> 2
    assert Duration.working_days("0.3").working_seconds(5) == 2  # 1.5 s -> 2
    assert Duration.working_hours("0.0001").working_seconds() == 0  # 0.36 s
    assert Duration.working_hours("0.0002").working_seconds() == 1  # 0.72 s


def test_decimal_comma_is_a_decimal_separator() -> None:
    assert Duration.working_days("0,5") == Duration(Decimal("0.5"), Unit.WORKING_DAYS)
    assert Duration.working_hours("1,25").working_seconds() == 4500
    assert Duration.working_days("0,5").label == "0,5 ngày làm việc"


@pytest.mark.parametrize("amount", ["Infinity", "-Infinity", "NaN", Decimal("Infinity")])
def test_infinite_or_undefined_amounts_are_refused(amount: str | Decimal) -> None:
    with pytest.raises(BadDuration) as caught:
        Duration.working_days(amount)
    assert caught.value.code == "legaltime.negative_duration"


def test_negative_amounts_are_refused_with_their_code() -> None:
    with pytest.raises(BadDuration) as caught:
        Duration(Decimal("-1"), Unit.WORKING_HOURS)
    assert caught.value.code == "legaltime.negative_duration"


def test_adding_durations_of_different_units_is_refused() -> None:
    assert Duration.working_days(1) + Duration.working_days("0,5") == Duration.working_days("1.5")
    with pytest.raises(BadDuration) as caught:
        Duration.working_days(1) + Duration.working_hours(1)
    assert caught.value.code == "legaltime.unit_mismatch"
    with pytest.raises(TypeError):
        Duration.working_days(1) + 1  # type: ignore[operator]


def test_str_and_zero() -> None:
    assert str(Duration.working_days("0.50")) == "0.5wd"
    assert str(Duration.working_days(0)) == "0wd"
    assert str(Duration.days(10)) == "10d"
    assert Duration.working_days(0).is_zero
    assert not Duration.working_hours("0.5").is_zero


# -- explanations -----------------------------------------------------------------------------


def test_month_end_note_only_when_the_month_lacks_the_day(cal: Calendar) -> None:
    # Received 31/1/2024: one month ends on 29/2 (no 31/2), and the note says why.
    short = explain_due(cal, at(2024, 1, 31, 9), "1mo").explanation
    assert short is not None
    assert "tháng không có ngày 31 nên lấy ngày cuối tháng" in " ".join(short.texts())
    # Received 15/1/2024: one month ends on 15/2, no month-end note.
    plain = explain_due(cal, at(2024, 1, 15, 9), "1mo").explanation
    assert plain is not None
    text = " ".join(plain.texts())
    assert "tháng không có ngày" not in text
    assert "ngày cuối cùng của thời hạn là thứ Năm 15/02/2024" in text


# -- the command-line helpers -----------------------------------------------------------------


def test_due_report_has_every_field(cal: Calendar) -> None:
    report = due_report(cal, "2024-02-05 09:00", "0,5wd", ["2024-02-05T10:00/2024-02-05T11:00"])
    assert {k: v for k, v in report.items() if k != "explanation"} == {
        "received": "2024-02-05T09:00:00+07:00",
        "duration": "0.5wd",
        "duration_label": "0,5 ngày làm việc",
        "start": "2024-02-05T09:00:00+07:00",
        "due": "2024-02-05T16:00:00+07:00",
        "original_due": "2024-02-05T15:00:00+07:00",
        "paused": 3600,
        "paused_label": "1 giờ làm việc",
        "provisional": False,
        "calendar": "vn-civil-service",
        "calendar_version": cal.version,
    }
    assert report["explanation"] and "Tạm dừng từ" in " ".join(report["explanation"])


def test_calendar_year_report_rows(cal: Calendar) -> None:
    rows = calendar_year_report(cal, 2024)
    assert rows[0] == {
        "date": "2024-01-01",
        "weekday": "Thứ Hai",
        "kind": "off",
        "name": "Tết Dương lịch",
        "reason": "nghỉ Tết Dương lịch",
        "source": "Bộ luật Lao động 2019, Điều 112",
        "verified": True,
        "layer": "decree",
        "provisional": False,
        "swapped_with": None,
    }
    assert rows[-1]["date"] == "2024-09-03"
    assert len(rows) == 13


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-07T10:00-01:00", at(2024, 2, 7, 18)),
        ("2024-02-07T10:00+23:59", at(2024, 2, 6, 17, 1)),
        ("2024-02-07T10:00+0530", at(2024, 2, 7, 11, 30)),
    ],
)
def test_parse_instant_offsets(text: str, expected: datetime) -> None:
    assert parse_instant(text) == expected


@pytest.mark.parametrize("text", ["2024-02-07T10:00+24:00", "2024-02-07T10:00+07:60"])
def test_parse_instant_refuses_impossible_offsets(text: str) -> None:
    with pytest.raises(BadInstant) as caught:
        parse_instant(text)
    assert caught.value.code == "legaltime.unparseable_instant"


def test_parse_pause_codes() -> None:
    with pytest.raises(BadPause) as caught:
        parse_pause("2024-02-07T10:00")
    assert caught.value.code == "legaltime.unparseable_pause"
    with pytest.raises(BadPause) as caught:
        parse_pause("2024-02-07T10:00/2024-02-07T10:00")  # empty: end must be after start
    assert caught.value.code == "legaltime.pause_inverted"


def test_cutoff_counts_hours_minutes_and_seconds() -> None:
    cal = default_calendar(cutoff=time(15, 30, 20))
    assert cal.cutoff_seconds == 15 * 3600 + 30 * 60 + 20
    # received one second after the cut-off: counted from the next working day
    assert start_of_clock(cal, at(2024, 3, 4, 15, 30, 21)) == at(2024, 3, 5, 7, 30)
    assert start_of_clock(cal, at(2024, 3, 4, 15, 30, 20)) == at(2024, 3, 4, 15, 30, 20)
