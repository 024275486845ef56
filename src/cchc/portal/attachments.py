"""Documents attached to citizens' e-mails, rendered when the e-mail is sent."""

from __future__ import annotations

from typing import Any

from cchc.dossiers.access import TO_APPLICANT
from cchc.dossiers.documents import render_form
from cchc.dossiers.models import Dossier


def dossier_form(note: Any, purpose: str) -> tuple[str, bytes, str]:
    """The dossier's printed form `purpose` (e.g. receipt = form 01) as a PDF."""
    dossier = Dossier.objects.get(pk=note.dossier_id)
    # The copy sent to the applicant's own address: their data in full.
    name, content = render_form(dossier, purpose or "receipt", viewer=TO_APPLICANT)
    return name, content, "application/pdf"
