from __future__ import annotations

from decimal import Decimal

import pytest

from cchc.legaltime import BadDuration, Duration, LegalTimeError, Unit, parse_duration


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("2wd", "2", Unit.WORKING_DAYS),
        ("0.5wd", "0.5", Unit.WORKING_DAYS),
        ("0,5wd", "0.5", Unit.WORKING_DAYS),
        ("0wd", "0", Unit.WORKING_DAYS),
        ("4wh", "4", Unit.WORKING_HOURS),
        ("15d", "15", Unit.DAYS),
        ("1mo", "1", Unit.MONTHS),
        (" 3 WD ", "3", Unit.WORKING_DAYS),
    ],
)
def test_parse(text: str, amount: str, unit: Unit) -> None:
    parsed = parse_duration(text)
    assert parsed == Duration(Decimal(amount), unit)


def test_working_seconds() -> None:
    assert parse_duration("1wd").working_seconds() == 8 * 3600
    assert parse_duration("0.5wd").working_seconds() == 4 * 3600
    assert parse_duration("1.5wh").working_seconds() == 5400
    assert parse_duration("2wd").working_seconds(7 * 3600) == 14 * 3600


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-1wd", "legaltime.negative_duration"),
        ("3weeks", "legaltime.unknown_unit"),
        ("3", "legaltime.unknown_unit"),
        ("abc", "legaltime.unparseable_duration"),
        ("1.5d", "legaltime.fractional_duration"),
        ("0.5mo", "legaltime.fractional_duration"),
    ],
)
def test_bad_durations(text: str, code: str) -> None:
    with pytest.raises(BadDuration) as info:
        parse_duration(text)
    assert info.value.code == code
    assert isinstance(info.value, LegalTimeError)
    assert info.value.message


def test_messages_are_vietnamese() -> None:
    with pytest.raises(BadDuration, match="Đơn vị thời hạn không hợp lệ"):
        parse_duration("2xy")
    with pytest.raises(BadDuration, match="không được âm"):
        parse_duration("-2wd")


def test_labels_and_str() -> None:
    assert parse_duration("0.5wd").label == "0,5 ngày làm việc"
    assert parse_duration("2wd").label == "2 ngày làm việc"
    assert str(parse_duration("0.50wd")) == "0.5wd"
    assert str(Duration.months(3)) == "3mo"
    assert parse_duration("1wd") + parse_duration("0.5wd") == parse_duration("1.5wd")
    with pytest.raises(BadDuration):
        _ = parse_duration("1wd") + parse_duration("1wh")


def test_calendar_units_have_no_working_seconds() -> None:
    with pytest.raises(BadDuration):
        Duration.days(3).working_seconds()
