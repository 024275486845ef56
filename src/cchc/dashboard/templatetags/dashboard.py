"""Vietnamese number formatting for the dashboard: decimal comma, thousands dot; a missing
value reads "Không có dữ liệu", never 0 %."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()
NO_DATA = "Không có dữ liệu"


def number(value: Any, places: int = 2) -> str:
    if value is None or value == "":
        return NO_DATA
    d = Decimal(str(value))
    if d == d.to_integral_value():
        text = f"{int(d):,}"
    else:
        text = f"{d:,.{places}f}".rstrip("0").rstrip(".")
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


@register.filter
def so(value: Any) -> str:
    """1234.5 -> '1.234,5'."""
    return number(value)


@register.filter
def signed(value: Any) -> str:
    if value is None:
        return "—"
    d = Decimal(str(value))
    return ("+" if d > 0 else "") + number(d)


@register.filter
def percent_of(points: Any, maximum: Any) -> str:
    """Width (0–100) of a bar, as a CSS number with a dot."""
    try:
        share = float(points or 0) / float(maximum) * 100
    except (TypeError, ValueError, ZeroDivisionError):
        return "0"
    return f"{min(max(share, 0.0), 100.0):.1f}"
