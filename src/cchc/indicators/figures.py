"""What every indicator computation shares: the filters that select the figures, the
rounding (2 places, half up), the Vietnamese number format and the arithmetic of a
definition's expressions. A zero denominator gives None ("Không có dữ liệu"), never 0 or
100."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cchc.indicators import definitions
from cchc.indicators.definitions import Expr

NO_DATA = "Không có dữ liệu"
TWO = Decimal("0.01")


def q2(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(TWO, rounding=ROUND_HALF_UP)


def fmt(value: Decimal | int | None) -> str:
    if value is None:
        return NO_DATA
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    return f"{q2(Decimal(value)):f}".replace(".", ",")


@dataclass(frozen=True)
class Filters:
    level: str | None = None
    unit_id: int | None = None
    agency_id: int | None = None
    procedure_id: int | None = None
    channel: int | None = None
    units: str = "current"  # current (post-2025 units via successor links) | historic

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "unit_id": self.unit_id,
            "agency_id": self.agency_id,
            "procedure_id": self.procedure_id,
            "channel": self.channel,
            "units": self.units,
        }


# The default selection: no filter, every figure of the system (frozen, so one shared value).
EVERYTHING = Filters()


def jsonable_number(value: Any) -> Any:
    """A figure as JSON carries it: a Decimal rounded to 2 places as a float, else as is."""
    if isinstance(value, Decimal):
        return float(q2(value))  # type: ignore[arg-type]
    return value


def evaluate(expr: Expr | None, values: dict[str, Any]) -> Decimal | int | None:
    if expr is None:
        return None
    total: Decimal | int = 0
    for sign, name in expr.terms:
        total += sign * values.get(name, 0)
    return total


def spell(expr: Expr | None, values: dict[str, Any]) -> str:
    """`expr` in Vietnamese with its inputs: "(hồ sơ trước hạn 3 + hồ sơ đúng hạn 1)"."""
    if expr is None:
        return ""
    parts = []
    for n, (sign, name) in enumerate(expr.terms):
        term = f"{definitions.MEASURE_LABELS.get(name, name)} {fmt(values.get(name, 0))}"
        parts.append(term if n == 0 and sign > 0 else f"{'+' if sign > 0 else '−'} {term}")
    text = " ".join(parts)
    return f"({text})" if len(parts) > 1 else text


def rate(num: Decimal | int | None, den: Decimal | int | None, unit: str = "%") -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    value = Decimal(num) / Decimal(den)
    return q2(value * 100 if unit == "%" else value)


def compare(value: Decimal | None, target: Decimal | None, comparison: str) -> bool | None:
    if value is None or target is None:
        return None
    if comparison == "gt":
        return value > target
    return value >= target  # gte; eq (= 100 % means "all", never above)
