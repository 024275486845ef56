"""The citizen's download of a certified electronic copy of their own dossier
(`cchc.dossiers.certified_copies.for_applicant`: only the applicant, only once the
certifying agency has signed it; audited)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header

from cchc.dossiers import certified_copies
from cchc.errors import DomainError
from cchc.portal import services
from cchc.portal.views import citizen_required


@citizen_required
def download(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """«Tải bản sao có chứng thực» on the citizen's dossier page."""
    found = services.own_dossier(request.user, code)
    try:
        filename, content = certified_copies.for_applicant(request.user, found, pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:dossier", code=found.code)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
