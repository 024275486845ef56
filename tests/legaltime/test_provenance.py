"""Days the `holidays` package supplies carry their real source and are never verified."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from cchc.legaltime import provenance


def package_days(year: int) -> dict[dt.date, str]:
    return dict(holidays.country_holidays("VN", years=year, language="vi"))


@pytest.mark.parametrize("year", [2027, 2028, 2030])
def test_every_package_day_is_unverified_and_names_the_package(year: int) -> None:
    days = package_days(year)
    assert days
    for day, name in days.items():
        found = provenance.statutory(day, name)
        assert found.verified is False
        assert f"thư viện holidays {holidays.__version__}" in found.source
        assert found.note.strip()


def test_24_november_is_not_attributed_to_the_labour_code() -> None:
    day = dt.date(2027, 11, 24)
    assert package_days(2027)[day] == "Ngày Văn hóa Việt Nam"
    found = provenance.statutory(day, "Ngày Văn hóa Việt Nam")
    assert found.source.startswith("Nghị quyết 80-NQ/TW ngày 07/01/2026 của Bộ Chính trị")
    assert "không thuộc Bộ luật Lao động 2019, Điều 112" in found.source
    assert "chưa xác minh" in found.note


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Tết Dương lịch", "Bộ luật Lao động 2019, Điều 112;"),
        ("Mùng ba Tết Nguyên đán", "Tết Âm lịch 05 ngày"),
        ("29 Tết", "Tết Âm lịch 05 ngày"),
        ("Quốc khánh", "Quốc khánh 02 ngày"),
        ("Ngày Quốc tế Lao động (nghỉ bù)", "Điều 111 khoản 3"),
        ("Ngày nghỉ (thay cho ngày 22/08/2026)", "hoán đổi ngày làm việc"),
    ],
)
def test_each_kind_of_holiday_gets_its_basis(name: str, expected: str) -> None:
    assert expected in provenance.statutory(dt.date(2027, 1, 1), name).source


def test_the_provisional_year_sentence() -> None:
    text = provenance.provisional_year_text(2027)
    assert text.startswith("Năm 2027 chưa có lịch nghỉ lễ")
    assert "tạm tính" in text and "chưa đối chiếu văn bản" in text
