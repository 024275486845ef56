"""Biên lai thu phí, lệ phí as PDF, with the dossier forms' WeasyPrint and font setup.

A receipt is rendered for a reader: the payer (the applicant) is named in full for the
applicant and for officers with `dossier.personal_data` over the dossier, by the name rule of
`cchc.privacy` for everyone else; `print_receipt` records who downloaded it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cchc import privacy
from cchc.audit import log
from cchc.dossiers import access
from cchc.dossiers.documents import pdf
from cchc.dossiers.models import PaymentChannel
from cchc.payments.models import Receipt
from cchc.payments.services import receipt_form_and_series
from cchc.vietnamese import money, money_words


def receipt_html(receipt: Receipt, *, viewer: Any) -> str:
    dossier = receipt.dossier
    agency = dossier.receiving_agency
    issued = timezone.localtime(receipt.issued_at)
    place = getattr(getattr(agency, "unit", None), "name", "") or ""
    full = access.sees_personal_data(viewer, dossier)
    # Receipts issued before form and series were recorded print today's configuration.
    configured = receipt_form_and_series(issued.year)
    form_number = receipt.form_number or configured[0]
    series = receipt.series or configured[1]
    return pdf.render_html(
        "payments/receipt_pdf.html",
        {
            "r": receipt,
            "d": dossier,
            "payer": privacy.shown(privacy.Field.NAME, receipt.payer, full=full),
            "masked": not full,
            "agency_name": agency.name,
            "amount_text": money(receipt.amount),
            "amount_words": money_words(receipt.amount),
            "form_number": form_number,
            "series": series,
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


def render_receipt(receipt: Receipt, *, viewer: Any) -> bytes:
    """The receipt as PDF bytes, as `viewer` may see it (see the module docstring)."""
    return pdf.html_to_pdf(receipt_html(receipt, viewer=viewer))


def print_receipt(viewer: Any, receipt: Receipt) -> bytes:
    """`render_receipt` for a reader who downloads it, recorded in the audit log
    (`payment.receipt.printed`)."""
    content = render_receipt(receipt, viewer=viewer)
    dossier = receipt.dossier
    with transaction.atomic():
        log.record(
            "payment.receipt.printed",
            actor=viewer,
            obj=receipt,
            agency_id=dossier.receiving_agency_id,
            at=timezone.now(),
            data={
                "dossier": dossier.code,
                "personal_data": access.sees_personal_data(viewer, dossier),
            },
        )
    return content
