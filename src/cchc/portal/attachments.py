"""Documents attached to citizens' e-mails, rendered when the e-mail is sent."""

from __future__ import annotations

from typing import Any

from cchc.dossiers import issued
from cchc.dossiers.access import TO_APPLICANT
from cchc.dossiers.documents import render_form
from cchc.dossiers.documents.forms import ISSUED, issued_form
from cchc.dossiers.models import Dossier


def dossier_form(note: Any, purpose: str) -> tuple[str, bytes, str]:
    """The dossier's printed form `purpose` (e.g. receipt = form 01) as a PDF: the issued
    copy (issue 21: with its QR code, the same bytes as every later full download) for the
    forms that are issued, a fresh rendering for the others."""
    dossier = Dossier.objects.get(pk=note.dossier_id)
    purpose = purpose or "receipt"
    if purpose in ISSUED:
        doc = issued_form(dossier, purpose, actor=None)
        return doc.filename, issued.content(doc), "application/pdf"
    # The copy sent to the applicant's own address: their data in full.
    name, content = render_form(dossier, purpose, viewer=TO_APPLICANT)
    return name, content, "application/pdf"
