"""The officer's page for certified electronic copies of one dossier
(`/ho-so/<code>/ban-sao-chung-thuc/`): the copies issued with their signing state, the form
that issues one (`cchc.dossiers.certified_copies.certify`) and the download of an issued copy
for officers who see the dossier."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from cchc.accounts.access import requires
from cchc.dossiers import access, certified_copies, files, issued, signing_jobs
from cchc.dossiers.models import CertifiedCopy
from cchc.errors import DomainError, NotFound, PermissionDenied

UPLOAD_FIELD = "scans"


def _context(request: HttpRequest, dossier: Any, posted: dict[str, str] | None = None) -> Any:
    copies = certified_copies.of_dossier(dossier)
    rows = {row.document: row for row in signing_jobs.signatures(dossier)}
    return {
        "d": dossier,
        "copies": [(c, rows.get(c.document_id)) for c in copies],
        "can_certify": certified_copies.may_certify(request.user, dossier),
        "can_download": access.sees_personal_data(request.user, dossier),
        "posted": posted or {"title": "", "pages": "", "copies": "1"},
        "accept": ".pdf,.jpg,.jpeg,.png",
        "max_mb": files.MAX_BYTES // (1024 * 1024),
    }


@requires("dossier.view")
def page(request: HttpRequest, code: str) -> HttpResponse:
    dossier = access.get_visible(request.user, code)
    if request.method != "POST":
        return render(request, "dossiers/certified_copy.html", _context(request, dossier))
    posted = {k: request.POST.get(k, "") for k in ("title", "pages", "copies")}
    version = request.POST.get("version", "")
    try:
        uploads = [
            files.check(f.name or "", f.read(files.MAX_BYTES + 1))
            for f in request.FILES.getlist(UPLOAD_FIELD)
        ]
        copy = certified_copies.certify(
            request.user,
            dossier,
            title=posted["title"],
            pages=posted["pages"],
            copies=posted["copies"],
            uploads=uploads,
            expected_version=int(version) if version.isdigit() else None,
        )
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        messages.error(request, exc.message)
        dossier.refresh_from_db()
        context = _context(request, dossier, posted)
        return render(request, "dossiers/certified_copy.html", context, status=400)
    messages.success(
        request,
        f"Đã cấp bản sao điện tử có chứng thực số {copy.serial}/{copy.year}, quyển số "
        f"{copy.book}; bản sao đang chờ cơ quan chứng thực ký số.",
    )
    return redirect("dossiers:certified_copies", code=dossier.code)


@requires("dossier.view")
def download(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    dossier = access.get_visible(request.user, code)
    if not access.sees_personal_data(request.user, dossier):
        raise PermissionDenied(
            "Bản sao điện tử có chứng thực chứa dữ liệu cá nhân của người nộp; bạn không có "
            "quyền xem dữ liệu cá nhân của hồ sơ này.",
            code="certified_copy.personal_data",
        )
    copy = CertifiedCopy.objects.select_related("document").filter(dossier=dossier, pk=pk).first()
    if copy is None:
        raise NotFound(
            f"Hồ sơ {dossier.code} không có bản sao điện tử có chứng thực này.",
            code="certified_copy.unknown",
        )
    response = HttpResponse(issued.content(copy.document), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, copy.document.filename)
    return response
