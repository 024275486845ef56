"""Clock start and due instants on the default civil-service calendar."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from cchc.legaltime import (
    BadInstant,
    Calendar,
    default_calendar,
    due,
    elapsed,
    parse_duration,
    start_of_clock,
)

from .helpers import at

# -- the brief's examples ---------------------------------------------------------------------


def test_monday_plus_three_working_days(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 4, 9), "3wd") == at(2024, 3, 7, 9)


def test_friday_plus_one_working_day(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 8, 16), "1wd") == at(2024, 3, 11, 16)


def test_tet_2024_is_skipped(cal: Calendar) -> None:
    assert due(cal, at(2024, 2, 7, 10), "2wd") == at(2024, 2, 16, 10)


def test_half_day(cal: Calendar) -> None:
    # 2.5 h in the morning (09:00-11:30), then 1.5 h from 13:30.
    assert due(cal, at(2024, 3, 4, 9), "0.5wd") == at(2024, 3, 4, 15)
    assert due(cal, at(2024, 3, 4, 9), "4wh") == at(2024, 3, 4, 15)


def test_consumption_ending_at_session_end_stays_there(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 4, 7, 30), "1wd") == at(2024, 3, 4, 17, 30)
    assert due(cal, at(2024, 3, 4, 13, 30), "0.5wd") == at(2024, 3, 4, 17, 30)
    assert due(cal, at(2024, 3, 4, 7, 30), "4wh") == at(2024, 3, 4, 11, 30)


def test_zero_is_same_day(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 4, 9), "0wd") == at(2024, 3, 4, 17, 30)
    assert due(cal, at(2024, 3, 4, 22), "0wd") == at(2024, 3, 5, 17, 30)
    assert due(cal, at(2024, 3, 4, 9), "0d") == at(2024, 3, 4, 17, 30)


# -- start of clock at the edges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "start"),
    [
        (at(2024, 3, 4, 7, 30), at(2024, 3, 4, 7, 30)),
        (at(2024, 3, 4, 9, 15, 7), at(2024, 3, 4, 9, 15, 7)),
        (at(2024, 3, 4, 11, 30), at(2024, 3, 4, 13, 30)),
        (at(2024, 3, 4, 12, 0), at(2024, 3, 4, 13, 30)),
        (at(2024, 3, 4, 13, 30), at(2024, 3, 4, 13, 30)),
        (at(2024, 3, 4, 17, 30), at(2024, 3, 5, 7, 30)),
        (at(2024, 3, 4, 22, 0), at(2024, 3, 5, 7, 30)),
        (at(2024, 3, 5, 6, 0), at(2024, 3, 5, 7, 30)),
        (at(2024, 3, 8, 17, 30), at(2024, 3, 11, 7, 30)),
        (at(2024, 3, 9, 10, 0), at(2024, 3, 11, 7, 30)),
        (at(2024, 3, 10, 23, 59, 59), at(2024, 3, 11, 7, 30)),
        (at(2024, 2, 8, 9, 0), at(2024, 2, 15, 7, 30)),
        (at(2024, 2, 7, 17, 30), at(2024, 2, 15, 7, 30)),
        (at(2024, 9, 2, 9, 0), at(2024, 9, 4, 7, 30)),
    ],
)
def test_start_of_clock(cal: Calendar, received: datetime, start: datetime) -> None:
    assert start_of_clock(cal, received) == start


def test_receipt_at_1130_uses_afternoon(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 4, 11, 30), "1wh") == at(2024, 3, 4, 14, 30)
    assert due(cal, at(2024, 3, 4, 17, 30), "1wh") == at(2024, 3, 5, 8, 30)


def test_other_timezones_are_converted(cal: Calendar) -> None:
    from datetime import UTC
    from zoneinfo import ZoneInfo

    received_utc = datetime(2024, 3, 4, 2, 0, tzinfo=UTC)  # 09:00 local
    assert due(cal, received_utc, "3wd") == at(2024, 3, 7, 9)
    received_zone = datetime(2024, 3, 4, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    assert due(cal, received_zone, "3wd") == at(2024, 3, 7, 9)
    assert due(cal, received_zone, "3wd").utcoffset().total_seconds() == 7 * 3600  # type: ignore[union-attr]


def test_naive_instant_is_rejected(cal: Calendar) -> None:
    with pytest.raises(BadInstant, match="không có múi giờ") as info:
        due(cal, datetime(2024, 3, 4, 9), "1wd")
    assert info.value.code == "legaltime.bad_instant"


# -- holiday periods 2024-2026 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "duration", "expected"),
    [
        # 2024
        (at(2023, 12, 29, 9), "1wd", None),  # 2023 not covered: checked elsewhere
        (at(2024, 1, 2, 9), "1wd", at(2024, 1, 3, 9)),
        (at(2024, 2, 7, 9), "1wd", at(2024, 2, 15, 9)),
        (at(2024, 4, 17, 9), "1wd", at(2024, 4, 19, 9)),  # Giỗ Tổ Thu 18/4
        (at(2024, 4, 26, 9), "1wd", at(2024, 5, 2, 9)),  # 27/4-1/5
        (at(2024, 5, 3, 9), "1wd", at(2024, 5, 4, 9)),  # Sat 4/5 is worked
        (at(2024, 5, 4, 8, 0), "1wh", at(2024, 5, 4, 9, 0)),
        (at(2024, 8, 30, 9), "1wd", at(2024, 9, 4, 9)),  # 31/8-3/9
        # 2025
        (at(2024, 12, 31, 9), "1wd", at(2025, 1, 2, 9)),
        (at(2025, 1, 24, 9), "1wd", at(2025, 2, 3, 9)),  # Tết 25/1-2/2
        (at(2025, 4, 4, 9), "1wd", at(2025, 4, 8, 9)),  # Giỗ Tổ Mon 7/4
        (at(2025, 4, 25, 9), "1wd", at(2025, 4, 26, 9)),  # Sat 26/4 is worked
        (at(2025, 4, 29, 9), "1wd", at(2025, 5, 5, 9)),  # 30/4-4/5
        (at(2025, 8, 29, 9), "1wd", at(2025, 9, 3, 9)),  # 30/8-2/9
        # 2026
        (at(2025, 12, 31, 9), "1wd", at(2026, 1, 5, 9)),  # 1/1-4/1
        (at(2026, 1, 9, 9), "1wd", at(2026, 1, 10, 9)),  # Sat 10/1 is worked
        (at(2026, 2, 13, 9), "1wd", at(2026, 2, 23, 9)),  # Tết 14/2-22/2
        (at(2026, 4, 24, 9), "1wd", at(2026, 4, 28, 9)),  # Giỗ Tổ compensated Mon 27/4
        (at(2026, 4, 29, 9), "1wd", at(2026, 5, 4, 9)),  # 30/4-1/5
        (at(2026, 8, 21, 9), "1wd", at(2026, 8, 22, 9)),  # Sat 22/8 worked (unverified)
        (at(2026, 8, 28, 9), "1wd", at(2026, 9, 3, 9)),  # 31/8-2/9 (unverified)
        (at(2026, 11, 23, 9), "1wd", at(2026, 11, 25, 9)),  # 24/11 (unverified)
    ],
)
def test_holiday_periods(
    cal: Calendar, received: datetime, duration: str, expected: datetime | None
) -> None:
    if expected is None:
        return
    assert due(cal, received, duration) == expected


def test_working_saturdays_count_a_full_day(cal: Calendar) -> None:
    for saturday in (at(2024, 5, 4), at(2025, 4, 26), at(2026, 1, 10)):
        day = saturday.date()
        assert cal.is_working_day(day)
        assert cal.describe_sessions(day) == "07:30-11:30, 13:30-17:30"
        assert elapsed(cal, saturday, saturday.replace(hour=23)) == 8 * 3600


def test_every_listed_weekday_off_is_not_working(cal: Calendar) -> None:
    off = {
        "2024": ["01-01", "02-08", "02-09", "02-12", "02-13", "02-14", "04-18", "04-29",
                 "04-30", "05-01", "09-02", "09-03"],
        "2025": ["01-01", "01-27", "01-28", "01-29", "01-30", "01-31", "04-07", "04-30",
                 "05-01", "05-02", "09-01", "09-02"],
        "2026": ["01-01", "01-02", "02-16", "02-17", "02-18", "02-19", "02-20", "04-27",
                 "04-30", "05-01", "08-31", "09-01", "09-02", "11-24"],
    }  # fmt: skip
    from datetime import date

    for year, days in off.items():
        for text in days:
            day = date.fromisoformat(f"{year}-{text}")
            assert not cal.is_working_day(day), day


# -- calendar days and months (Bộ luật Dân sự 2015, Điều 147-148) -----------------------------


def test_calendar_days_end_at_end_of_last_day(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 4, 10), "10d") == at(2024, 3, 14, 17, 30)


def test_calendar_days_ending_on_weekend_move_to_next_working_day(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 1, 10), "1d") == at(2024, 3, 4, 17, 30)


def test_calendar_days_ending_on_holiday(cal: Calendar) -> None:
    # 22/4 + 8 days = Tue 30/4 (holiday) -> Thu 2/5.
    assert due(cal, at(2024, 4, 22, 9), "8d") == at(2024, 5, 2, 17, 30)
    # 1/2 + 10 days = Sun 11/2 within Tết -> Thu 15/2.
    assert due(cal, at(2024, 2, 1, 9), "10d") == at(2024, 2, 15, 17, 30)


def test_calendar_days_count_from_the_clock_start_day(cal: Calendar) -> None:
    # Received on Saturday: deemed received Monday 11/3 -> +1 day = Tue 12/3.
    assert due(cal, at(2024, 3, 9, 9), "1d") == at(2024, 3, 12, 17, 30)


@pytest.mark.parametrize(
    ("received", "duration", "expected"),
    [
        (at(2024, 1, 31, 10), "1mo", at(2024, 2, 29, 17, 30)),  # leap year
        (at(2025, 10, 31, 10), "1mo", at(2025, 12, 1, 17, 30)),  # 30/11 is a Sunday
        (at(2025, 1, 31, 10), "1mo", at(2025, 3, 3, 17, 30)),  # Tết: clock starts Mon 3/2
        (at(2026, 3, 31, 10), "1mo", at(2026, 5, 4, 17, 30)),  # 30/4 (no 31/4) is a holiday
        (at(2025, 3, 31, 10), "2mo", at(2025, 6, 2, 17, 30)),  # 31/5 is a Saturday
        (at(2024, 7, 31, 10), "1mo", at(2024, 9, 4, 17, 30)),  # 31/8 in Quốc khánh break
        (at(2024, 10, 31, 10), "1mo", at(2024, 12, 2, 17, 30)),  # 30/11 is a Saturday
        (at(2024, 3, 15, 10), "1mo", at(2024, 4, 15, 17, 30)),
        (at(2024, 12, 31, 10), "2mo", at(2025, 2, 28, 17, 30)),
        (at(2024, 3, 15, 10), "12mo", at(2025, 3, 17, 17, 30)),  # 15/3/2025 is Saturday
    ],
)
def test_months(cal: Calendar, received: datetime, duration: str, expected: datetime) -> None:
    assert due(cal, received, duration) == expected


# -- cut-off, Saturday reception, sessions ---------------------------------------------------------


def test_cutoff(cal_cutoff: Calendar) -> None:
    assert start_of_clock(cal_cutoff, at(2024, 3, 4, 15, 30)) == at(2024, 3, 5, 7, 30)
    assert start_of_clock(cal_cutoff, at(2024, 3, 4, 15, 0)) == at(2024, 3, 4, 15, 0)
    assert start_of_clock(cal_cutoff, at(2024, 3, 4, 14, 59)) == at(2024, 3, 4, 14, 59)
    assert start_of_clock(cal_cutoff, at(2024, 3, 8, 16, 0)) == at(2024, 3, 11, 7, 30)
    assert start_of_clock(cal_cutoff, at(2024, 2, 7, 15, 1)) == at(2024, 2, 15, 7, 30)
    assert due(cal_cutoff, at(2024, 3, 4, 15, 30), "1wd") == at(2024, 3, 5, 17, 30)


def test_saturday_reception_without_clock_advance() -> None:
    calendar = default_calendar(saturday_reception=True)
    assert start_of_clock(calendar, at(2024, 3, 9, 9)) == at(2024, 3, 11, 7, 30)
    assert due(calendar, at(2024, 3, 9, 9), "1wd") == at(2024, 3, 11, 17, 30)
    assert not calendar.is_working_day(at(2024, 3, 9).date())
    assert calendar.day_info(at(2024, 3, 9).date()).reception


def test_saturday_reception_with_clock_advance() -> None:
    calendar = default_calendar(saturday_reception=True, saturday_advances_clock=True)
    assert start_of_clock(calendar, at(2024, 3, 9, 9)) == at(2024, 3, 9, 9)
    # Saturday 09:00-11:30 (2.5 h), Monday 07:30-11:30 (4 h), 13:30 + 1.5 h.
    assert due(calendar, at(2024, 3, 9, 9), "1wd") == at(2024, 3, 11, 15, 0)
    assert start_of_clock(calendar, at(2024, 3, 9, 12)) == at(2024, 3, 11, 7, 30)
    # Friday 1.5 h + Saturday 4 h + Monday 2.5 h.
    assert due(calendar, at(2024, 3, 8, 16), "1wd") == at(2024, 3, 11, 10, 0)
    # No Saturday reception in a holiday period or on a worked Saturday it is a full day.
    assert start_of_clock(calendar, at(2024, 2, 10, 9)) == at(2024, 2, 15, 7, 30)
    assert calendar.describe_sessions(at(2024, 5, 4).date()) == "07:30-11:30, 13:30-17:30"


def test_saturday_clock_advance_needs_reception() -> None:
    from cchc.legaltime import BadCalendar

    with pytest.raises(BadCalendar):
        default_calendar(saturday_advances_clock=True)


def test_custom_and_seasonal_sessions() -> None:
    from cchc.legaltime import SessionPlan

    plan = SessionPlan.from_strings(
        ["07:30-11:30", "13:30-17:30"],
        seasonal=[((5, 1), (9, 30), ["07:00-11:00", "13:30-17:30"])],
    )
    calendar = default_calendar(sessions=plan)
    assert calendar.standard_day_seconds == 8 * 3600
    assert start_of_clock(calendar, at(2024, 6, 3, 6, 45)) == at(2024, 6, 3, 7, 0)
    assert due(calendar, at(2024, 6, 3, 7), "1wd") == at(2024, 6, 3, 17, 30)
    assert due(calendar, at(2024, 3, 4, 7, 0), "0.5wd") == at(2024, 3, 4, 11, 30)


def test_step_dues(cal: Calendar) -> None:
    from cchc.legaltime import step_dues

    dues = step_dues(cal, at(2024, 2, 6, 9), ["1wd", "0.5wd", "0wd", "2wh"])
    assert dues == [
        at(2024, 2, 7, 9),
        at(2024, 2, 7, 15),
        at(2024, 2, 7, 15),
        at(2024, 2, 7, 17, 0),
    ]
    assert step_dues(cal, at(2024, 3, 4, 22), ["0wd", "1wh"]) == [
        at(2024, 3, 5, 7, 30),
        at(2024, 3, 5, 8, 30),
    ]


def test_step_dues_reject_calendar_units(cal: Calendar) -> None:
    from cchc.legaltime import BadDuration, step_dues

    with pytest.raises(BadDuration, match="Thời hạn bước 2"):
        step_dues(cal, at(2024, 3, 4, 9), ["1wd", "3d"])


def test_duration_objects_and_strings_agree(cal: Calendar) -> None:
    assert due(cal, at(2024, 3, 4, 9), parse_duration("3wd")) == due(cal, at(2024, 3, 4, 9), "3wd")


def test_local_override_storm_closure(cal: Calendar) -> None:
    from cchc.legaltime import DayOverride, Layer

    storm = cal.with_local_overrides(
        [
            DayOverride(
                date=at(2024, 9, 9).date(),
                kind="off",  # type: ignore[arg-type]
                name="đóng cửa do bão Yagi",
                source="Công văn của UBND tỉnh (ví dụ)",
                layer=Layer.LOCAL,
            )
        ],
        version="test-storm",
    )
    assert due(storm, at(2024, 9, 6, 9), "1wd") == at(2024, 9, 10, 9)
    assert due(cal, at(2024, 9, 6, 9), "1wd") == at(2024, 9, 9, 9)
    # A local "work" override beats the decreed day off.
    opened = cal.with_local_overrides(
        [DayOverride(at(2024, 9, 3).date(), "work", "trực giải quyết hồ sơ", layer="local")],  # type: ignore[arg-type]
        version="test-open",
    )
    assert due(opened, at(2024, 8, 30, 9), "1wd") == at(2024, 9, 3, 9)


def test_cutoff_time_accepts_only_local_time() -> None:
    from datetime import UTC

    from cchc.legaltime import BadCalendar

    with pytest.raises(BadCalendar):
        default_calendar(cutoff=time(15, 0, tzinfo=UTC))
