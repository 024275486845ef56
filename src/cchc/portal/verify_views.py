"""The public verification page of issued documents (issue 21): `/xac-thuc/<token>/`, where
the QR code printed on a receipt, fee receipt, form or result leads, and `/xac-thuc/`, where
the code printed under it can be typed.

Anyone may open it, so it shows only what is safe — the document's kind, the dossier code,
the procedure, the issuing agency, the issue date, the dossier's current state and whether
the document is digitally signed — never the applicant's data. An uploaded PDF is compared
byte for byte (SHA-256) with the issued copy. Every request is counted by the rate limiter
(`cchc.ratelimit`, scope "verify", per client address).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from cchc.dossiers import files, issued
from cchc.dossiers.models import IssuedDocument, State
from cchc.errors import DomainError, InvalidInput, NotFound
from cchc.ratelimit.limiter import RateLimited, check
from cchc.ratelimit.web import client_address, too_many

SCOPE = "verify"
UPLOAD_FIELD = "tep"


def _limited(request: HttpRequest) -> HttpResponse | None:
    try:
        check(SCOPE, address=client_address(request))
    except RateLimited as exc:
        return too_many(request, exc)
    return None


@require_http_methods(["GET"])
def lookup(request: HttpRequest) -> HttpResponse:
    """The form to type the code printed under the QR code; a known code opens its page."""
    typed = request.GET.get("ma", "").strip()
    if not typed:
        return render(request, "portal/verify_lookup.html", {"code": ""})
    refused = _limited(request)
    if refused is not None:
        return refused
    try:
        doc = issued.by_token(typed)
    except NotFound as exc:
        context = {"code": typed[:80], "error": exc.message}
        return render(request, "portal/verify_lookup.html", context, status=404)
    return redirect("portal:verify", token=doc.token)


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, token: str) -> HttpResponse:
    """What is safe to show about the document `token` names; POST compares an upload."""
    refused = _limited(request)
    if refused is not None:
        return refused
    try:
        doc = issued.by_token(token)
    except NotFound as exc:
        return render(request, "portal/verify_unknown.html", {"error": exc.message}, status=404)
    if doc.token != token:  # a typed variant (lower case, dashes): the canonical address
        return redirect("portal:verify", token=doc.token)
    context = _facts(doc)
    status = 200
    if request.method == "POST":
        upload = request.FILES.get(UPLOAD_FIELD)
        try:
            if upload is None:
                raise InvalidInput("Chọn tệp PDF cần đối chiếu.", code="verify.no_file")
            if upload.size is not None and upload.size > files.MAX_BYTES:
                raise InvalidInput(
                    f"Tệp lớn hơn {files.MAX_BYTES // (1024 * 1024)} MB.", code="file.too_large"
                )
            checked = files.check(upload.name or "tep.pdf", upload.read(files.MAX_BYTES + 1))
            if checked.content_type != "application/pdf":
                raise InvalidInput("Chỉ đối chiếu tệp PDF.", code="verify.not_pdf")
        except DomainError as exc:
            context["upload_error"] = exc.message
            status = 400
        else:
            context["outcome"] = issued.compare(doc, checked.content)
            context["uploaded_name"] = checked.name
    return render(request, "portal/verify.html", context, status=status)


def _facts(doc: IssuedDocument) -> dict[str, Any]:
    """The page's facts: none of them is personal data."""
    dossier = doc.dossier
    return {
        "doc": doc,
        "kind": doc.get_kind_display(),
        "number": doc.number,
        "dossier_code": dossier.code,
        "procedure": dossier.procedure.name,
        "procedure_code": dossier.procedure.code,
        "agency": doc.agency_name,
        "issued_at": doc.issued_at,
        "state": State(dossier.state).label if dossier.state in State.values else dossier.state,
        "signed": doc.get_signed_display(),
        "is_signed": doc.signed == "signed",
        "superseded_by": doc.superseded_by,
        "IDENTICAL": issued.IDENTICAL,
        "EARLIER_UNSIGNED": issued.EARLIER_UNSIGNED,
        "max_mb": files.MAX_BYTES // (1024 * 1024),
    }
