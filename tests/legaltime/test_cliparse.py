from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cchc.legaltime import (
    BadDuration,
    BadInstant,
    BadPause,
    Calendar,
    CalendarCoverageError,
    calendar_year_report,
    due_report,
    parse_instant,
    parse_pause,
)

from .helpers import at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-07T10:00", at(2024, 2, 7, 10)),
        ("2024-02-07 10:00", at(2024, 2, 7, 10)),
        ("2024-02-07T10:00:30", at(2024, 2, 7, 10, 0, 30)),
        ("2024-02-07T10:00+07:00", at(2024, 2, 7, 10)),
        ("2024-02-07T03:00Z", at(2024, 2, 7, 10)),
        ("2024-02-07T05:00:00+02:00", at(2024, 2, 7, 10)),
        ("2024-02-07T10:00+0700", at(2024, 2, 7, 10)),
    ],
)
def test_parse_instant(text: str, expected: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["", "07/02/2024 10:00", "2024-02-30T10:00", "2024-02-07", "x"])
def test_parse_instant_errors(text: str) -> None:
    with pytest.raises(BadInstant) as info:
        parse_instant(text)
    assert info.value.code == "legaltime.unparseable_instant"
    assert "thời điểm" in info.value.message.lower()


def test_parse_pause() -> None:
    assert parse_pause("2024-02-07T10:00/2024-02-08 09:00") == (
        at(2024, 2, 7, 10),
        at(2024, 2, 8, 9),
    )
    with pytest.raises(BadPause):
        parse_pause("2024-02-07T10:00")
    with pytest.raises(BadPause, match="phải sau"):
        parse_pause("2024-02-08T10:00/2024-02-07T10:00")


def test_due_report(cal: Calendar) -> None:
    report = due_report(cal, "2024-02-05 09:00", "3wd", ["2024-02-07T16:00/2024-02-15T08:00"])
    assert report["start"] == "2024-02-05T09:00:00+07:00"
    assert report["original_due"] == "2024-02-15T09:00:00+07:00"
    assert report["due"] == "2024-02-15T11:00:00+07:00"
    assert report["paused"] == 7200
    assert report["calendar"] == "vn-civil-service"
    assert report["calendar_version"] == cal.version
    assert all(isinstance(t, str) for t in report["explanation"])
    json.dumps(report, ensure_ascii=False)
    same = due_report(cal, at(2024, 2, 5, 2).astimezone(UTC), "3wd")
    assert same["received"] == "2024-02-05T02:00:00+07:00"


def test_due_report_errors(cal: Calendar) -> None:
    with pytest.raises(BadDuration, match="Đơn vị thời hạn không hợp lệ"):
        due_report(cal, "2024-02-05 09:00", "3w")
    with pytest.raises(BadDuration, match="không được âm"):
        due_report(cal, "2024-02-05 09:00", "-3wd")
    with pytest.raises(BadPause, match="ngoài vòng đời hồ sơ"):
        due_report(cal, "2024-02-05 09:00", "3wd", ["2024-02-01T09:00/2024-02-06T09:00"])
    with pytest.raises(CalendarCoverageError, match="chưa có dữ liệu năm 2027"):
        due_report(cal, "2027-02-05 09:00", "3wd")


def test_calendar_year_report(cal: Calendar) -> None:
    rows = calendar_year_report(cal, 2024)
    dates = [r["date"] for r in rows]
    assert dates == [
        "2024-01-01",
        "2024-02-08",
        "2024-02-09",
        "2024-02-12",
        "2024-02-13",
        "2024-02-14",
        "2024-04-18",
        "2024-04-29",
        "2024-04-30",
        "2024-05-01",
        "2024-05-04",
        "2024-09-02",
        "2024-09-03",
    ]
    saturday = rows[dates.index("2024-05-04")]
    assert saturday["weekday"] == "Thứ Bảy"
    assert saturday["kind"] == "work"
    assert saturday["reason"] == "ngày làm việc bù cho thứ Hai 29/04/2024"
    assert saturday["verified"] is True
    rows_2026 = calendar_year_report(cal, 2026)
    unverified = [r["date"] for r in rows_2026 if not r["verified"]]
    # Weekdays and worked weekend days whose source was not read in the original act: the
    # New Year swap (document number unverified), Tết (notice known from the press), the
    # Quốc khánh swap and 24/11 (from the holidays package; 24/11 rests on a resolution).
    assert unverified == [
        "2026-01-02",
        "2026-01-10",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-08-22",
        "2026-08-31",
        "2026-09-01",
        "2026-09-02",
        "2026-11-24",
    ]
    assert "2026-01-02" in [r["date"] for r in rows_2026]
    assert "2026-01-10" in [r["date"] for r in rows_2026]
    with pytest.raises(CalendarCoverageError, match="chưa có dữ liệu năm 2027"):
        calendar_year_report(cal, 2027)


def test_calendar_year_report_provisional(cal_provisional: Calendar) -> None:
    rows = calendar_year_report(cal_provisional, 2030)
    assert rows[0]["date"] == "2030-01-01"
    assert all(r["provisional"] for r in rows)
    assert "2030-02-04" in [r["date"] for r in rows]
