"""`{% payments_panel dossier %}`: the "Phí, lệ phí và thanh toán" panel of the staff
dossier page (fees, what is owed, payments, receipts; the desk's cash, exemption and
refund forms for desk officers of the receiving agency)."""

from __future__ import annotations

from typing import Any

from django import template

from cchc.dossiers.models import Dossier
from cchc.payments import services
from cchc.vietnamese import money

register = template.Library()


@register.inclusion_tag("payments/panel.html", takes_context=True)
def payments_panel(context: dict[str, Any], dossier: Dossier) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        "d": dossier,
        "s": services.summary(dossier),
        "desk": user is not None and services.may_desk(user, dossier),
        "open": dossier.state in services.PAYABLE_STATES,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def dong(amount: Any) -> str:
    """1500000 -> '1.500.000 đ'."""
    try:
        return money(int(amount))
    except (TypeError, ValueError):
        return ""
