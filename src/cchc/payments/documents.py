"""Biên lai thu phí, lệ phí as PDF, with the dossier forms' WeasyPrint and font setup."""

from __future__ import annotations

from django.utils import timezone

from cchc.dossiers.documents import pdf
from cchc.dossiers.models import PaymentChannel
from cchc.payments.models import Receipt
from cchc.vietnamese import money


def receipt_html(receipt: Receipt) -> str:
    dossier = receipt.dossier
    agency = dossier.receiving_agency
    issued = timezone.localtime(receipt.issued_at)
    place = getattr(getattr(agency, "unit", None), "name", "") or ""
    return pdf.render_html(
        "payments/receipt_pdf.html",
        {
            "r": receipt,
            "d": dossier,
            "agency_name": agency.name,
            "amount_text": money(receipt.amount),
            "channel_label": PaymentChannel(receipt.channel).label
            if receipt.channel in PaymentChannel.values
            else receipt.channel,
            "fees": [(f.name, money(f.amount)) for f in dossier.fees.all()],
            "place_date": (
                f"{place.replace('Tỉnh ', '').replace('Thành phố ', '')}, " if place else ""
            )
            + f"ngày {issued:%d} tháng {issued:%m} năm {issued:%Y}",
            "issued": issued,
        },
    )


def render_receipt(receipt: Receipt) -> bytes:
    return pdf.html_to_pdf(receipt_html(receipt))
