"""The applicant's electronic result (kết quả điện tử, `<mã hồ sơ>-KQn`) downloaded from
"Hồ sơ của tôi".

A dossier submitted online whose result is electronic (the procedure's result is not
paper-only) is returned on the portal: once the result is issued (resolved) or returned, its
owner — and only its owner, the rule of the portal's other dossier files — downloads it. The
file is the result the officers attached when they recorded it; without one, the result
document is rendered as a PDF by the printed-forms machinery (`dossiers.documents.pdf`),
carrying its code so that it can be checked against the dossier. Either is registered as
an issued document (issue 21, `cchc.dossiers.issued`, kind "result") on the first download:
the rendered result carries the QR code of the public verification page, and every download
returns the same stored bytes; an attached PDF is registered as it is (its hash can be checked
on the verification page; no QR code is stamped into it). Every download is audited
(`portal.result.downloaded`). A paper-only result has no file: it is collected at the desk.
Fees come first (Luật Phí và lệ phí; issue 17): an unpaid balance is asked for before the
result is handed over, as at the counter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cchc.audit import log
from cchc.catalog.models import OnlineLevel
from cchc.dossiers import access, files, issued
from cchc.dossiers.documents import pdf, wording
from cchc.dossiers.models import (
    Dossier,
    DossierResult,
    IssuedDocument,
    IssuedKind,
    ReturnChannel,
    State,
)
from cchc.errors import Conflict, NotFound, PermissionDenied
from cchc.jobs.queue import enqueue
from cchc.payments.services import owed
from cchc.vietnamese import money

ISSUED_STATES = frozenset({State.RESOLVED, State.RETURNED})


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes
    content_type: str


def returned_online(dossier: Dossier) -> bool:
    """Whether the dossier's result is handed over on the portal: submitted fully online,
    or the applicant chose to receive the result online."""
    return (
        dossier.online_level == OnlineLevel.FULL or dossier.return_channel == ReturnChannel.ONLINE
    )


def e_results(dossier: Dossier) -> list[DossierResult]:
    """The electronic results the owner may download now (none before the result is
    issued, none for a paper-only result or one collected at the desk)."""
    if dossier.state not in ISSUED_STATES or not returned_online(dossier):
        return []
    return [r for r in dossier.results.select_related("file") if r.electronic]


def e_results_of(dossiers: list[Dossier]) -> dict[int, list[DossierResult]]:
    """`e_results` for a page of dossiers in one query: dossier id → its results."""
    wanted = [d.pk for d in dossiers if d.state in ISSUED_STATES and returned_online(d)]
    out: dict[int, list[DossierResult]] = {}
    if wanted:
        found = DossierResult.objects.filter(dossier_id__in=wanted, electronic=True)
        for r in found.select_related("file").order_by("dossier_id", "number"):
            out.setdefault(r.dossier_id, []).append(r)
    return out


def download(
    user: Any, dossier: Dossier, number: int, *, now: dt.datetime | None = None
) -> Download:
    """The result `<code>-KQ<number>` for its owner, audited. Raises PermissionDenied for
    anyone but the applicant, NotFound when there is no such electronic result, Conflict
    while fees are owed."""
    at = now or timezone.now()
    if not access.is_applicant(user, dossier):
        raise PermissionDenied(
            "Chỉ người nộp hồ sơ mới tải được kết quả điện tử.", code="portal.result_forbidden"
        )
    result = next((r for r in e_results(dossier) if r.number == number), None)
    if result is None:
        raise NotFound(
            f"Hồ sơ {dossier.code} không có kết quả điện tử số {number} để tải. Kết quả bản "
            "giấy được nhận tại bộ phận một cửa.",
            code="portal.result_not_found",
        )
    unpaid = int(owed(dossier))
    if unpaid:
        raise Conflict(
            f"Hồ sơ {dossier.code} còn {money(unpaid)} phí, lệ phí chưa nộp; nộp đủ để tải kết "
            "quả.",
            code="portal.result_unpaid",
            amount=unpaid,
        )
    if result.file_id is not None:
        stored = result.file
        data = files.open_stored(stored.path).read_bytes()
        if data.startswith(b"%PDF-"):
            issued_result(dossier, result, actor=user, attached=data)
        got = Download(stored.name, data, stored.content_type or "application/octet-stream")
    else:
        doc = issued_result(dossier, result, actor=user)
        got = Download(doc.filename, issued.content(doc), "application/pdf")
    with transaction.atomic():
        log.record(
            "portal.result.downloaded",
            actor=user,
            obj=dossier,
            agency_id=dossier.current_agency_id,
            at=at,
            data={"result": result.code, "stored_file": result.file_id is not None},
        )
    return got


def issued_result(
    dossier: Dossier, result: DossierResult, *, actor: Any, attached: bytes | None = None
) -> IssuedDocument:
    """The issued copy of `result`: the attached PDF as it is, or the rendered result with
    its QR code; issued on the first call, the same document afterwards."""
    agency = _agency(dossier)

    def render_issued(token: str) -> tuple[str, bytes, str]:
        if attached is not None:
            return result.file.name, attached, agency.name
        return (
            f"{result.code}.pdf",
            render(access.TO_APPLICANT, dossier, result, token),
            agency.name,
        )

    return issued.issue(
        dossier,
        IssuedKind.RESULT,
        f"result:{result.number}",
        render=render_issued,
        actor=actor,
        number=result.code,
    )


ISSUE_JOB = "cchc.portal.results.issue_results"


def on_dossier_changed(
    sender: Any,
    *,
    before: dict[str, Any] | None,
    after: Dossier,
    event: Any,
    **kwargs: Any,
) -> None:
    """An approval issues the dossier's electronic results on the worker (inside the
    event's transaction; the job runs after commit), so that each is rendered with its QR
    code, registered and signed by the competent agency's certificate before the applicant
    asks for it (`CCHC_RESULTS_ISSUED_ON_APPROVAL`). Imported dossiers are not issued."""
    if event is None or event.action != "approve" or after.source:
        return
    if not settings.CCHC_RESULTS_ISSUED_ON_APPROVAL:
        return
    enqueue(ISSUE_JOB, after.pk, name=f"issue-results-{after.pk}")


def issue_results(dossier_id: int) -> int:
    """The job: issue every electronic result of the dossier that is not issued yet (an
    attached PDF as it is, else the rendered result); returns how many are in force. A
    result attached as something other than a PDF is handed over as it is, not issued."""
    dossier = Dossier.objects.filter(pk=dossier_id).first()
    if dossier is None:
        return 0
    count = 0
    for result in dossier.results.select_related("file").filter(electronic=True):
        if result.file_id is not None:
            data = files.open_stored(result.file.path).read_bytes()
            if not data.startswith(b"%PDF-"):
                continue
            issued_result(dossier, result, actor=None, attached=data)
        else:
            issued_result(dossier, result, actor=None)
        count += 1
    return count


def _agency(dossier: Dossier) -> Any:
    return dossier.competent_agency or dossier.current_agency or dossier.receiving_agency


def render(user: Any, dossier: Dossier, result: DossierResult, token: str | None = None) -> bytes:
    """The result document as PDF: the issuing agency's header, the result's code and
    title, who it is for (as `user` may see them) and who approved it; with `token`, the
    issued copy's QR code and code."""
    agency = _agency(dossier)
    issued_on = wording.local(result.issued_at)
    approved = (
        dossier.events.filter(action="approve", seq__lte=result.event.seq).order_by("-seq").first()
    )
    seen = access.applicant_for(user, dossier)
    html = pdf.render_html(
        "portal/result_pdf.html",
        {
            "dossier": dossier,
            "result": result,
            "agency": agency,
            "agency_parent": agency.parent.name if agency.parent_id else "",
            "place_date": wording.place_and_date(agency.unit, issued_on.date()),
            "issued_words": wording.moment_words(issued_on),
            "applicant": seen,
            "signer": approved.actor_label if approved is not None else "",
            "issued": issued.mark(token) if token else None,
            "preview_mark": issued.PREVIEW_MARK if seen.masked else "",
        },
    )
    return pdf.html_to_pdf(html)
