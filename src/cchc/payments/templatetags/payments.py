"""`{% payments_panel dossier %}`: the "Phí, lệ phí và thanh toán" panel of the staff
dossier page (fees, what is owed, payments, receipts; the desk's cash, exemption and
refund forms for desk officers of the receiving agency)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from cchc.dossiers.models import Dossier
from cchc.payments import gateways, services
from cchc.vietnamese import money

register = template.Library()


@register.inclusion_tag("payments/panel.html", takes_context=True)
def payments_panel(context: dict[str, Any], dossier: Dossier) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    summary = services.summary(dossier)
    desk = user is not None and services.may_desk(user, dossier)
    open_ = dossier.state in services.PAYABLE_STATES
    # A signed link the desk can hand the applicant (SMS, paper) to pay what is owed online.
    link = (
        request.build_absolute_uri(services.pay_link(dossier))
        if desk and open_ and summary.owed and request is not None and gateways.available()
        else ""
    )
    return {
        "d": dossier,
        "s": summary,
        "desk": desk,
        "open": open_,
        "pay_link": link,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def dong(amount: Any) -> str:
    """1500000 -> '1.500.000 đ'."""
    try:
        return money(int(amount))
    except (TypeError, ValueError):
        return ""


@register.inclusion_tag("payments/fees_with_result.html", takes_context=True)
def fees_with_result(context: dict[str, Any], dossier: Dossier) -> dict[str, Any]:
    """The fees part of the dossier page's approve / return form: what is still owed and,
    for desk officers, fields to collect cash and/or exempt the rest in the same step
    (`services.fees_before_result`). Empty when nothing is owed."""
    request = context.get("request")
    user = getattr(request, "user", None)
    remaining = services.owed(dossier) if dossier.fee_total else 0
    return {
        "d": dossier,
        "owed": remaining,
        "desk": bool(remaining) and user is not None and services.may_desk(user, dossier),
        "enforced": bool(getattr(settings, "CCHC_FEES_BEFORE_RESULT", True)),
    }
