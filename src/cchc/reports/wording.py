"""Vietnamese wording of a report: the period in a title, dates on the date line (NĐ
30/2020/NĐ-CP), numbers with a decimal comma, abbreviations of issuing bodies."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from cchc.indicators.periods import ROMAN, Period

TWO = Decimal("0.01")


def period_phrase(period: Period) -> str:
    """The period as a report title says it: "quý II năm 2024", "6 tháng đầu năm 2024",
    "năm 2024", "tháng 6 năm 2024". A PAR period (2024-BC-…) is named after the report it
    feeds; its data window (15/12–14/6 …) is printed under the title."""
    y = period.end.year
    if period.kind == "year":
        return f"năm {y}"
    if period.kind == "quarter":
        return f"quý {ROMAN[(period.start.month - 1) // 3 + 1]} năm {y}"
    if period.kind == "half":
        return f"6 tháng {'đầu' if period.start.month == 1 else 'cuối'} năm {y}"
    if period.kind == "month":
        return f"tháng {period.start.month} năm {y}"
    which = period.code.rsplit("-", 1)[-1]
    return {
        "Q1": f"quý I năm {y}",
        "H1": f"6 tháng đầu năm {y}",
        # The Q3 report's data run 15/6–14/9: one quarter, not the nine months to date.
        "Q3": f"quý III năm {y}",
        "NAM": f"năm {y}",
    }.get(which, period.label)


def day_month(day: dt.date) -> str:
    """NĐ 30/2020, Phụ lục I: a day below 10 and a month below 3 take a leading zero."""
    d = f"{day.day:02d}" if day.day < 10 else str(day.day)
    m = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {d} tháng {m} năm {day.year}"


def place_and_date(place: str, day: dt.date) -> str:
    return f"{place}, {day_month(day)}" if place else day_month(day).capitalize()


def short_date(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def data_window(period: Period) -> str:
    return f"(Số liệu từ ngày {short_date(period.start)} đến ngày {short_date(period.end)})"


def q2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def number(value: Decimal | int | float | None) -> str:
    """Vietnamese number: counts as 1.234 (thousands dot), other values with two decimals
    and a decimal comma (66,67); "—" for None."""
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}".replace(",", ".")
    text = f"{q2(Decimal(str(value))):,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{number(q2(Decimal(value)))}%"


def signed(value: Decimal | None) -> str:
    if value is None:
        return "—"
    v = q2(Decimal(value))
    sign = "+" if v > 0 else ("−" if v < 0 else "")
    return f"{sign}{number(abs(v))}"


def lower_first(text: str) -> str:
    """Lower-case the first letter unless the first word is an acronym ("TTHC", "PCI")."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


_SKIP = {"và", "-", "–", "các", "của"}


def abbreviation(name: str) -> str:
    """Initials of a body's name as used in document symbols: "Sở Tư pháp" → "STP",
    "Sở Giáo dục và Đào tạo" → "SGDĐT"; an all-capitals word is kept whole ("UBND")."""
    out = []
    for word in re.split(r"[\s,]+", name.strip()):
        if not word or word.lower() in _SKIP:
            continue
        if len(word) > 1 and word.isupper():
            out.append(_ascii_upper(word))
        else:
            out.append(_ascii_upper(word[0]))
    return "".join(out)


def _ascii_upper(text: str) -> str:
    """Upper case without diacritics except Đ (symbols are written "SGDĐT")."""
    decomposed = unicodedata.normalize("NFD", text.upper())
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", plain)


def without_place(name: str, unit_name: str) -> str:
    """ "Sở Tư pháp tỉnh Bắc Giang" → "Sở Tư pháp" when the unit is "Tỉnh Bắc Giang"."""
    suffix = " " + unit_name
    if unit_name and name.lower().endswith(suffix.lower()):
        return name[: -len(suffix)].strip()
    return name


def upper(text: str) -> str:
    return unicodedata.normalize("NFC", text.upper())


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if unicodedata.category(ch) != "Mn")
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-").lower()
