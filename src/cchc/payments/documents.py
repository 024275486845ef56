"""Biên lai thu phí, lệ phí as PDF, with the dossier forms' WeasyPrint and font setup.

A receipt is rendered for a reader: the payer (the applicant) is named in full for the
applicant and for officers with `dossier.personal_data` over the dossier, by the name rule of
`cchc.privacy` for everyone else; `print_receipt` records who downloaded it.

The receipt is issued once (issue 21, `cchc.dossiers.issued`, kind "fee_receipt"): the
first full download renders the applicant's copy with its QR code and stores it; readers with
the right get those stored bytes every time, the others a masked preview without a QR code.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from cchc import privacy
from cchc.audit import log
from cchc.dossiers import access
from cchc.dossiers import issued as issued_module
from cchc.dossiers.documents import pdf
from cchc.dossiers.models import IssuedDocument, IssuedKind, PaymentChannel
from cchc.payments.models import Receipt
from cchc.payments.services import receipt_form_and_series
from cchc.vietnamese import money, money_words


def receipt_html(receipt: Receipt, *, viewer: Any, token: str | None = None) -> str:
    """The receipt's HTML for `viewer`; with `token`, the issued copy's QR code and code."""
    dossier = receipt.dossier
    agency = dossier.receiving_agency
    issued = timezone.localtime(receipt.issued_at)
    place = getattr(getattr(agency, "unit", None), "name", "") or ""
    full = access.sees_personal_data(viewer, dossier)
    issued_mark = issued_module.mark(token) if token else None
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
            "issued_on": issued,
            "issued": issued_mark,
            "preview_mark": "" if full else issued_module.PREVIEW_MARK,
        },
    )


def render_receipt(receipt: Receipt, *, viewer: Any) -> bytes:
    """The receipt as PDF bytes, as `viewer` may see it (see the module docstring)."""
    return pdf.html_to_pdf(receipt_html(receipt, viewer=viewer))


def issued_receipt(receipt: Receipt, *, actor: Any) -> IssuedDocument:
    """The issued copy of `receipt` (issued now, in full with its QR code, if not yet). The
    caller decides that `actor` may receive the full copy."""

    def render(token: str) -> tuple[str, bytes, str]:
        html = receipt_html(receipt, viewer=access.TO_APPLICANT, token=token)
        name = f"bien-lai-{receipt.number}.pdf"
        return name, pdf.html_to_pdf(html), receipt.dossier.receiving_agency.name

    return issued_module.issue(
        receipt.dossier,
        IssuedKind.FEE_RECEIPT,
        f"receipt:{receipt.pk}",
        render=render,
        actor=actor,
        number=str(receipt.form_number or ""),
    )


def print_receipt(viewer: Any, receipt: Receipt) -> bytes:
    """The receipt for a reader who downloads it, recorded in the audit log
    (`payment.receipt.printed`): the stored issued copy for a reader with the right to the
    payer's data, a masked preview for anyone else."""
    dossier = receipt.dossier
    if access.sees_personal_data(viewer, dossier):
        content = issued_module.content(issued_receipt(receipt, actor=viewer))
    else:
        content = render_receipt(receipt, viewer=viewer)
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
