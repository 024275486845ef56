"""Issued documents signed on the worker (issue 21 item 1): which profile signs what, the job
that signs one document, the periodic sweep, and what the dossier page and `cchc documents
status` show.

Which key: a result (`IssuedKind.RESULT`) is signed with the competent agency's profile
`agency:<agency code>` when configured, else the `agency` profile; every form and the fee
receipt with the receiving desk's profile `desk:<desk code>`, else `desk` (`CCHC_SIGNING`,
docs/signing.md). Without a matching profile the document stays "unsigned" — not an error;
`reason_unsigned` says why.

When: `on_issued(doc)` queues `sign_document(pk)` after the issuing transaction commits,
and the sweep `sign_due` (`cchc documents sign`, every minute) picks up anything unsigned,
failed and due, or stuck "waiting" after a worker died, so nothing depends on that hook.

How: the job CLAIMS the document — one conditional UPDATE (unsigned/failed, current → a
row lock on PostgreSQL, the write lock on SQLite) then `issued.request_signature`
(→ waiting) in the same transaction, so of two workers exactly one signs — signs the
stored bytes (`sign_pdf(issued.content(doc), profile=…, purpose=<kind>)`) outside any
transaction, and `issued.replace_with_signed`. On `SigningUnavailable` (TSA, CRL server,
token, phone) `issued.signing_failed` with a retry after 1, 2, 4 … minutes (capped at 60)
until `CCHC_SIGNING_MAX_ATTEMPTS` (default 8) attempts; on `SigningError` (configuration,
wrong password, untrusted signer) or an unreadable/damaged stored copy it stops at once.
A stopped document stays "failed", visible, until `cchc documents sign --retry-stopped`.
The unsigned issued copy stays in force and downloadable the whole time.

Who signed and when the worker retries are columns of the document (migration 0018):
`signed_by_subject` ("CN, O" of the signer certificate), `signer_serial`, `signing_profile`,
and `next_attempt_at` (the sweep's due time after a failure; null once signed or stopped).
The audit log keeps the history, written in the same transaction as the state change:
`dossier.document.sign_retry` (data: document, attempts, retry_at or null, stopped, code)
and `dossier.document.signer` (document, profile, signer, organisation, serial);
`retry_info` reads the latest retry record of many documents in one query.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from cchc import signing  # sign_pdf/verify_pdf load pyHanko on first use, not at import
from cchc.audit import log
from cchc.audit.models import AuditEntry
from cchc.dossiers import issued
from cchc.dossiers.models import Dossier, IssuedDocument, IssuedKind, SignState
from cchc.errors import Conflict, DomainError
from cchc.jobs import retry
from cchc.jobs.queue import enqueue
from cchc.signing import SigningError, SigningUnavailable, UnreadablePdf

logger = logging.getLogger(__name__)

RETRY_ACTION = "dossier.document.sign_retry"
SIGNER_ACTION = "dossier.document.signer"
JOB = "cchc.dossiers.signing_jobs.sign_document"

# What `sign_document` did with one document.
SIGNED, RETRY, STOPPED, SKIPPED, NO_PROFILE = "signed", "retry", "stopped", "skipped", "unsigned"
INTERRUPTED = "Tiến trình ký số dừng giữa chừng; sẽ ký lại."


# -- settings ---------------------------------------------------------------------------------


def max_attempts() -> int:
    """Attempts before a transient failure stops being retried (`CCHC_SIGNING_MAX_ATTEMPTS`,
    default 8: about two hours of retries)."""
    return max(1, int(getattr(settings, "CCHC_SIGNING_MAX_ATTEMPTS", 8)))


def lease() -> dt.timedelta:
    """How long a document may stay "waiting" before the sweep takes it back (a worker that
    died mid-signing). Longer than the slowest signing: remote confirmation (`wait_seconds`,
    180 s by default) plus TSA and CRL time-outs."""
    return dt.timedelta(minutes=float(getattr(settings, "CCHC_SIGNING_LEASE_MINUTES", 30)))


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4 … minutes, capped at 60."""
    return retry.backoff(attempts, cap_minutes=60, jitter=retry.no_jitter)


# -- which profile ----------------------------------------------------------------------------


def _configured_profiles() -> set[str]:
    raw = getattr(settings, "CCHC_SIGNING", None) or {}
    profiles = raw.get("profiles") if isinstance(raw, dict) else None
    return set(profiles) if isinstance(profiles, dict) else set()


# Signed by the competent agency: results, and certified electronic copies (the certifying
# authority signs them, NĐ 45/2020 Điều 6; `cchc.dossiers.certified_copies`).
AGENCY_KINDS = (IssuedKind.RESULT, IssuedKind.CERTIFIED_COPY)


def candidates_for(doc: IssuedDocument) -> tuple[str, str]:
    """(specific, default) profile names for `doc`: the competent agency's for a result, the
    receiving desk's for forms and fee receipts."""
    dossier = doc.dossier
    if doc.kind in AGENCY_KINDS:
        return f"agency:{dossier.competent_agency.code}", "agency"
    return f"desk:{dossier.desk.code}", "desk"


def profile_for(doc: IssuedDocument, configured: set[str] | None = None) -> str | None:
    """The profile that signs `doc`, or None when none is configured."""
    names = _configured_profiles() if configured is None else configured
    return next((p for p in candidates_for(doc) if p in names), None)


def reason_unsigned(doc: IssuedDocument, configured: set[str] | None = None) -> str:
    """Why `doc` is not signed by anyone ("" when a profile would sign it)."""
    names = _configured_profiles() if configured is None else configured
    if not names:
        return "Chưa cấu hình ký số (CCHC_SIGNING không có hồ sơ ký nào)."
    if profile_for(doc, names) is not None:
        return ""
    specific, default = candidates_for(doc)
    return f"Chưa cấu hình hồ sơ ký «{specific}» hoặc «{default}»."


# -- retry records ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryInfo:
    at: dt.datetime  # when the failure was recorded
    retry_at: dt.datetime | None  # None: stopped
    code: str


def retry_info(ids: Iterable[int]) -> dict[int, RetryInfo]:
    """The latest retry record of each document in `ids` (one query)."""
    wanted = list(ids)
    if not wanted:
        return {}
    out: dict[int, RetryInfo] = {}
    rows = AuditEntry.objects.filter(action=RETRY_ACTION, data__document__in=wanted).order_by("pk")
    for entry in rows.only("at", "data"):
        data = entry.data or {}
        retry_at = data.get("retry_at")
        out[int(data["document"])] = RetryInfo(
            entry.at,
            dt.datetime.fromisoformat(retry_at) if retry_at else None,
            str(data.get("code", "")),
        )
    return out


def is_stopped(doc: IssuedDocument) -> bool:
    """A failed document the worker no longer retries (no next attempt, or out of attempts)."""
    return doc.signed == SignState.FAILED and (
        doc.next_attempt_at is None or doc.sign_attempts >= max_attempts()
    )


def _due(doc: IssuedDocument, at: dt.datetime, *, stopped: bool) -> bool:
    """Whether the worker may try `doc` now (unsigned: always; failed: `next_attempt_at`
    reached, or a stopped one when `stopped` is asked for)."""
    if doc.signed == SignState.UNSIGNED:
        return True
    if doc.signed != SignState.FAILED:
        return False
    if is_stopped(doc):
        return stopped
    assert doc.next_attempt_at is not None
    return doc.next_attempt_at <= at


# -- the job ----------------------------------------------------------------------------------


def on_issued(doc: IssuedDocument) -> None:
    """Queue the signing of a just-issued document after its transaction commits (call it
    from `issued._create`). Nothing is queued when no profile would sign it."""
    if profile_for(doc) is not None:
        enqueue(JOB, doc.pk, name=f"sign-document-{doc.pk}")


def _load(pk: int) -> IssuedDocument | None:
    return (
        IssuedDocument.objects.select_related("dossier__desk", "dossier__competent_agency")
        .filter(pk=pk)
        .first()
    )


def claim(pk: int, at: dt.datetime, *, stopped: bool = False) -> IssuedDocument | None:
    """Move the document to "waiting" for this worker, or None when it is not due, already
    taken, signed, superseded or unsignable. One conditional UPDATE decides the winner: it
    row-locks on PostgreSQL and takes the database's write lock on SQLite before
    `request_signature` reads the state, so a second worker finds nothing to claim."""
    try:
        with transaction.atomic():
            won = IssuedDocument.objects.filter(
                pk=pk,
                superseded_at__isnull=True,
                signed__in=(SignState.UNSIGNED, SignState.FAILED),
            ).update(signed=F("signed"))
            if not won:
                return None
            doc = _load(pk)
            if doc is None or profile_for(doc) is None:
                return None
            if not _due(doc, at, stopped=stopped):
                return None
            claimed = issued.request_signature(doc, now=at)
    except Conflict:
        return None
    except OperationalError:  # SQLite: another worker took the write lock first
        return None
    claimed.dossier = doc.dossier
    return claimed


def sign_document(pk: int, *, now: dt.datetime | None = None, stopped: bool = False) -> str:
    """The worker's job: sign one issued document if it is due. Returns SIGNED, RETRY,
    STOPPED, SKIPPED (nothing to claim) or NO_PROFILE. Never raises for a signing failure:
    the document, not the job, carries it."""
    at = now or timezone.now()
    found = _load(pk)
    if found is None:
        return SKIPPED
    if profile_for(found) is None:
        return NO_PROFILE
    doc = claim(pk, at, stopped=stopped)
    if doc is None:
        return SKIPPED
    profile = profile_for(doc)
    assert profile is not None
    try:
        signed = signing.sign_pdf(issued.content(doc), profile=profile, purpose=doc.kind)
    except SigningUnavailable as exc:
        return _failed(doc, exc, now, permanent=False)
    except (SigningError, UnreadablePdf, Conflict) as exc:
        return _failed(doc, exc, now, permanent=True)
    except Exception as exc:  # an unexpected failure is retried like a transient one
        logger.exception("signing issued document %s failed", doc.pk)
        return _failed(doc, exc, now, permanent=False)
    signer = _signer(signed)
    done_at = now or timezone.now()
    subject = ", ".join(x for x in (signer["signer"], signer["organisation"]) if x)
    try:
        with transaction.atomic():
            doc = issued.replace_with_signed(
                doc,
                signed,
                now=done_at,
                subject=subject,
                serial=signer["serial"],
                profile=profile,
            )
            log.record(
                SIGNER_ACTION,
                actor=None,
                obj=doc.dossier,
                agency_id=doc.dossier.current_agency_id,
                at=done_at,
                data={"document": doc.pk, "profile": profile, **signer},
            )
    except Conflict:  # taken back by the sweep meanwhile (lease ran out): it will sign again
        return SKIPPED
    return SIGNED


def _signer(signed: bytes) -> dict[str, str]:
    """Who signed: the last signature's certificate subject (read back from the bytes)."""
    try:
        report = signing.verify_pdf(signed)
    except DomainError:
        return {"signer": "", "organisation": "", "serial": ""}
    if not report.signatures:
        return {"signer": "", "organisation": "", "serial": ""}
    last = report.signatures[-1]
    return {"signer": last.signer_name, "organisation": last.signer_org, "serial": last.serial}


def _failed(
    doc: IssuedDocument, exc: BaseException, now: dt.datetime | None, *, permanent: bool
) -> str:
    at = now or timezone.now()
    message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
    code = str(getattr(exc, "code", "") or type(exc).__name__)
    logger.warning("issued document %s not signed: %s", doc.pk, message)

    def retry_after(attempts: int) -> dt.timedelta | None:
        return None if permanent or attempts >= max_attempts() else backoff(attempts)

    with transaction.atomic():
        doc = issued.signing_failed(doc, message, now=at, retry_after=retry_after)
        retry_at = doc.next_attempt_at
        stop = retry_at is None
        log.record(
            RETRY_ACTION,
            actor=None,
            obj=doc.dossier,
            agency_id=doc.dossier.current_agency_id,
            at=at,
            data={
                "document": doc.pk,
                "attempts": doc.sign_attempts,
                "retry_at": retry_at.isoformat() if retry_at else None,
                "stopped": stop,
                "code": code,
            },
        )
    return STOPPED if stop else RETRY


# -- the sweep --------------------------------------------------------------------------------


def reclaim(now: dt.datetime | None = None) -> int:
    """Documents left "waiting" longer than the lease (the worker died mid-signing): failed,
    to be retried at once. Returns how many."""
    at = now or timezone.now()
    waiting = list(
        IssuedDocument.objects.filter(signed=SignState.WAITING, superseded_at__isnull=True)
        .select_related("dossier")
        .values_list("pk", flat=True)
    )
    if not waiting:
        return 0
    requested: dict[int, dt.datetime] = {}
    for entry in AuditEntry.objects.filter(
        action="dossier.document.sign_requested", data__document__in=waiting
    ).only("at", "data"):
        pk = int(entry.data["document"])
        requested[pk] = max(requested.get(pk, entry.at), entry.at)
    count = 0
    for pk in waiting:
        since = requested.get(pk)
        if since is not None and since > at - lease():
            continue
        doc = IssuedDocument.objects.select_related("dossier").get(pk=pk)
        try:
            with transaction.atomic():
                doc = issued.signing_failed(doc, INTERRUPTED, now=at)
                log.record(
                    RETRY_ACTION,
                    actor=None,
                    obj=doc.dossier,
                    agency_id=doc.dossier.current_agency_id,
                    at=at,
                    data={
                        "document": doc.pk,
                        "attempts": doc.sign_attempts,
                        "retry_at": at.isoformat(),
                        "stopped": False,
                        "code": "interrupted",
                    },
                )
        except Conflict:
            continue
        count += 1
    return count


def sign_due(
    *, now: dt.datetime | None = None, limit: int = 100, stopped: bool = False
) -> dict[str, int]:
    """The worker's sweep (`cchc documents sign`): take back stuck documents, then sign every
    due one, oldest first, at most `limit` attempts in one run. Returns the counts."""
    at = now or timezone.now()
    counts = {SIGNED: 0, RETRY: 0, STOPPED: 0, SKIPPED: 0, "reclaimed": reclaim(at)}
    configured = _configured_profiles()
    if not configured:
        return counts
    # Unsigned ones, and failed ones whose next attempt is due (any failed one with
    # `stopped`): the retry time is a column, so the database picks them.
    due = Q(signed=SignState.UNSIGNED) | Q(signed=SignState.FAILED, next_attempt_at__lte=at)
    if stopped:
        due |= Q(signed=SignState.FAILED)
    pending = IssuedDocument.objects.filter(due, superseded_at__isnull=True)
    # Documents no configured profile could sign are not even loaded.
    if not any(p == "desk" or p.startswith("desk:") for p in configured):
        pending = pending.filter(kind__in=AGENCY_KINDS)
    if not any(p == "agency" or p.startswith("agency:") for p in configured):
        pending = pending.exclude(kind__in=AGENCY_KINDS)
    docs = list(pending.select_related("dossier__desk", "dossier__competent_agency").order_by("pk"))
    tried = 0
    for doc in docs:
        if tried >= limit:
            break
        if profile_for(doc, configured) is None:
            continue
        if not _due(doc, at, stopped=stopped):
            continue
        tried += 1
        outcome = sign_document(doc.pk, now=now, stopped=stopped)
        if outcome in counts:
            counts[outcome] += 1
    return counts


# -- what is shown ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureRow:
    """One issued document's signature as the dossier page shows it."""

    document: int
    kind: str
    number: str
    issued_at: dt.datetime
    state: str  # SignState value
    text: str  # Vietnamese: "Đã ký số bởi … lúc …", "Ký số chưa thành công, thử lại lúc …"
    signed_at: dt.datetime | None = None
    signer: str = ""
    error: str = ""
    retry_at: dt.datetime | None = None
    reason: str = ""


def _local(value: dt.datetime) -> str:
    return f"{timezone.localtime(value):%H:%M %d/%m/%Y}"


def describe(doc: IssuedDocument, configured: set[str] | None = None) -> str:
    """The signature of `doc` in one Vietnamese sentence (the dossier page and the admin)."""
    return _row(doc, _configured_profiles() if configured is None else configured).text


def _row(doc: IssuedDocument, configured: set[str]) -> SignatureRow:
    base = {
        "document": doc.pk,
        "kind": doc.get_kind_display(),
        "number": doc.number,
        "issued_at": doc.issued_at,
        "state": doc.signed,
    }
    if doc.signed == SignState.SIGNED:
        who = doc.signed_by_subject or doc.signing_profile
        assert doc.signed_at is not None
        text = "Đã ký số" + (f" bởi {who}" if who else "") + f" lúc {_local(doc.signed_at)}"
        return SignatureRow(**base, text=text, signed_at=doc.signed_at, signer=who)
    if doc.signed == SignState.FAILED:
        if not is_stopped(doc):
            assert doc.next_attempt_at is not None
            text = (
                f"Ký số chưa thành công, thử lại lúc {_local(doc.next_attempt_at)} "
                f"(lỗi: {doc.sign_error})"
            )
            return SignatureRow(
                **base, text=text, error=doc.sign_error, retry_at=doc.next_attempt_at
            )
        text = f"Ký số chưa thành công: {doc.sign_error} (đã dừng thử lại; cần quản trị viên xử lý)"
        return SignatureRow(**base, text=text, error=doc.sign_error)
    if doc.signed == SignState.WAITING:
        return SignatureRow(**base, text="Chờ ký số")
    reason = reason_unsigned(doc, configured)
    if reason:
        return SignatureRow(**base, text=f"Chưa ký số: {reason}", reason=reason)
    return SignatureRow(**base, text="Chờ ký số")


def signatures(dossier: Dossier) -> list[SignatureRow]:
    """The signature of every document in force issued for `dossier`, oldest first: one
    query (signer and retry time are columns)."""
    docs = list(
        IssuedDocument.objects.filter(dossier=dossier, superseded_at__isnull=True).order_by("pk")
    )
    if not docs:
        return []
    for doc in docs:  # the dossier is known: no query per row for the profile choice
        doc.dossier = dossier
    configured = _configured_profiles()
    return [_row(d, configured) for d in docs]


def status() -> dict[str, Any]:
    """`cchc documents status`: documents in force by signing state, failed ones split into
    retrying and stopped, unsigned ones into queued and unsignable (with the reasons)."""
    configured = _configured_profiles()
    docs = list(
        IssuedDocument.objects.filter(superseded_at__isnull=True)
        .exclude(signed=SignState.SIGNED)
        .select_related("dossier__desk", "dossier__competent_agency")
        .order_by("pk")
    )
    signed = IssuedDocument.objects.filter(
        superseded_at__isnull=True, signed=SignState.SIGNED
    ).count()
    out: dict[str, Any] = {
        "signed": signed,
        "waiting": 0,
        "queued": 0,
        "retrying": 0,
        "stopped": 0,
        "unsignable": 0,
        "reasons": {},
        "stopped_documents": [],
        "next_retry_at": None,
    }
    next_retry: dt.datetime | None = None
    for doc in docs:
        if doc.signed == SignState.WAITING:
            out["waiting"] += 1
            continue
        reason = reason_unsigned(doc, configured)
        if reason:
            out["unsignable"] += 1
            out["reasons"][reason] = out["reasons"].get(reason, 0) + 1
            continue
        if doc.signed == SignState.UNSIGNED:
            out["queued"] += 1
            continue
        if not is_stopped(doc):
            out["retrying"] += 1
            assert doc.next_attempt_at is not None
            next_retry = min(next_retry or doc.next_attempt_at, doc.next_attempt_at)
            continue
        out["stopped"] += 1
        out["stopped_documents"].append(
            {"document": doc.pk, "attempts": doc.sign_attempts, "error": doc.sign_error}
        )
    out["next_retry_at"] = next_retry.isoformat() if next_retry else None
    return out
