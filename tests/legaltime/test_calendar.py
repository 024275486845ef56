"""Calendar layers, shipped data, coverage."""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import pytest

from cchc.legaltime import (
    BadCalendar,
    Calendar,
    CalendarCoverageError,
    DayKind,
    DayOverride,
    Layer,
    WeeklyPattern,
    default_calendar,
    due,
    explain_due,
    parse_schedule,
    shipped_schedules,
    start_of_clock,
)

from .helpers import at


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def test_shipped_years() -> None:
    schedules = shipped_schedules()
    assert [s.year for s in schedules] == [2024, 2025, 2026]
    assert default_calendar().covered_years == frozenset({2024, 2025, 2026})


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_shipped_data_against_holidays_package(year: int) -> None:
    """The shipped data and ``holidays`` 0.109 differ only in the known places."""
    statutory = holidays.country_holidays("VN", years=year)
    schedule = next(s for s in shipped_schedules() if s.year == year)
    data_off = {e.date for e in schedule.entries if e.kind is DayKind.OFF and e.date.weekday() < 5}
    data_work = {e.date for e in schedule.entries if e.kind is DayKind.WORK}
    lib_off = {d for d in statutory if d.weekday() < 5}
    lib_work = {d for d in statutory.weekend_workdays if d.year == year}
    known_missing_in_holidays = {2026: {date(2026, 1, 2)}}.get(year, set())
    known_work_missing_in_holidays = {2026: {date(2026, 1, 10)}}.get(year, set())
    assert data_off - lib_off == known_missing_in_holidays
    assert lib_off - data_off == set()
    assert data_work - lib_work == known_work_missing_in_holidays
    assert lib_work - data_work == set()
    # Every weekday off and worked weekend of the calendar is exactly the data's.
    calendar = default_calendar()
    for day in _days(year):
        info = calendar.day_info(day)
        if day.weekday() < 5:
            assert info.working == (day not in data_off), day
        else:
            assert info.working == (day in data_work), day


def test_unverified_2026_entries_are_marked() -> None:
    schedule = next(s for s in shipped_schedules() if s.year == 2026)
    unverified = {e.date for e in schedule.entries if not e.verified}
    new_year_swap = {date(2026, 1, d) for d in (2, 3, 4, 10)}
    tet = {date(2026, 2, d) for d in range(14, 23)}
    national_day = {date(2026, 8, 22), date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)}
    assert unverified == new_year_swap | tet | national_day | {date(2026, 11, 24)}
    for entry in schedule.entries:
        if not entry.verified:
            # Each says what is not verified.
            assert "chưa đối chiếu" in entry.note or "chưa xác minh" in entry.note
        # Nothing still waits for a number to be filled in.
        assert "cần xác minh" not in entry.source


def test_2026_sources_name_the_acts_behind_them() -> None:
    by_date = {e.date: e for s in shipped_schedules() if s.year == 2026 for e in s.entries}
    culture = by_date[date(2026, 11, 24)]
    # 24/11 is not a Labour Code holiday: its basis is the Politburo's resolution.
    assert culture.source.startswith("Nghị quyết 80-NQ/TW ngày 07/01/2026 của Bộ Chính trị")
    assert "không thuộc Bộ luật Lao động 2019, Điều 112" in culture.source
    assert "văn bản pháp luật thực hiện" in culture.note
    for day in range(14, 23):
        tet = by_date[date(2026, 2, day)]
        assert "Thông báo số 9441 ngày 16/10/2025 của Bộ Nội vụ" in tet.source
        assert "theo báo chí" in tet.source
    for day in (date(2026, 1, 2), date(2026, 1, 10)):
        assert "12729/VPCP-KGVX chưa xác minh" in by_date[day].source
    # Statutory fixed dates stay verified.
    assert by_date[date(2026, 1, 1)].verified and by_date[date(2026, 4, 30)].verified


def test_every_entry_has_a_source_and_swaps_are_paired() -> None:
    for schedule in shipped_schedules():
        by_date = {e.date: e for e in schedule.entries}
        for entry in schedule.entries:
            assert entry.source.strip()
            assert entry.date.year == schedule.year
            if entry.kind is DayKind.WORK:
                assert entry.date.weekday() >= 5
                assert entry.swapped_with is not None
            if entry.swapped_with is not None:
                assert by_date[entry.swapped_with].swapped_with == entry.date


def test_swapped_saturdays() -> None:
    calendar = default_calendar()
    for saturday, weekday in [
        (date(2024, 5, 4), date(2024, 4, 29)),
        (date(2025, 4, 26), date(2025, 5, 2)),
        (date(2026, 1, 10), date(2026, 1, 2)),
    ]:
        info = calendar.day_info(saturday)
        assert info.working and info.kind is DayKind.WORK and info.layer is Layer.DECREE
        assert info.swapped_with == weekday
        assert not calendar.is_working_day(weekday)


def test_tet_2030_is_2_february_in_statutory_layer() -> None:
    calendar = default_calendar(provisional_years_ok=True)
    tet = calendar.day_info(date(2030, 2, 2))
    assert tet.layer is Layer.STATUTORY
    assert tet.name == "Tết Nguyên đán"
    assert tet.provisional
    second = calendar.day_info(date(2030, 2, 3))
    assert second.name != "Tết Nguyên đán"
    assert "Mùng hai" in second.name
    # The weekdays of Tết 2030 (29 Chạp .. mùng 5) are days off.
    for day in (date(2030, 1, 31), date(2030, 2, 1), date(2030, 2, 4), date(2030, 2, 6)):
        assert not calendar.is_working_day(day)
    assert calendar.is_working_day(date(2030, 2, 7))


def test_coverage_error() -> None:
    calendar = default_calendar()
    with pytest.raises(CalendarCoverageError) as info:
        due(calendar, at(2026, 12, 30, 10), "5wd")
    assert info.value.year == 2027
    assert info.value.code == "legaltime.calendar_coverage"
    assert "Lịch làm việc chưa có dữ liệu năm 2027" in info.value.message
    with pytest.raises(CalendarCoverageError, match="năm 2023"):
        start_of_clock(calendar, at(2023, 12, 29, 9))
    with pytest.raises(CalendarCoverageError, match="năm 2027"):
        calendar.day_info(date(2027, 1, 4))
    with pytest.raises(CalendarCoverageError, match="năm 2027"):
        due(calendar, at(2026, 12, 1, 10), "1mo")


def test_provisional_years(cal_provisional: Calendar) -> None:
    result = explain_due(cal_provisional, at(2026, 12, 30, 10), "5wd")
    # Wed 5.5 h, Thu 31/12 8 h, Fri 1/1/2027 Tết Dương lịch (statutory), Mon-Wed 24 h,
    # Thu 7/1 2.5 h.
    assert result.due == at(2027, 1, 7, 10)
    assert result.provisional
    assert result.explanation is not None
    assert result.explanation.provisional
    assert any("tạm tính" in t for t in result.explanation.texts())
    inside = explain_due(cal_provisional, at(2026, 3, 2, 10), "1wd")
    assert not inside.provisional


def test_gap_years_are_not_covered() -> None:
    schedules = [s for s in shipped_schedules() if s.year != 2025]
    from cchc.legaltime import calendar_from_schedules

    calendar = calendar_from_schedules(schedules, code="gap")
    assert due(calendar, at(2024, 3, 4, 9), "1wd") == at(2024, 3, 5, 9)
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        due(calendar, at(2024, 12, 20, 9), "20wd")
    with pytest.raises(CalendarCoverageError, match="năm 2025"):
        due(calendar, at(2025, 6, 2, 9), "1wd")


def test_calendar_from_plain_data() -> None:
    calendar = Calendar(
        code="tinh-x",
        version="2025-01",
        weekly=WeeklyPattern(frozenset({0, 1, 2, 3, 4})),
        overrides=[
            DayOverride(date(2025, 3, 10), DayKind.OFF, "bầu cử", "Quyết định 1/QĐ-UBND"),
            DayOverride(date(2025, 3, 15), DayKind.WORK, "làm bù", "Quyết định 1/QĐ-UBND"),
        ],
        covered_years=[2025],
    )
    assert not calendar.is_working_day(date(2025, 3, 10))
    assert calendar.is_working_day(date(2025, 3, 15))
    # The statutory layer is used: Giỗ Tổ 7/4/2025.
    assert not calendar.is_working_day(date(2025, 4, 7))
    assert calendar.day_info(date(2025, 4, 7)).layer is Layer.STATUTORY
    without = calendar.replace(statutory_holidays=False, version="2025-02")
    assert without.is_working_day(date(2025, 4, 7))
    assert due(calendar, at(2025, 3, 7, 9), "1wd") == at(2025, 3, 11, 9)


def test_duplicate_override_is_rejected() -> None:
    with pytest.raises(BadCalendar, match="khai báo hai lần"):
        Calendar(
            code="x",
            version="1",
            overrides=[
                DayOverride(date(2025, 3, 10), DayKind.OFF, "a", "s"),
                DayOverride(date(2025, 3, 10), DayKind.OFF, "b", "s"),
            ],
            covered_years=[2025],
        )


def test_six_day_week() -> None:
    calendar = Calendar(
        code="six",
        version="1",
        weekly=WeeklyPattern(frozenset({0, 1, 2, 3, 4, 5})),
        covered_years=[2025],
    )
    assert calendar.is_working_day(date(2025, 3, 8))
    assert due(calendar, at(2025, 3, 7, 16), "1wd") == at(2025, 3, 8, 16)


SCHEDULE = """
schema = 1
calendar = "x"
year = 2025
[[day]]
date = 2025-03-10
kind = "off"
name = "nghỉ"
source = "QĐ 1"
"""


def test_parse_schedule() -> None:
    parsed = parse_schedule(SCHEDULE)
    assert parsed.year == 2025 and len(parsed.entries) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "off"', 'kind = "holiday"'), "kind"),
        (("date = 2025-03-10", "date = 2024-03-10"), "không thuộc năm 2025"),
        (('source = "QĐ 1"', 'source = ""'), "thiếu source"),
        (("schema = 1", "schema = 2"), "schema"),
        (('name = "nghỉ"', 'name = "nghỉ"\ncolour = 1'), "không hỗ trợ"),
        (("date = 2025-03-10", "date = 2025-03-10\nswapped_with = 2025-03-15"), "hoán đổi"),
        (("[[day]]", "[[day"), "TOML"),
    ],
)
def test_parse_schedule_errors(change: tuple[str, str], message: str) -> None:
    with pytest.raises(BadCalendar, match=message):
        parse_schedule(SCHEDULE.replace(*change))


def test_day_info_reasons(cal: Calendar) -> None:
    info = cal.day_info(date(2024, 2, 8))
    assert info.name == "Tết Nguyên đán" and info.layer is Layer.DECREE
    assert "5015/TB-LĐTBXH" in info.source
    weekend = cal.day_info(date(2024, 3, 9))
    assert weekend.weekend and weekend.layer is Layer.WEEKLY and not weekend.working
