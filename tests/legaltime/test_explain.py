from __future__ import annotations

from datetime import date

from cchc.legaltime import (
    Calendar,
    ItemKind,
    default_calendar,
    explain_due,
    explain_elapsed,
    explain_start,
    explain_steps,
)

from .helpers import at


def test_explain_tet_2024(cal: Calendar) -> None:
    result = explain_due(cal, at(2024, 2, 6, 22), "2wd")
    assert result.explanation is not None
    texts = result.explanation.texts()
    assert texts[0] == (
        "Tiếp nhận 22:00 thứ Ba 06/02/2024 ngoài giờ làm việc: bắt đầu tính từ 07:30 thứ Tư "
        "07/02/2024."
    )
    skipped = result.explanation.of_kind(ItemKind.SKIPPED_DAY)
    assert [i.date for i in skipped] == [
        date(2024, 2, 8),
        date(2024, 2, 9),
        date(2024, 2, 10),
        date(2024, 2, 11),
        date(2024, 2, 12),
        date(2024, 2, 13),
        date(2024, 2, 14),
    ]
    assert skipped[0].text.startswith("Thứ Năm 08/02/2024: nghỉ Tết Nguyên đán — ")
    assert "Thông báo 5015/TB-LĐTBXH" in skipped[0].text
    assert skipped[2].text.startswith("Thứ Bảy 10/02/2024: nghỉ cuối tuần")
    final = result.explanation.items[-1]
    assert final.kind is ItemKind.RESULT
    assert final.text == (
        "Hạn giải quyết: 17:30 thứ Năm 15/02/2024 (2 ngày làm việc tính từ 07:30 thứ Tư "
        "07/02/2024)."
    )


def test_explain_swapped_saturday(cal: Calendar) -> None:
    result = explain_due(cal, at(2024, 4, 25, 9), "5wd")
    assert result.explanation is not None
    swapped = result.explanation.of_kind(ItemKind.SWAPPED_WORKDAY)
    assert len(swapped) == 1
    assert swapped[0].text.startswith(
        "Thứ Bảy 04/05/2024: ngày làm việc bù cho thứ Hai 29/04/2024 — Văn bản 2450/VPCP-KGVX"
    )
    monday = next(i for i in result.explanation if i.date == date(2024, 4, 29))
    assert "làm bù thứ Bảy 04/05/2024" in monday.text


def test_explain_unverified_days(cal: Calendar) -> None:
    result = explain_due(cal, at(2026, 11, 23, 9), "1wd")
    assert result.explanation is not None
    item = next(i for i in result.explanation if i.date == date(2026, 11, 24))
    assert not item.verified
    assert "chưa đối chiếu văn bản pháp lý" in item.text


def test_explain_start_rules(cal: Calendar) -> None:
    lunch = explain_start(cal, at(2024, 3, 4, 11, 30)).texts()[0]
    assert lunch == (
        "Tiếp nhận 11:30 thứ Hai 04/03/2024 trong giờ nghỉ trưa: bắt đầu tính từ 13:30 thứ Hai "
        "04/03/2024."
    )
    inside = explain_start(cal, at(2024, 3, 4, 9)).texts()[0]
    assert "trong giờ làm việc: bắt đầu tính ngay" in inside
    holiday = explain_start(cal, at(2024, 2, 8, 9)).texts()[0]
    assert holiday.startswith("Tiếp nhận 09:00 thứ Năm 08/02/2024 vào ngày nghỉ (nghỉ Tết")
    weekend = explain_start(cal, at(2024, 3, 9, 9)).texts()[0]
    assert "vào ngày nghỉ (nghỉ cuối tuần)" in weekend
    cutoff = default_calendar(cutoff=__import__("datetime").time(15, 0))
    text = explain_start(cutoff, at(2024, 3, 4, 15, 30)).texts()[0]
    assert "sau giờ chốt nhận hồ sơ 15:00" in text
    reception = default_calendar(saturday_reception=True)
    text = explain_start(reception, at(2024, 3, 9, 9)).texts()[0]
    assert "tại buổi tiếp nhận sáng thứ Bảy (không tính vào thời gian giải quyết)" in text


def test_explain_pause_and_calendar_days(cal: Calendar) -> None:
    result = explain_due(cal, at(2024, 2, 5, 9), "3wd", [(at(2024, 2, 7, 16), at(2024, 2, 15, 8))])
    assert result.explanation is not None
    pause = result.explanation.of_kind(ItemKind.PAUSE)[0]
    assert pause.text == (
        "Tạm dừng từ 16:00 thứ Tư 07/02/2024 đến 08:00 thứ Năm 15/02/2024: 2 giờ làm việc "
        "không tính vào thời hạn."
    )
    assert "Hạn ban đầu: 09:00 thứ Năm 15/02/2024" in result.explanation.items[-1].text
    days = explain_due(cal, at(2024, 4, 22, 9), "8d")
    assert days.explanation is not None
    rule = days.explanation.of_kind(ItemKind.RULE)[0]
    assert "Bộ luật Dân sự 2015" in rule.text
    assert "trùng ngày nghỉ" in rule.text and "thứ Năm 02/05/2024" in rule.text


def test_explain_elapsed_and_steps(cal: Calendar) -> None:
    text = explain_elapsed(cal, at(2024, 2, 7, 9), at(2024, 2, 15, 9)).texts()[-1]
    assert text.endswith(": 8 giờ làm việc (1 ngày làm việc).")
    steps = explain_steps(cal, at(2024, 3, 4, 9), ["1wd", "0.5wd"]).texts()
    assert steps[-2] == "Bước 1 (1 ngày làm việc): hạn 09:00 thứ Ba 05/03/2024."
    assert steps[-1] == "Bước 2 (0,5 ngày làm việc): hạn 15:00 thứ Ba 05/03/2024."


def test_explain_saturday_reception_counted() -> None:
    calendar = default_calendar(saturday_reception=True, saturday_advances_clock=True)
    result = explain_due(calendar, at(2024, 3, 8, 16), "1wd")
    assert result.explanation is not None
    saturday = result.explanation.of_kind(ItemKind.SATURDAY_RECEPTION)
    assert [i.text for i in saturday] == [
        "Thứ Bảy 09/03/2024: tiếp nhận hồ sơ buổi sáng thứ Bảy, được tính vào thời gian giải quyết"
    ]
    plain = default_calendar(saturday_reception=True)
    result = explain_due(plain, at(2024, 3, 8, 16), "1wd")
    assert result.explanation is not None
    skipped = result.explanation.of_kind(ItemKind.SKIPPED_DAY)
    assert skipped[0].text == (
        "Thứ Bảy 09/03/2024: nghỉ cuối tuần, chỉ tiếp nhận hồ sơ buổi sáng, không tính vào thời "
        "gian giải quyết"
    )
