"""Linking a PAKN to the dossier it is about, only on proof.

A `complaint` event on a dossier lowers its agency's index 766, so nobody may attach one to
someone else's dossier, and the PAKN form must not tell whether a dossier code and a phone
number belong together. A PAKN naming a dossier is therefore stored with the typed code and
the state "pending" (`DossierLink.PENDING`); the form answers the same whatever the code.
The link, and the `complaint` event, happen only when

(a) the sender is the signed-in applicant of the dossier (at submission, `services.submit`);
(b) the sender types back the one-time code sent to the dossier's registered contact — sent
    only when the phone number or e-mail address on the PAKN is that contact
    (`send_code` at submission, `confirm_code` on the receipt page);
(c) an officer handling the PAKN, who may see the dossier, confirms it (`confirm_by_officer`).

Each link is a `link_dossier` event on the PAKN (audited as `feedback.link_dossier`, with the
proof) followed by the dossier's `complaint` event, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from cchc import privacy
from cchc.accounts import policy
from cchc.accounts.policy import SYSTEM
from cchc.audit import log
from cchc.dossiers import access as dossier_access
from cchc.dossiers import payloads
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import Dossier
from cchc.errors import DomainError, InvalidInput, PermissionDenied
from cchc.feedback import services as core
from cchc.feedback.models import DossierLink, DossierLinkCode, Feedback
from cchc.notifications.models import Channel
from cchc.notifications.services import notify

CODE_MINUTES = 30
MAX_ATTEMPTS = 5
WRONG_CODE = (
    "Mã xác nhận không đúng hoặc đã hết hạn. Kiểm tra tin nhắn hoặc thư điện tử đã nhận; nếu "
    "không nhận được mã, cơ quan xử lý sẽ xác minh hồ sơ liên quan."
)


def normalise_code(value: str) -> str:
    """A dossier code as typed → as stored: no spaces, upper case, at most 60 characters."""
    return "".join((value or "").split()).upper()[:60]


def _phone(value: str) -> str:
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def _hash(challenge_key: str, code: str) -> str:
    return salted_hmac(
        "cchc.feedback.link", f"{challenge_key}|{code}", algorithm="sha256"
    ).hexdigest()


# -- (b) the one-time code --------------------------------------------------------------------


def send_code(
    feedback: Feedback, *, phone: str, email: str, now: dt.datetime
) -> DossierLinkCode | None:
    """Inside the submission's transaction: if the claimed dossier exists and the PAKN's
    phone number (or else e-mail address) is the one registered on it, send a 6-digit code
    there (SMS or e-mail, through the notifications outbox). Otherwise do nothing — the
    sender is told the same thing in both cases."""
    dossier = Dossier.objects.filter(code=feedback.dossier_claim).first()
    if dossier is None:
        return None
    if phone and _phone(phone) and _phone(phone) == _phone(dossier.applicant_phone):
        channel, address = Channel.SMS, dossier.applicant_phone
    elif email and dossier.applicant_email and email.lower() == dossier.applicant_email.lower():
        channel, address = Channel.EMAIL, dossier.applicant_email
    else:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(8)
    challenge = DossierLinkCode.objects.create(
        feedback=feedback,
        dossier=dossier,
        code_hash=f"{salt}${_hash(salt, code)}",
        channel=channel,
        sent_to=privacy.shown(privacy.contact_field(address), address, full=False)[:60],
        created_at=now,
        expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
    )
    notify(
        kind="feedback.link_code",
        subject=f"[{feedback.code}] Mã xác nhận phản ánh về hồ sơ",
        body=f"Mã xác nhận {code}: nhập mã này trên trang đã gửi phản ánh {feedback.code} để "
        f"gắn phản ánh với hồ sơ {dossier.code}. Mã dùng được trong {CODE_MINUTES} phút. Nếu "
        "bạn không gửi phản ánh này, hãy bỏ qua tin nhắn.",
        channel=channel,
        address=address,
        key=f"feedback:{feedback.pk}:link-code:{challenge.pk}",
        now=now,
    )
    log.record(
        "feedback.link_code_sent",
        actor=None,
        obj=feedback,
        agency_id=feedback.agency_id,
        at=now,
        data={"dossier": dossier.code, "channel": str(channel), "to": challenge.sent_to},
    )
    return challenge


def confirm_code(
    feedback: Feedback, code: str, *, actor: Any = None, now: dt.datetime | None = None
) -> Feedback:
    """The sender typed the code back: link the PAKN to the dossier. Raises InvalidInput
    (the same message for a wrong, expired, used-up or never-sent code) otherwise. Each try
    counts; after MAX_ATTEMPTS the code is dead."""
    at = core._now(now)
    typed = re.sub(r"\D", "", code or "")
    linked = False
    with transaction.atomic():
        locked = Feedback.objects.select_for_update().get(pk=feedback.pk)
        challenge = (
            locked.link_codes.filter(used_at=None, expires_at__gt=at, attempts__lt=MAX_ATTEMPTS)
            .select_related("dossier")
            .first()
        )
        if challenge is not None and locked.dossier_link == DossierLink.PENDING:
            salt, _, digest = challenge.code_hash.partition("$")
            matched = len(typed) == 6 and hmac.compare_digest(digest, _hash(salt, typed))
            DossierLinkCode.objects.filter(pk=challenge.pk).update(
                attempts=F("attempts") + 1, used_at=at if matched else None
            )
            if matched:
                _link(locked, challenge.dossier, actor=actor, proof="code", now=at)
                linked = True
            else:
                log.record(
                    "feedback.link_code_wrong",
                    actor=actor if getattr(actor, "pk", None) is not None else None,
                    obj=locked,
                    agency_id=locked.agency_id,
                    at=at,
                    data={"attempt": challenge.attempts + 1},
                )
    if not linked:
        raise InvalidInput(WRONG_CODE, code="feedback.link_code")
    feedback.refresh_from_db()
    return feedback


# -- (c) the officer --------------------------------------------------------------------------


def may_confirm(user: Any, feedback: Feedback) -> bool:
    return feedback.dossier_link == DossierLink.PENDING and policy.can(
        user, "feedback.handle", agency=feedback.agency_id
    )


def confirm_by_officer(
    actor: Any,
    feedback: Feedback,
    *,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Feedback:
    """An officer handling the PAKN confirms it is about the dossier the sender named (after
    checking with the sender or the dossier). The officer must be able to see the dossier."""
    at = core._now(now)
    try:
        if not policy.can(actor, "feedback.handle", agency=feedback.agency_id):
            raise PermissionDenied(
                f"Bạn không xử lý phản ánh {feedback.code} nên không xác nhận được hồ sơ liên "
                "quan.",
                code="feedback.forbidden",
            )
        with transaction.atomic():
            locked = core._lock(feedback, expected_version)
            if locked.dossier_link != DossierLink.PENDING:
                raise InvalidInput(
                    f"Phản ánh {locked.code} không có hồ sơ liên quan chờ xác nhận.",
                    code="feedback.link_state",
                )
            dossier = Dossier.objects.filter(code=locked.dossier_claim).first()
            if dossier is None or not dossier_access.can_view(actor, dossier):
                raise InvalidInput(
                    f"Không tìm thấy hồ sơ {locked.dossier_claim} trong phạm vi bạn được xem: "
                    "kiểm tra mã với người gửi, hoặc chuyển phản ánh cho cơ quan giải quyết hồ "
                    "sơ.",
                    code="feedback.link_dossier",
                )
            _link(locked, dossier, actor=actor, proof="officer", now=at)
    except DomainError as error:
        core._refused(actor, feedback, "link_dossier", error, at)
        raise
    feedback.refresh_from_db()
    return feedback


# -- the link itself --------------------------------------------------------------------------


def _link(locked: Feedback, dossier: Dossier, *, actor: Any, proof: str, now: dt.datetime) -> None:
    """In the caller's transaction, on a locked PAKN: set the dossier, append the
    `link_dossier` event (audited) and the dossier's `complaint` event."""
    Feedback.objects.filter(pk=locked.pk).update(dossier=dossier, dossier_link=DossierLink.LINKED)
    locked.dossier = dossier
    locked.dossier_link = DossierLink.LINKED
    core._append(
        locked,
        "link_dossier",
        actor=actor,
        now=now,
        data={"dossier": dossier.code, "proof": proof},
    )
    dossier_services.act(
        SYSTEM, dossier, "complaint", now=now, data=payloads.complaint(feedback=locked.code)
    )
