"""Certified electronic copies (bản sao điện tử có chứng thực từ bản chính, issue 21, 766 sub
3c): Nghị định 23/2015/NĐ-CP and Nghị định 45/2020/NĐ-CP Điều 6 — the officer compares the
paper original, scans it, and the copy carries the certification statement and the digital
signature of the certifying authority.

`certify` is what the officer does on a dossier of a procedure marked
`Procedure.output_certified_copy`: the scanned original(s) (PDF, or JPG/PNG images made into
PDF pages) with the number of pages stated (it must match the scan) and the number of copies
become one PDF: every scan page stamped at its foot with the copy's number and "trang i/n",
followed by the certification statement page ("Chứng thực bản sao đúng với bản chính", số
chứng thực, quyển số, ngày, người thực hiện chứng thực, cơ quan) with the QR code and the
code of the public verification page. It is registered as an issued document of kind
`IssuedKind.CERTIFIED_COPY` (`cchc.dossiers.issued`) and signed on the worker with the
competent agency's profile (`signing_jobs.AGENCY_KINDS`): unsigned — then "Chờ ký số" on the
dossier page — until signed, failures retried like every issued document.

Numbering: the số chứng thực counts per certifying agency and calendar year (a
`CodeCounter` row with the prefix ``chung-thuc:<agency id>`` and the year's 1 January),
allocated in the transaction that issues the copy, so a refused or failed copy leaves no
gap. The register book (quyển số) is `CCHC_CERTIFIED_COPY_BOOK` with ``{yyyy}`` for the year
(default ``01/{yyyy}-SCT/BS``; the notation is UNVERIFIED against Thông tư 01/2020/TT-BTP).

Who: whoever may approve the dossier at the agency that holds it (`access.may(…,
"approve")`, the right that attaches results). When: the dossier is received and not yet
returned (received, in progress, awaiting approval, resolved). The copy sets the dossier fact
`Dossier.certified_copy` and appends a "note" event with the snapshot taken before, so the
indicator cells follow (766 3c counts returned dossiers with the fact). Audited
(`dossier.certified_copy.issued`; a refusal as `dossier.refused`). Bad input (no file, an
empty file, a type other than PDF/JPG/PNG, an unreadable or encrypted PDF, a page count that
differs from the scan) is refused in Vietnamese before anything is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from cchc.audit import log
from cchc.dossiers import access, files, issued, signals
from cchc.dossiers.documents import pdf, wording
from cchc.dossiers.models import (
    CertifiedCopy,
    CodeCounter,
    Dossier,
    IssuedKind,
    SignState,
    State,
)
from cchc.dossiers.services import _append, _lock, _now, _refused
from cchc.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from cchc.eventlog import counters, workflow

AUDIT = "dossier.certified_copy.issued"
DOWNLOAD_AUDIT = "dossier.certified_copy.downloaded"
ACTION = "certify_copy"
STATEMENT = "Chứng thực bản sao đúng với bản chính."
DEFAULT_BOOK = "01/{yyyy}-SCT/BS"
PDF_TYPE = "application/pdf"
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
MAX_PAGES = 300
MAX_COPIES = 100
# Received and not yet returned: the copy is made while the dossier is handled.
STATES = frozenset({State.RECEIVED, State.IN_PROGRESS, State.AWAITING_APPROVAL, State.RESOLVED})


def book_label(year: int) -> str:
    """The register book printed on the copy (`CCHC_CERTIFIED_COPY_BOOK`, {yyyy} = year)."""
    template = str(getattr(settings, "CCHC_CERTIFIED_COPY_BOOK", "") or DEFAULT_BOOK)
    return template.format(yyyy=f"{year:04d}", yy=f"{year % 100:02d}")[:40]


def may_certify(user: Any, dossier: Dossier) -> bool:
    """Whether `user` may issue a certified copy on `dossier` now (the page's form)."""
    return (
        bool(dossier.procedure.output_certified_copy)
        and not dossier.source
        and dossier.state in STATES
        and access.may(user, dossier, "approve")
    )


# -- the scan ---------------------------------------------------------------------------------


def _number(value: Any, what: str, high: int) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise InvalidInput(
            f"{what} phải là số nguyên từ 1 đến {high}.", code="certified_copy.number"
        )
    return int(text)


def _page_count(data: bytes, name: str) -> int:
    """The pages of a PDF scan; InvalidInput for an unreadable or encrypted one."""
    from pyhanko.pdf_utils.reader import PdfFileReader  # late: pyHanko loads slowly

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            raise InvalidInput(
                f"Tệp «{name}» được bảo vệ bằng mật khẩu; cần bản quét không đặt mật khẩu.",
                code="certified_copy.encrypted",
            )
        count = int(reader.root["/Pages"]["/Count"])
    except DomainError:
        raise
    except Exception:
        raise InvalidInput(
            f"Không đọc được tệp PDF «{name}»; quét lại bản chính rồi tải lên.",
            code="certified_copy.unreadable",
        ) from None
    if count < 1:
        raise InvalidInput(f"Tệp PDF «{name}» không có trang nào.", code="certified_copy.empty")
    return count


def _images_pdf(images: Sequence[files.Upload]) -> bytes:
    """Scanned images as PDF pages (one A4 page each, the image fitted)."""
    uris = [
        f"data:{u.content_type};base64,{base64.b64encode(u.content).decode('ascii')}"
        for u in images
    ]
    html = pdf.render_html("dossiers/certified_copy_images.html", {"images": uris})
    return pdf.html_to_pdf(html)


def scan_parts(uploads: Sequence[files.Upload]) -> list[tuple[bytes, int]]:
    """The uploads as PDF parts with their page counts, in the order given (consecutive
    images make one part). InvalidInput for anything but PDF, JPG or PNG."""
    if not uploads:
        raise InvalidInput(
            "Chọn tệp bản quét bản chính (PDF hoặc ảnh JPG, PNG).", code="certified_copy.no_file"
        )
    parts: list[tuple[bytes, int]] = []
    images: list[files.Upload] = []

    def flush() -> None:
        if images:
            made = _images_pdf(images)
            parts.append((made, _page_count(made, images[0].name)))
            images.clear()

    for upload in uploads:
        if upload.content_type in IMAGE_TYPES:
            images.append(upload)
            continue
        if upload.content_type != PDF_TYPE:
            raise InvalidInput(
                f"Tệp «{upload.name}» không phải bản quét: chỉ nhận tệp PDF hoặc ảnh JPG, PNG.",
                code="certified_copy.type",
            )
        flush()
        parts.append((upload.content, _page_count(upload.content, upload.name)))
    flush()
    return parts


# -- the document -----------------------------------------------------------------------------


def assemble(parts: Sequence[tuple[bytes, int]], overlay: bytes, statement: bytes) -> bytes:
    """One PDF: every page of `parts`, each with the matching page of `overlay` (A4, scaled
    to the page's width, aligned with its foot) drawn over it, then the pages of
    `statement`. Page rotation of the scans is kept (/Rotate)."""
    # late: pyHanko loads slowly, and only this page needs it
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

    writer = PdfFileWriter()
    over = PdfFileReader(BytesIO(overlay), strict=False)
    over_box = [float(x) for x in over.root["/Pages"]["/Kids"][0]["/MediaBox"]]
    over_width = over_box[2] - over_box[0]
    index = 0

    def add(reader: Any, page_ix: int, stamp: bool) -> None:
        nonlocal index
        page_ref, _ = reader.find_page_for_modification(page_ix)
        page = page_ref.get_object()
        box = _inherited(page, "/MediaBox")
        x0, y0, x1, y1 = (float(v) for v in box)
        content = b"q /Scan Do Q"
        xobjects = {generic.NameObject("/Scan"): writer.import_page_as_xobject(reader, page_ix)}
        if stamp:
            scale = (x1 - x0) / over_width
            xobjects[generic.NameObject("/Stamp")] = writer.import_page_as_xobject(over, index)
            content += f" q {scale:.5f} 0 0 {scale:.5f} {x0:.3f} {y0:.3f} cm /Stamp Do Q".encode()
            index += 1
        stream = writer.add_object(generic.StreamObject(stream_data=content))
        resources = generic.DictionaryObject(
            {generic.NameObject("/XObject"): generic.DictionaryObject(xobjects)}
        )
        new = PageObject(contents=stream, media_box=[x0, y0, x1, y1], resources=resources)
        rotate = _inherited(page, "/Rotate")
        if rotate:
            new[generic.NameObject("/Rotate")] = generic.NumberObject(int(rotate))
        writer.insert_page(new)

    for data, count in parts:
        reader = PdfFileReader(BytesIO(data), strict=False)
        for i in range(count):
            add(reader, i, True)
    tail = PdfFileReader(BytesIO(statement), strict=False)
    for i in range(int(tail.root["/Pages"]["/Count"])):
        add(tail, i, False)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def _inherited(page: Any, key: str) -> Any:
    node = page
    while node is not None:
        if key in node:
            return node[key]
        node = node.get("/Parent")
        node = node.get_object() if node is not None else None
    return None


def _render(
    dossier: Dossier,
    token: str,
    *,
    parts: Sequence[tuple[bytes, int]],
    facts: dict[str, Any],
) -> bytes:
    agency = dossier.competent_agency
    context = {
        **facts,
        "dossier": dossier,
        "agency": agency,
        "agency_parent": agency.parent.name if agency.parent_id else "",
        "statement": STATEMENT,
        "issued": issued.mark(token),
    }
    statement = pdf.html_to_pdf(pdf.render_html("dossiers/certified_copy_pdf.html", context))
    overlay = pdf.html_to_pdf(pdf.render_html("dossiers/certified_copy_stamp.html", context))
    return assemble(parts, overlay, statement)


# -- issuing ----------------------------------------------------------------------------------


def certify(
    actor: Any,
    dossier: Dossier,
    *,
    title: str,
    pages: Any,
    copies: Any,
    uploads: Sequence[files.Upload],
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> CertifiedCopy:
    """Issue a certified electronic copy of the scanned original `uploads` on `dossier`
    (module docstring). Raises PermissionDenied, InvalidInput (Vietnamese) or Conflict;
    every refusal is audited."""
    at = _now(now)
    try:
        access.require(actor, dossier, "approve")
        _check_dossier(dossier)
        clean_title = " ".join(str(title or "").split())[:300]
        if not clean_title:
            raise InvalidInput(
                "Ghi tên giấy tờ, văn bản được chứng thực.", code="certified_copy.title"
            )
        stated = _number(pages, "Số trang", MAX_PAGES)
        count = _number(copies, "Số bản sao", MAX_COPIES)
        parts = scan_parts(uploads)
        found = sum(n for _, n in parts)
        if found != stated:
            raise InvalidInput(
                f"Số trang khai báo ({stated}) khác số trang của bản quét ({found}); kiểm tra "
                "lại bản quét hoặc số trang.",
                code="certified_copy.pages",
            )
        scan_sha = hashlib.sha256(b"".join(u.content for u in uploads)).hexdigest()
        with transaction.atomic():
            locked = _lock(dossier, expected_version)
            _check_dossier(locked)
            copy = _issue(actor, locked, clean_title, stated, count, parts, scan_sha, at)
    except DomainError as error:
        _refused(actor, dossier, ACTION, error, at)
        raise
    dossier.refresh_from_db()
    return copy


def _check_dossier(dossier: Dossier) -> None:
    if not dossier.procedure.output_certified_copy:
        raise InvalidInput(
            f"Thủ tục «{dossier.procedure.name}» không cấp bản sao điện tử có chứng thực.",
            code="certified_copy.procedure",
        )
    if dossier.source:
        raise InvalidInput(
            f"Hồ sơ {dossier.code} được nhập từ {dossier.source}; chứng thực trên hệ thống nguồn.",
            code="dossier.imported",
        )
    if dossier.state not in STATES:
        raise InvalidInput(
            f"Hồ sơ {dossier.code} đang ở trạng thái «{State(dossier.state).label}»: chỉ cấp "
            "bản sao điện tử có chứng thực cho hồ sơ đã tiếp nhận và chưa trả kết quả.",
            code="certified_copy.state",
        )


def _issue(
    actor: Any,
    dossier: Dossier,
    title: str,
    pages: int,
    copies: int,
    parts: Sequence[tuple[bytes, int]],
    scan_sha: str,
    at: dt.datetime,
) -> CertifiedCopy:
    """Inside the caller's transaction, the dossier locked: number, render, register."""
    agency = dossier.competent_agency
    local = timezone.localtime(at)
    year = local.year
    serial = counters.next_number(
        CodeCounter, prefix=f"chung-thuc:{agency.pk}", day=dt.date(year, 1, 1)
    )
    book = book_label(year)
    certifier = workflow.actor_label(actor)
    facts = {
        "title": title,
        "pages": pages,
        "scan_pages": range(1, pages + 1),
        "copies": copies,
        "serial": serial,
        "year": year,
        "book": book,
        "certifier": certifier,
        "day": local.date(),
        "date_words": wording.place_and_date(agency.unit, local.date()),
    }

    def render(token: str) -> tuple[str, bytes, str]:
        content = _render(dossier, token, parts=parts, facts=facts)
        return f"ban-sao-chung-thuc-{serial}-{year}.pdf", content, agency.name

    doc = issued.issue(
        dossier,
        IssuedKind.CERTIFIED_COPY,
        f"chung-thuc:{agency.pk}:{year}:{serial}",
        render=render,
        actor=actor,
        number=f"Số {serial}/{year}, quyển số {book}"[:80],
        now=at,
    )
    copy = CertifiedCopy.objects.create(
        dossier=dossier,
        document=doc,
        agency=agency,
        year=year,
        serial=serial,
        book=book,
        title=title,
        pages=pages,
        copies=copies,
        scan_sha256=scan_sha,
        certified_at=at,
        certified_by=workflow.actor_user(actor),
        certifier_name=certifier[:200],
    )
    before = signals.snapshot(dossier)
    dossier.certified_copy = True
    Dossier.objects.filter(pk=dossier.pk).update(certified_copy=True)
    _append(
        dossier,
        "note",
        actor=actor,
        now=at,
        reason=(
            f"Cấp bản sao điện tử có chứng thực số {serial}, quyển số {book}: «{title}» "
            f"({pages} trang, {copies} bản)."
        ),
        data={"certified_copy": {"document": doc.pk, "serial": serial, "year": year}},
        before=before,
    )
    log.record(
        AUDIT,
        actor=workflow.actor_user(actor),
        obj=dossier,
        agency_id=agency.pk,
        at=at,
        data={
            "copy": copy.pk,
            "document": doc.pk,
            "serial": serial,
            "year": year,
            "book": book,
            "pages": pages,
            "copies": copies,
            "scan_sha256": scan_sha,
            "sha256": doc.sha256,
        },
    )
    return copy


# -- reading ----------------------------------------------------------------------------------


def of_dossier(dossier: Dossier) -> list[CertifiedCopy]:
    """The dossier's certified copies with their documents, oldest first (one query)."""
    return list(
        CertifiedCopy.objects.filter(dossier=dossier).select_related("document").order_by("pk")
    )


def for_applicant(user: Any, dossier: Dossier, pk: int, *, now: dt.datetime | None = None) -> Any:
    """The signed copy `pk` of `dossier` for its applicant, audited: (file name, bytes).
    PermissionDenied for anyone else; NotFound for another dossier's copy; Conflict while
    it is not yet signed (a certified copy is valid only with the agency's signature)."""
    if not access.is_applicant(user, dossier):
        raise PermissionDenied(
            "Chỉ người nộp hồ sơ mới tải được bản sao điện tử có chứng thực.",
            code="certified_copy.forbidden",
        )
    copy = CertifiedCopy.objects.select_related("document").filter(dossier=dossier, pk=pk).first()
    if copy is None:
        raise NotFound(
            f"Hồ sơ {dossier.code} không có bản sao điện tử có chứng thực này.",
            code="certified_copy.unknown",
        )
    doc = copy.document
    if doc.signed != SignState.SIGNED or doc.superseded_at is not None:
        raise Conflict(
            "Bản sao điện tử có chứng thực đang chờ cơ quan chứng thực ký số; tải lại sau.",
            code="certified_copy.unsigned",
        )
    data = issued.content(doc)
    with transaction.atomic():
        log.record(
            DOWNLOAD_AUDIT,
            actor=user,
            obj=dossier,
            agency_id=dossier.current_agency_id,
            at=now or timezone.now(),
            data={"copy": copy.pk, "document": doc.pk},
        )
    return doc.filename, data
