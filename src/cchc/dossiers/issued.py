"""Issued documents (bản phát hành, issue 21): the one official copy of each form, fee receipt
or result, with the QR code and the code that lead to the public verification page.

A document is issued once, the first time someone entitled to the full copy prints it (the
applicant, through the copy sent to them, or an officer with `dossier.personal_data`):
`issue` renders it in full with a fresh token, stores the bytes under MEDIA_ROOT
(`dossiers.files.store`, by content hash), hashes them and records the row; every later
download returns the stored bytes (`content`), so two downloads are byte-identical. Readers
without the right never see the issued copy: they get the masked rendering marked
"Bản xem (không phải bản phát hành)" and no QR code (`dossiers.documents.forms`).

Digital signing (the helper "signing", `cchc.signing.sign_pdf`) hooks in here:
`request_signature` (unsigned/failed → waiting), `signing_failed` (waiting → failed, kept
for the worker to retry) and `replace_with_signed(doc, signed_bytes)` (waiting → signed:
the signed bytes become the issued copy; `unsigned_sha256` keeps the hash first issued).
`supersede` re-issues a document (a correction) and links the old row to the new one.

The token is 160 random bits in RFC 4648 base32 (32 letters A–Z and digits 2–7: URL-safe,
case-insensitive, printed in groups of four so it can be typed from paper).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cchc.audit import log
from cchc.dossiers import files
from cchc.dossiers.models import Dossier, IssuedDocument, IssuedKind, SignState
from cchc.errors import Conflict, InvalidInput, NotFound

TOKEN_BYTES = 20  # 160 bits
TOKEN_LENGTH = 32  # base32 letters of TOKEN_BYTES
PREVIEW_MARK = "Bản xem (không phải bản phát hành)"

# Allowed sign-state changes: from -> to.
SIGN_TRANSITIONS: dict[str, frozenset[str]] = {
    SignState.UNSIGNED: frozenset({SignState.WAITING}),
    SignState.WAITING: frozenset({SignState.SIGNED, SignState.FAILED}),
    SignState.FAILED: frozenset({SignState.WAITING}),
    SignState.SIGNED: frozenset(),
}


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode("ascii").rstrip("=")


def normalise_token(text: str) -> str:
    """The token in a typed or scanned code: spaces, dashes and dots dropped, upper case."""
    return re.sub(r"[\s\-.]+", "", text or "").upper()[: TOKEN_LENGTH + 8]


def token_words(token: str) -> str:
    """The token as printed: groups of four (ABCD-EFGH-…)."""
    return "-".join(token[i : i + 4] for i in range(0, len(token), 4))


def verify_url(token: str) -> str:
    """The absolute address of the public verification page of `token` (CCHC_SITE_URL)."""
    base = str(getattr(settings, "CCHC_SITE_URL", "") or "").rstrip("/")
    return base + reverse("portal:verify", args=[token])


def qr_data_uri(url: str) -> str:
    """The QR code of `url` as an SVG data URI for the PDF templates (segno, level M)."""
    import segno  # imported late: only documents that carry a QR code need it

    return str(segno.make(url, error="m").svg_data_uri(scale=1, border=4))


@dataclass(frozen=True)
class Mark:
    """What an issued document prints about itself: QR code, code and address."""

    token: str
    words: str
    url: str
    qr: str


def mark(token: str) -> Mark:
    url = verify_url(token)
    return Mark(token, token_words(token), url, qr_data_uri(url))


# -- issuing ----------------------------------------------------------------------------------


def current(dossier: Dossier, kind: str, source: str) -> IssuedDocument | None:
    """The document in force for (dossier, kind, source), if issued."""
    return IssuedDocument.objects.filter(
        dossier=dossier, kind=kind, source=source, superseded_at__isnull=True
    ).first()


def issue(
    dossier: Dossier,
    kind: str,
    source: str,
    *,
    render: Callable[[str], tuple[str, bytes, str]],
    actor: Any,
    number: str = "",
    now: dt.datetime | None = None,
) -> IssuedDocument:
    """The document in force for (dossier, kind, source), issuing it when there is none:
    `render(token)` returns (file name, PDF bytes, issuing agency's name) of the full copy
    carrying `token`. Rendering runs outside the transaction; when two first prints race,
    the one that commits first wins and the other returns it (its own bytes are dropped)."""
    if kind not in IssuedKind.values:
        raise InvalidInput(f"Không có loại văn bản «{kind}».", code="issued.kind")
    found = current(dossier, kind, source)
    if found is not None:
        return found
    return _create(dossier, kind, source, render=render, actor=actor, number=number, now=now)


def _create(
    dossier: Dossier,
    kind: str,
    source: str,
    *,
    render: Callable[[str], tuple[str, bytes, str]],
    actor: Any,
    number: str,
    now: dt.datetime | None,
    replaces: IssuedDocument | None = None,
) -> IssuedDocument:
    token = new_token()
    filename, content, agency_name = render(token)
    stored = _store(filename, content)
    at = now or timezone.now()
    try:
        with transaction.atomic():
            if replaces is not None:
                old = IssuedDocument.objects.select_for_update().get(pk=replaces.pk)
                if old.superseded_at is not None:
                    raise Conflict(
                        "Văn bản này đã được phát hành lại trước đó.", code="issued.superseded"
                    )
                old.superseded_at = at
                old.save(update_fields=["superseded_at"])
            doc = IssuedDocument.objects.create(
                dossier=dossier,
                kind=kind,
                source=source,
                number=number,
                filename=filename[:200],
                agency_name=agency_name[:300],
                token=token,
                issued_at=at,
                issued_by=actor if getattr(actor, "pk", None) else None,
                sha256=stored.sha256,
                size=stored.size,
                path=files.store(stored),
            )
            if replaces is not None:
                old.superseded_by = doc
                old.save(update_fields=["superseded_by"])
            log.record(
                "dossier.document.reissued" if replaces else "dossier.document.issued",
                actor=doc.issued_by,
                obj=dossier,
                agency_id=dossier.current_agency_id,
                at=at,
                data={
                    "document": doc.pk,
                    "kind": kind,
                    "source": source,
                    "sha256": doc.sha256,
                    **({"replaces": replaces.pk} if replaces else {}),
                },
            )
    except IntegrityError:
        if replaces is not None:
            raise
        found = current(dossier, kind, source)
        if found is None:
            raise
        return found
    # Signed on the worker, queued after the issuing transaction commits (issue 21).
    from cchc.dossiers import signing_jobs  # a cycle inside one app: signing_jobs uses issued

    signing_jobs.on_issued(doc)
    return doc


def _store(filename: str, content: bytes) -> files.Upload:
    if not content.startswith(b"%PDF-"):
        raise InvalidInput("Văn bản phát hành phải là tệp PDF.", code="issued.not_pdf")
    return files.Upload(filename, "application/pdf", content, hashlib.sha256(content).hexdigest())


def content(doc: IssuedDocument) -> bytes:
    """The issued bytes, checked against the recorded hash (a changed or missing file is
    an error, never served)."""
    path = files.open_stored(doc.path)
    data = path.read_bytes() if path.is_file() else b""
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise Conflict(
            "Bản phát hành lưu trữ không còn nguyên vẹn; liên hệ quản trị hệ thống.",
            code="issued.damaged",
            document=doc.pk,
        )
    return data


def supersede(
    doc: IssuedDocument,
    *,
    render: Callable[[str], tuple[str, bytes, str]],
    actor: Any,
    now: dt.datetime | None = None,
) -> IssuedDocument:
    """Re-issue `doc` (a correction): a new document with a new token; the old one stays
    verifiable and says that it was replaced."""
    return _create(
        doc.dossier,
        doc.kind,
        doc.source,
        render=render,
        actor=actor,
        number=doc.number,
        now=now,
        replaces=doc,
    )


# -- the signing hook (helper "signing": cchc.signing.sign_pdf) -------------------------------


def _move(doc: IssuedDocument, to: str) -> IssuedDocument:
    locked = IssuedDocument.objects.select_for_update().get(pk=doc.pk)
    if to not in SIGN_TRANSITIONS[locked.signed]:
        raise Conflict(
            f"Văn bản đang ở trạng thái «{locked.get_signed_display()}», không chuyển sang "
            f"«{SignState(to).label}» được.",
            code="issued.sign_state",
        )
    return locked


def request_signature(doc: IssuedDocument, *, now: dt.datetime | None = None) -> IssuedDocument:
    """Unsigned or failed → waiting (the worker will sign it)."""
    with transaction.atomic():
        locked = _move(doc, SignState.WAITING)
        locked.signed = SignState.WAITING
        locked.next_attempt_at = None
        locked.save(update_fields=["signed", "next_attempt_at"])
        log.record(
            "dossier.document.sign_requested",
            actor=None,
            obj=locked.dossier,
            at=now or timezone.now(),
            data={"document": locked.pk},
        )
    return locked


def signing_failed(
    doc: IssuedDocument,
    reason: str,
    *,
    now: dt.datetime | None = None,
    retry_after: Callable[[int], dt.timedelta | None] | None = None,
) -> IssuedDocument:
    """Waiting → failed: the unsigned issued copy stays in force; the worker retries at
    `next_attempt_at`: now + `retry_after(attempts)` (None: stopped, no retry), at once
    when `retry_after` is not given."""
    at = now or timezone.now()
    with transaction.atomic():
        locked = _move(doc, SignState.FAILED)
        locked.signed = SignState.FAILED
        locked.sign_attempts += 1
        locked.sign_error = reason[:300]
        wait = retry_after(locked.sign_attempts) if retry_after else dt.timedelta(0)
        locked.next_attempt_at = None if wait is None else at + wait
        locked.save(update_fields=["signed", "sign_attempts", "sign_error", "next_attempt_at"])
        log.record(
            "dossier.document.sign_failed",
            actor=None,
            obj=locked.dossier,
            at=at,
            data={"document": locked.pk, "reason": reason[:300]},
        )
    return locked


def replace_with_signed(
    doc: IssuedDocument,
    signed_bytes: bytes,
    *,
    now: dt.datetime | None = None,
    subject: str = "",
    serial: str = "",
    profile: str = "",
) -> IssuedDocument:
    """Waiting → signed: `signed_bytes` (the issued PDF with its signature) become the
    issued copy; the hash of the bytes first issued stays in `unsigned_sha256`. `subject`
    ("CN, O" of the signer certificate), `serial` and `profile` say who signed."""
    stored = _store(doc.filename, signed_bytes)
    at = now or timezone.now()
    with transaction.atomic():
        locked = _move(doc, SignState.SIGNED)
        locked.unsigned_sha256 = locked.unsigned_sha256 or locked.sha256
        locked.sha256 = stored.sha256
        locked.size = stored.size
        locked.path = files.store(stored)
        locked.signed = SignState.SIGNED
        locked.signed_at = at
        locked.sign_attempts += 1
        locked.sign_error = ""
        locked.next_attempt_at = None
        locked.signed_by_subject = subject[:300]
        locked.signer_serial = serial[:80]
        locked.signing_profile = profile[:120]
        locked.save()
        log.record(
            "dossier.document.signed",
            actor=None,
            obj=locked.dossier,
            at=at,
            data={
                "document": locked.pk,
                "sha256": locked.sha256,
                "unsigned_sha256": locked.unsigned_sha256,
            },
        )
        # A signed result goes to the holder's data store, queued in this transaction and
        # delivered by the worker (issue 21 item 4).
        from cchc.dossiers import datastore_delivery  # a cycle inside one app: it uses issued

        datastore_delivery.on_signed(locked)
    return locked


# -- verification -----------------------------------------------------------------------------


def by_token(token: str) -> IssuedDocument:
    """The document a token names, with what the verification page shows, in one query.
    NotFound for an unknown or malformed token."""
    clean = normalise_token(token)
    found = None
    if len(clean) == TOKEN_LENGTH:
        found = (
            IssuedDocument.objects.select_related("dossier__procedure", "superseded_by")
            .filter(token=clean)
            .first()
        )
    if found is None:
        raise NotFound(
            "Không tìm thấy văn bản với mã tra cứu này. Kiểm tra lại mã in dưới mã QR.",
            code="issued.unknown",
        )
    return found


IDENTICAL = "identical"
EARLIER_UNSIGNED = "earlier_unsigned"
DIFFERENT = "different"


def compare(doc: IssuedDocument, data: bytes) -> str:
    """Whether `data` is byte-identical to the issued copy (`IDENTICAL`), to the copy first
    issued before it was signed (`EARLIER_UNSIGNED`), or anything else (`DIFFERENT`)."""
    digest = hashlib.sha256(data).hexdigest()
    if secrets.compare_digest(digest, doc.sha256):
        return IDENTICAL
    if doc.unsigned_sha256 and secrets.compare_digest(digest, doc.unsigned_sha256):
        return EARLIER_UNSIGNED
    return DIFFERENT
