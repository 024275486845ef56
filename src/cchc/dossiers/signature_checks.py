"""Digital signatures of the PDFs stored on dossiers (issue 21, item 2): files uploaded at the
desk, by the citizen, received from the national portal, results attached by officers.

Every stored PDF gets one `FileSignature` row: "pending" when the file is stored (`track`, the
hook of `services.store_file`, which queues `check_job` on the worker after the upload
commits), then "checked" (a verdict and the signatures: signer, serial, signing time,
intact, valid at signing time, trusted) or "unreadable". Verification is
`cchc.signing.verify_pdf` against the trust list (`CCHC_SIGNING_TRUST_ROOTS`); it never
runs in a request. The periodic sweep (`cchc signatures check`, `sweep`) records the PDFs
that have no row yet (imports, or a hook that did not run), checks the pending ones, and
checks again those checked against another trust list (its fingerprint changed), so
nothing depends on the hook.

Where a component's required document asks for a signature (`RequiredDocument.
signature_required`), a file that is unsigned, invalid, untrusted, unreadable or not a PDF
is a `Problem` ("Tệp yêu cầu chữ ký số nhưng …"): `problems(dossier)` for the desk's
receive action, `panel(user, dossier)` for the dossier page (template
`dossiers/_file_signatures.html`; the signer's name is masked for readers without
`dossier.personal_data`: a citizen's certificate names a person).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from cchc import privacy, signing
from cchc.audit import log
from cchc.dossiers import access, files
from cchc.dossiers.models import (
    Dossier,
    FileCheckState,
    FileSignature,
    SignatureVerdict,
    StoredFile,
)
from cchc.errors import InvalidInput
from cchc.jobs import queue

if TYPE_CHECKING:
    from asn1crypto import x509

logger = logging.getLogger(__name__)

PDF = "application/pdf"
BATCH = 200  # files checked per sweep (the sweep runs every few minutes)
MAX_ATTEMPTS = 3  # a file whose check crashes this often is recorded as unreadable
JOB = "cchc.dossiers.signature_checks.check_job"

TIME_SOURCES = {"timestamp": "dấu thời gian", "claimed": "theo máy người ký"}


# -- the trust list -----------------------------------------------------------------------------


def fingerprint(roots: Iterable[x509.Certificate]) -> str:
    """SHA-256 over the sorted SHA-256 fingerprints of `roots`: changes when the list does,
    not when its files are reordered or split."""
    digest = hashlib.sha256()
    for one in sorted(bytes(cert.sha256) for cert in roots):
        digest.update(one)
    return digest.hexdigest()


def trust() -> tuple[list[x509.Certificate], str]:
    """The configured trust roots and their fingerprint (SigningError when the list cannot
    be read: a configuration mistake, reported, never recorded as a verdict)."""
    from cchc.signing.certs import configured_roots  # the kit's own reader; no pyHanko

    roots = configured_roots()
    return roots, fingerprint(roots)


# -- recording and checking ---------------------------------------------------------------------


def track(stored: StoredFile, *, now: dt.datetime | None = None) -> FileSignature | None:
    """The upload hook: inside the transaction that stores `stored`, record its check as
    pending and queue `check_job` after commit. Nothing for a file that is not a PDF."""
    if stored.content_type != PDF:
        return None
    row, created = FileSignature.objects.get_or_create(
        file=stored, defaults={"created_at": now or timezone.now()}
    )
    if created:
        queue.enqueue(JOB, stored.pk, name="signature-check")
    return row


@dataclass
class Outcome:
    state: str
    verdict: str = ""
    signatures: list[dict[str, Any]] = field(default_factory=list)
    document_timestamps: int = 0
    error: str = ""


def _signature(s: Any) -> dict[str, Any]:
    return {
        "field": s.field,
        "name": s.signer_name,
        "organization": s.signer_org,
        "serial": s.serial,
        "issuer": s.issuer,
        "signing_time": s.signing_time.isoformat() if s.signing_time else None,
        "time_source": s.time_source,
        "intact": s.intact,
        "covers_whole_document": s.covers_whole_document,
        "valid_at_signing_time": s.valid_at_signing_time,
        "trusted": s.trusted,
        "revoked": s.revoked,
        "verdict": s.verdict,
        "problems": list(s.problems),
    }


def examine(stored: StoredFile, roots: list[x509.Certificate]) -> Outcome:
    """Verify the stored bytes of `stored` (no database writes; may take a while)."""
    path = files.open_stored(stored.path)
    try:
        data = path.read_bytes()
    except OSError:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != stored.sha256:
        return Outcome(
            FileCheckState.UNREADABLE,
            error="Không tìm thấy nội dung tệp trong kho lưu trữ hoặc nội dung đã bị thay đổi.",
        )
    try:
        report = signing.verify_pdf(data, roots=roots)
    except signing.UnreadablePdf as exc:
        return Outcome(FileCheckState.UNREADABLE, error=exc.message[:300])
    return Outcome(
        FileCheckState.CHECKED,
        verdict=report.verdict,
        signatures=[_signature(s) for s in report.signatures],
        document_timestamps=report.document_timestamps,
    )


def check(
    row: FileSignature,
    *,
    roots: list[x509.Certificate],
    fingerprint: str,
    now: dt.datetime | None = None,
) -> FileSignature:
    """Verify the file of `row` (outside any transaction), then record the result and its
    audit entry in one short transaction. A crash of the verifier is counted; after
    `MAX_ATTEMPTS` the file is recorded as unreadable, so the sweep never loops on it."""
    stored = row.file
    at = now or timezone.now()
    try:
        outcome = examine(stored, roots)
    except Exception as exc:  # the sweep must go on; the row keeps its state and counts
        logger.exception("signature check of stored file %s crashed", stored.pk)
        reason = f"Lỗi khi kiểm tra chữ ký số: {type(exc).__name__}: {exc}"[:300]
        with transaction.atomic():
            locked = FileSignature.objects.select_for_update().get(pk=row.pk)
            locked.attempts += 1
            locked.error = reason
            if locked.attempts >= MAX_ATTEMPTS:
                locked.state = FileCheckState.UNREADABLE
                locked.checked_at = at
                locked.trust_fingerprint = fingerprint
                _audit(locked, stored, at, recheck=False)
            locked.save()
        raise
    with transaction.atomic():
        locked = FileSignature.objects.select_for_update().get(pk=row.pk)
        recheck = locked.state == FileCheckState.CHECKED
        locked.state = outcome.state
        locked.verdict = outcome.verdict
        locked.signatures = outcome.signatures
        locked.document_timestamps = outcome.document_timestamps
        locked.error = outcome.error
        locked.trust_fingerprint = fingerprint
        locked.attempts += 1
        locked.checked_at = at
        locked.save()
        _audit(locked, stored, at, recheck=recheck)
    return locked


def _audit(row: FileSignature, stored: StoredFile, at: dt.datetime, *, recheck: bool) -> None:
    dossier = stored.dossier
    where: dict[str, Any] = {"actor": None, "obj": dossier, "at": at}
    where["agency_id"] = dossier.current_agency_id
    data = {
        "file": stored.pk,
        "sha256": stored.sha256,
        "state": row.state,
        "verdict": row.verdict,
        "signatures": len(row.signatures),
        "trust": row.trust_fingerprint,
    }
    if recheck:  # the trust list changed since the last check
        log.record("dossier.file.signature_rechecked", data=data, **where)
    else:
        log.record("dossier.file.signature_checked", data=data, **where)


def check_job(file_id: int) -> dict[str, Any]:
    """The worker's job queued by `track`: check one file, unless it is already checked
    against the current trust list (the sweep got there first)."""
    roots, current = trust()
    row = FileSignature.objects.select_related("file__dossier").filter(pk=file_id).first()
    if row is None:
        return {"file": file_id, "skipped": "không có bản ghi kiểm tra"}
    if row.state != FileCheckState.PENDING and (
        row.state == FileCheckState.UNREADABLE or row.trust_fingerprint == current
    ):
        return {"file": file_id, "skipped": "đã kiểm tra"}
    done = check(row, roots=roots, fingerprint=current)
    return {"file": file_id, "state": done.state, "verdict": done.verdict}


# -- the sweep ----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    tracked: int = 0  # PDFs that had no row and got one
    checked: int = 0  # pending files checked
    rechecked: int = 0  # checked again against a changed trust list
    trust_updated: int = 0  # unsigned files: nothing to re-verify, fingerprint moved on
    unreadable: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    remaining: int = 0  # left for the next run (beyond `limit`)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tracked": self.tracked,
            "checked": self.checked,
            "rechecked": self.rechecked,
            "trust_updated": self.trust_updated,
            "unreadable": self.unreadable,
            "errors": [{"file": pk, "message": m} for pk, m in self.errors],
            "verdicts": dict(sorted(self.verdicts.items())),
            "remaining": self.remaining,
        }


def sweep(*, limit: int = BATCH, now: dt.datetime | None = None) -> SweepReport:
    """Record PDFs without a check, check the pending ones, re-check those checked against
    another trust list; at most `limit` verifications. Running it again with nothing new
    changes nothing."""
    at = now or timezone.now()
    roots, current = trust()
    report = SweepReport()
    untracked = list(
        StoredFile.objects.filter(content_type=PDF, signature_check__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if untracked:
        FileSignature.objects.bulk_create(
            [FileSignature(file_id=pk, created_at=at) for pk in untracked],
            ignore_conflicts=True,
            batch_size=1000,
        )
        report.tracked = len(untracked)
    # An unsigned file has nothing a trust list could change.
    report.trust_updated = (
        FileSignature.objects.filter(
            state=FileCheckState.CHECKED, verdict=SignatureVerdict.UNSIGNED
        )
        .exclude(trust_fingerprint=current)
        .update(trust_fingerprint=current)
    )
    stale = Q(state=FileCheckState.CHECKED) & ~Q(trust_fingerprint=current)
    todo = FileSignature.objects.filter(Q(state=FileCheckState.PENDING) | stale)
    total = todo.count()
    batch = list(todo.select_related("file__dossier").order_by("created_at", "pk")[:limit])
    report.remaining = max(total - len(batch), 0)
    for row in batch:
        was_checked = row.state == FileCheckState.CHECKED
        try:
            done = check(row, roots=roots, fingerprint=current, now=at)
        except Exception as exc:
            report.errors.append((row.pk, f"{type(exc).__name__}: {exc}"[:300]))
            continue
        if was_checked:
            report.rechecked += 1
        else:
            report.checked += 1
        if done.state == FileCheckState.UNREADABLE:
            report.unreadable += 1
        elif done.verdict:
            report.verdicts[done.verdict] = report.verdicts.get(done.verdict, 0) + 1
    return report


# -- flags and the dossier page -----------------------------------------------------------------

PROBLEM_REASONS = {
    "pending": "chưa kiểm tra xong chữ ký số",
    SignatureVerdict.UNSIGNED: "không có chữ ký số",
    SignatureVerdict.INVALID: "chữ ký số không hợp lệ",
    SignatureVerdict.UNTRUSTED: "chữ ký số không tin cậy (chứng thư không thuộc danh sách tin cậy)",
    "unreadable": "không đọc được tệp PDF",
    "not_pdf": "tệp không phải PDF nên không mang chữ ký số",
}


@dataclass(frozen=True)
class Problem:
    """A file of a component whose document requires a digital signature, and what is
    wrong with it (`kind`: pending, unsigned, invalid, untrusted, unreadable, not_pdf)."""

    file_id: int
    file_name: str
    component: str
    kind: str

    @property
    def message(self) -> str:
        return (
            f"Tệp yêu cầu chữ ký số nhưng {PROBLEM_REASONS[self.kind]}: "
            f"«{self.file_name}» ({self.component})."
        )

    @property
    def waiting(self) -> bool:
        """Not a verdict yet: the worker has not checked the file."""
        return self.kind == "pending"


def _files(dossier: Dossier) -> list[StoredFile]:
    """The dossier's PDFs and the files of components that require a signature, with their
    check, component and document: one query."""
    return list(
        StoredFile.objects.filter(dossier=dossier)
        .filter(Q(content_type=PDF) | Q(component__document__signature_required=True))
        .select_related("component__document", "signature_check")
        .order_by("pk")
    )


def _check_of(stored: StoredFile) -> FileSignature | None:
    try:
        return stored.signature_check
    except FileSignature.DoesNotExist:
        return None


def _problem(stored: StoredFile) -> Problem | None:
    component = stored.component
    document = component.document if component is not None else None
    if component is None or document is None or not document.signature_required:
        return None
    row = _check_of(stored)
    if stored.content_type != PDF:
        kind = "not_pdf"
    elif row is None or row.state == FileCheckState.PENDING:
        kind = "pending"
    elif row.state == FileCheckState.UNREADABLE:
        kind = "unreadable"
    elif row.verdict == SignatureVerdict.VALID:
        return None
    else:
        kind = row.verdict
    return Problem(stored.pk, stored.name, component.name, kind)


def _problems_of(stored_files: Sequence[StoredFile]) -> list[Problem]:
    return [p for p in (_problem(f) for f in stored_files) if p is not None]


def problems(dossier: Dossier) -> list[Problem]:
    """The signature problems of `dossier`'s files where the procedure requires a signature
    (one query). `Problem.waiting` ones have no verdict yet."""
    return _problems_of(_files(dossier))


# -- receiving (issue 21 leftovers, item 3) ------------------------------------------------------

RECEIPT_REASONS = {
    "pending": "chưa kiểm tra xong chữ ký số",
    SignatureVerdict.UNSIGNED: "không có chữ ký số",
    SignatureVerdict.INVALID: "chữ ký số không hợp lệ",
    SignatureVerdict.UNTRUSTED: "chữ ký số không thuộc danh sách tin cậy",
    "unreadable": "không đọc được tệp PDF",
    "not_pdf": "không phải tệp PDF ký số",
}


def _by_component(found: Sequence[Problem]) -> str:
    groups: dict[str, list[str]] = {}
    for p in found:
        groups.setdefault(p.component, []).append(
            f"tệp «{p.file_name}» {RECEIPT_REASONS.get(p.kind, PROBLEM_REASONS[p.kind])}"
        )
    return "; ".join(
        f"Thành phần «{component}» yêu cầu chữ ký số hợp lệ: " + ", ".join(parts)
        for component, parts in groups.items()
    )


def refuse_unsigned_receipt(dossier: Dossier) -> list[Problem]:
    """The desk's receive action (`services.act(…, "receive")`, inside its transaction): a
    file of a component that requires a signature whose check is DONE and failed (unsigned,
    invalid, untrusted, unreadable, not a PDF) blocks the receipt with InvalidInput listing
    the components and files. Files not checked yet (the worker is behind) never block —
    the desk must not wait for the worker: they are returned, for a warning, and the
    dossier page keeps flagging them until their verdict comes."""
    found = problems(dossier)
    failed = [p for p in found if not p.waiting]
    if failed:
        raise InvalidInput(
            f"Không tiếp nhận được hồ sơ {dossier.code}: {_by_component(failed)}. "
            "Đề nghị người nộp bổ sung tệp đã ký số hợp lệ (hoặc lập phiếu hướng dẫn bổ sung, "
            "hoàn thiện hồ sơ).",
            code="dossier.signature_required",
            files=[p.file_id for p in failed],
        )
    return [p for p in found if p.waiting]


def receipt_warnings(dossier: Dossier) -> list[str]:
    """What the desk is told after receiving (one query; empty when nothing is wrong): files
    whose signature is still being checked, and — at the counter, where the files are
    uploaded with the receipt itself and checked just after it — files already found
    unsigned or invalid."""
    found = problems(dossier)
    waiting = [p for p in found if p.waiting]
    failed = [p for p in found if not p.waiting]
    out = []
    if waiting:
        out.append(
            f"Đã tiếp nhận, nhưng chữ ký số chưa được kiểm tra xong — {_by_component(waiting)}. "
            "Kết quả kiểm tra hiện ở mục «Chữ ký số trên tệp PDF» của hồ sơ; nếu chữ ký không "
            "hợp lệ, yêu cầu người nộp bổ sung."
        )
    if failed:
        out.append(
            f"Chữ ký số không đạt — {_by_component(failed)}. Đề nghị người nộp bổ sung tệp đã "
            "ký số hợp lệ."
        )
    return out


def _signer(entry: dict[str, Any], *, full: bool) -> dict[str, Any]:
    when = entry.get("signing_time")
    return {
        # A citizen's certificate names a person: masked like the applicant's name.
        "name": privacy.shown(privacy.Field.NAME, entry.get("name") or "", full=full),
        "organization": entry.get("organization") or "",
        "issuer": entry.get("issuer") or "",
        "serial": (entry.get("serial") or "") if full else "",
        "signing_time": dt.datetime.fromisoformat(when) if when else None,
        "time_source": TIME_SOURCES.get(entry.get("time_source") or "", ""),
        "verdict": entry.get("verdict") or "",
        "verdict_text": _verdict_text(entry.get("verdict") or ""),
        "problems": list(entry.get("problems") or []),
    }


def _verdict_text(verdict: str) -> str:
    try:
        return str(SignatureVerdict(verdict).label)
    except ValueError:
        return ""


def panel(user: Any, dossier: Dossier) -> dict[str, Any]:
    """The context of `dossiers/_file_signatures.html`: one row per PDF (verdict in
    Vietnamese, signers), and the problems where a signature is required. Bounded: one
    query for the files, and the reader's personal-data grant."""
    stored_files = _files(dossier)
    full = access.sees_personal_data(user, dossier)
    rows = []
    for stored in stored_files:
        if stored.content_type != PDF:
            continue
        row = _check_of(stored)
        component = stored.component
        state = row.state if row is not None else FileCheckState.PENDING
        rows.append(
            {
                "file": stored,
                "where": component.name if component is not None else "Tệp đính kèm",
                "required": bool(
                    component is not None
                    and component.document is not None
                    and component.document.signature_required
                ),
                "state": state,
                "state_label": FileCheckState(state).label,
                "verdict": row.verdict if row is not None else "",
                "verdict_text": _verdict_text(row.verdict) if row is not None else "",
                "error": row.error if row is not None else "",
                "checked_at": row.checked_at if row is not None else None,
                "signers": [_signer(e, full=full) for e in (row.signatures if row else [])],
            }
        )
    return {"rows": rows, "problems": _problems_of(stored_files), "masked": not full}
