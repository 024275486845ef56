"""Legal durations: working days/hours, calendar days and months."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache

from .errors import BadDuration

STANDARD_DAY_SECONDS = 8 * 3600


class Unit(StrEnum):
    """Duration units. ``wd``/``wh`` consume working time; ``d``/``mo`` follow the Civil Code."""

    WORKING_DAYS = "wd"
    WORKING_HOURS = "wh"
    DAYS = "d"
    MONTHS = "mo"

    @property
    def is_working(self) -> bool:
        return self in (Unit.WORKING_DAYS, Unit.WORKING_HOURS)

    @property
    def label(self) -> str:
        return _UNIT_LABELS[self]


_UNIT_LABELS = {
    Unit.WORKING_DAYS: "ngày làm việc",
    Unit.WORKING_HOURS: "giờ làm việc",
    Unit.DAYS: "ngày",
    Unit.MONTHS: "tháng",
}

#: Integer codes of units used by the vectorised API (:mod:`cchc.legaltime.bulk`).
UNIT_CODES: dict[Unit, int] = {
    Unit.WORKING_DAYS: 0,
    Unit.WORKING_HOURS: 1,
    Unit.DAYS: 2,
    Unit.MONTHS: 3,
}


def format_amount(amount: Decimal) -> str:
    """Vietnamese number formatting (decimal comma, no trailing zeros)."""
    text = format(amount.normalize(), "f") if amount != 0 else "0"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


@dataclass(frozen=True, slots=True)
class Duration:
    """A non-negative legal duration, e.g. ``Duration(Decimal("2"), Unit.WORKING_DAYS)``."""

    amount: Decimal
    unit: Unit

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            object.__setattr__(self, "amount", _to_decimal(self.amount))
        if not isinstance(self.unit, Unit):
            object.__setattr__(self, "unit", _to_unit(str(self.unit), str(self.unit)))
        if not self.amount.is_finite() or self.amount < 0:
            raise BadDuration(
                f"Thời hạn không được âm hoặc vô hạn: {self.amount} {self.unit.label}.",
                code="legaltime.negative_duration",
            )
        if not self.unit.is_working and self.amount != self.amount.to_integral_value():
            raise BadDuration(
                f"Thời hạn tính theo {self.unit.label} phải là số nguyên: "
                f"{format_amount(self.amount)} {self.unit.label}.",
                code="legaltime.fractional_duration",
            )

    @classmethod
    def working_days(cls, amount: int | float | str | Decimal) -> Duration:
        return cls(_to_decimal(amount), Unit.WORKING_DAYS)

    @classmethod
    def working_hours(cls, amount: int | float | str | Decimal) -> Duration:
        return cls(_to_decimal(amount), Unit.WORKING_HOURS)

    @classmethod
    def days(cls, amount: int) -> Duration:
        return cls(Decimal(amount), Unit.DAYS)

    @classmethod
    def months(cls, amount: int) -> Duration:
        return cls(Decimal(amount), Unit.MONTHS)

    @classmethod
    def from_working_seconds(cls, seconds: int) -> Duration:
        """A duration in working hours (exact) from working seconds."""
        return cls(Decimal(seconds) / Decimal(3600), Unit.WORKING_HOURS)

    @property
    def is_working(self) -> bool:
        return self.unit.is_working

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def working_seconds(self, standard_day_seconds: int = STANDARD_DAY_SECONDS) -> int:
        """Working time in whole seconds (rounded half-even); only for working units."""
        if self.unit is Unit.WORKING_DAYS:
            scale = standard_day_seconds
        elif self.unit is Unit.WORKING_HOURS:
            scale = 3600
        else:
            raise BadDuration(
                f"Thời hạn {self.label} không phải thời gian làm việc (chỉ chấp nhận wd, wh).",
                code="legaltime.not_working_unit",
            )
        return int((self.amount * scale).to_integral_value(rounding=ROUND_HALF_EVEN))

    @property
    def whole(self) -> int:
        """Integer amount of a calendar-day or month duration."""
        return int(self.amount)

    def __add__(self, other: object) -> Duration:
        if not isinstance(other, Duration):
            return NotImplemented
        if other.unit is not self.unit:
            raise BadDuration(
                f"Không cộng được hai thời hạn khác đơn vị: {self.label} và {other.label}.",
                code="legaltime.unit_mismatch",
            )
        return Duration(self.amount + other.amount, self.unit)

    @property
    def label(self) -> str:
        """Vietnamese label, e.g. ``"2 ngày làm việc"``."""
        return f"{format_amount(self.amount)} {self.unit.label}"

    def __str__(self) -> str:
        text = format(self.amount.normalize(), "f") if self.amount != 0 else "0"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return f"{text}{self.unit.value}"


_DURATION_RE = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*([A-Za-zđĐ]*)\s*$")


def _to_decimal(amount: int | float | str | Decimal) -> Decimal:
    if isinstance(amount, bool):
        raise BadDuration(f"Số lượng thời hạn không hợp lệ: {amount!r}.")
    try:
        value = (
            Decimal(str(amount).replace(",", ".")) if not isinstance(amount, Decimal) else amount
        )
    except InvalidOperation:
        raise BadDuration(f"Số lượng thời hạn không hợp lệ: {amount!r}.") from None
    return value


def _to_unit(unit: str, text: str) -> Unit:
    try:
        return Unit(unit.lower())
    except ValueError:
        raise BadDuration(
            f'Đơn vị thời hạn không hợp lệ trong "{text}": chỉ chấp nhận wd (ngày làm việc), '
            "wh (giờ làm việc), d (ngày) và mo (tháng).",
            code="legaltime.unknown_unit",
        ) from None


@lru_cache(maxsize=1024)
def parse_duration(text: str) -> Duration:
    """Parse ``"2wd"``, ``"0.5wd"``, ``"4wh"``, ``"15d"``, ``"1mo"``, ``"0wd"``."""
    if not isinstance(text, str):
        raise BadDuration(f"Thời hạn không hợp lệ: {text!r}.")
    match = _DURATION_RE.match(text)
    if match is None:
        raise BadDuration(
            f'Không đọc được thời hạn "{text}": dùng dạng số + đơn vị, ví dụ 2wd, 0.5wd, 4wh, '
            "15d, 1mo.",
            code="legaltime.unparseable_duration",
        )
    number, unit_text = match.groups()
    if not unit_text:
        raise BadDuration(
            f'Thời hạn "{text}" thiếu đơn vị: chỉ chấp nhận wd (ngày làm việc), wh (giờ làm '
            "việc), d (ngày) và mo (tháng).",
            code="legaltime.unknown_unit",
        )
    unit = _to_unit(unit_text, text)
    amount = Decimal(number.replace(",", "."))
    if amount < 0:
        raise BadDuration(f'Thời hạn không được âm: "{text}".', code="legaltime.negative_duration")
    return Duration(amount, unit)


def as_duration(value: Duration | str) -> Duration:
    if isinstance(value, Duration):
        return value
    return parse_duration(value)
