"""Citizen portal workflows: accounts, drafts of online submissions, submission, the
applicant's own actions on a dossier and the anonymous status look-up.

Every change checks who is acting, runs in a transaction and writes its audit entry there
(`cchc.audit.log.record`); dossier actions go through `cchc.dossiers.services.act`.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cchc.accounts import policy
from cchc.accounts import services as accounts
from cchc.accounts.models import User
from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.catalog.models import OnlineLevel, Procedure
from cchc.dossiers import access, files, intake, payloads
from cchc.dossiers import messages as dossier_messages
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import Dossier, DossierEvent, Rating, ReturnChannel
from cchc.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cchc.org.models import Agency, Desk
from cchc.portal.identity import Identity
from cchc.portal.limits import ACCOUNT_NAME_LIMIT, DRAFT_TEXT_CAP, length_problems, too_long
from cchc.portal.models import CitizenProfile, Draft, DraftFile
from cchc.portal.ratings import DISSATISFIED_REASONS, rating_details
from cchc.ratelimit import limiter
from cchc.vietnamese import nfc

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# -- accounts ---------------------------------------------------------------------------------


def is_citizen(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and policy.has_role(user, Role.CITIZEN)


def is_staff_user(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and policy.can(user, "dossier.view")


def normalise_phone(value: str) -> str:
    """'+84 912.345.678' -> '0912345678' (digits only, national form)."""
    digits = re.sub(r"\D", "", value or "")
    if digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


def normalise_id(value: str) -> str:
    return re.sub(r"\D", "", value or "")


@dataclass
class Registration:
    full_name: str
    identifier: str  # e-mail or phone number: the user name
    password: str
    id_number: str = ""
    address: str = ""


def register_citizen(reg: Registration, *, now: dt.datetime | None = None) -> User:
    """Create a citizen account (user name = the e-mail or phone number given) with the
    citizen role. Raises InvalidInput with `fields` for every problem at once."""
    at = _now(now)
    errors: dict[str, str] = {}
    name = nfc(reg.full_name).strip()
    if not name:
        errors["full_name"] = "Nhập họ và tên."
    elif len(name) > ACCOUNT_NAME_LIMIT:
        errors["full_name"] = too_long("Họ và tên", ACCOUNT_NAME_LIMIT, len(name))
    raw = reg.identifier.strip()
    overlong = len(raw) > ACCOUNT_NAME_LIMIT
    email = phone = ""
    if "@" in raw:
        if not EMAIL_RE.match(raw):
            errors["identifier"] = "Địa chỉ thư điện tử không hợp lệ."
        email = raw.lower()
        username = email
    else:
        phone = normalise_phone(raw)
        if not (phone.startswith("0") and 10 <= len(phone) <= 11):
            errors["identifier"] = (
                "Nhập thư điện tử hoặc số điện thoại di động (10 số, ví dụ 0912345678)."
            )
        username = phone
    if overlong:  # said as such, not as an invalid address
        errors["identifier"] = too_long(
            "Thư điện tử hoặc số điện thoại", ACCOUNT_NAME_LIMIT, len(raw)
        )
    id_number = normalise_id(reg.id_number)
    if reg.id_number.strip() and len(id_number) != 12:
        errors["id_number"] = "Số định danh cá nhân gồm 12 chữ số."
    if username and User.objects.filter(username__iexact=username).exists():
        errors["identifier"] = "Thư điện tử hoặc số điện thoại này đã được dùng để đăng ký."
    candidate = User(username=username, full_name=name, email=email, phone=phone)
    try:
        validate_password(reg.password, candidate)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise InvalidInput(
            "Chưa đăng ký được: " + " ".join(errors.values()),
            code="portal.registration",
            fields=errors,
        )
    with transaction.atomic():
        candidate.set_password(reg.password)
        candidate.save()
        profile = CitizenProfile.objects.create(
            user=candidate,
            id_number=id_number,
            address=nfc(reg.address).strip()[:300],
            created_at=at,
        )
        log.record(
            "portal.citizen.registered",
            actor=candidate,
            obj=candidate,
            data={"username": username, "profile": profile.pk},
            at=at,
        )
        accounts.grant_role(policy.SYSTEM, candidate, Role.CITIZEN, now=at)
    return candidate


class IdentityConflict(Conflict):
    code = "portal.identity_conflict"


def citizen_from_identity(
    identity: Identity, *, now: dt.datetime | None = None, link_to: Any = None
) -> User:
    """The citizen account of a person vouched for by a national identity provider.

    Found by the provider's subject first (a later login finds the same account even if the
    ID number's format changed). Otherwise, when the citizen started the login while signed
    in to their portal account (`link_to`: "Liên kết VNeID"), that account is linked — having
    signed in with its password proves it is theirs — unless it carries another ID number.
    Otherwise a new account is created: an account registered here with the same ID number is
    never linked on its own, because the number typed at registration is not verified and a
    person who typed someone else's would receive that person's first VNeID login. Every
    login records the assurance level and its time; all audited."""
    at = _now(now)
    for attempt in range(2):  # a concurrent first login loses the race on the unique key
        try:
            with transaction.atomic():
                return _sso_account(identity, normalise_id(identity.id_number), at, link_to)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def unlinked_accounts_with(id_number: str, *, besides: Any) -> int:
    """How many other active citizen accounts registered here carry `id_number` without a
    national identity (shown to the person after a first VNeID login, so they may sign in to
    theirs and link it)."""
    number = normalise_id(id_number)
    if not number:
        return 0
    rows = CitizenProfile.objects.filter(id_number=number, identity_subject="").exclude(
        user_id=getattr(besides, "pk", None)
    )
    return rows.filter(user__is_active=True).count()


def _sso_account(identity: Identity, id_number: str, at: dt.datetime, link_to: Any) -> User:
    profiles = CitizenProfile.objects.select_for_update().select_related("user")
    profile = profiles.filter(
        identity_provider=identity.provider, identity_subject=identity.subject
    ).first()
    how = "subject"
    if profile is None and getattr(link_to, "pk", None) is not None:
        own = profiles.filter(user_id=link_to.pk).first()
        if own is None or not is_citizen(own.user) or is_staff_user(own.user):
            raise IdentityConflict("Chỉ tài khoản công dân mới liên kết được với VNeID.")
        if own.identity_subject and own.identity_provider == identity.provider:
            raise IdentityConflict(
                "Tài khoản của bạn đã liên kết với một tài khoản định danh điện tử khác. "
                "Vui lòng liên hệ bộ phận một cửa để được hỗ trợ."
            )
        if own.id_number and id_number and own.id_number != id_number:
            raise IdentityConflict(
                "Số định danh cá nhân của tài khoản VNeID khác số đã khai trong tài khoản "
                "của bạn nên không liên kết được. Vui lòng kiểm tra lại thông tin tài khoản."
            )
        profile, how = own, "signed_in"
    if profile is None:
        user = User(
            username=f"{identity.provider}-{identity.subject}"[:150],
            full_name=nfc(identity.full_name)[:150],
            email=identity.email[:254],
            phone=normalise_phone(identity.phone)[:20],
        )
        user.set_unusable_password()
        user.save()
        profile = CitizenProfile(user=user, id_number=id_number[:20], created_at=at)
        how = "created"
        accounts.grant_role(policy.SYSTEM, user, Role.CITIZEN, now=at)
    profile.identity_provider = identity.provider
    profile.identity_subject = identity.subject
    profile.identity_level = identity.level
    profile.last_sso_at = at
    # The national identity is authoritative for the number (the one typed is not verified).
    profile.id_number = id_number[:20] or profile.id_number
    profile.save()
    log.record(
        "portal.citizen.sso_login" if how == "subject" else "portal.citizen.identity_linked",
        actor=profile.user,
        obj=profile.user,
        data={"provider": identity.provider, "level": identity.level, "by": how},
        at=at,
    )
    return profile.user


def profile_of(user: Any) -> CitizenProfile | None:
    return CitizenProfile.objects.filter(user_id=getattr(user, "pk", None)).first()


def prefill(user: Any) -> dict[str, str]:
    """Applicant fields prefilled from the account."""
    profile = profile_of(user)
    return {
        "kind": "person",
        "name": getattr(user, "full_name", "") or "",
        "id_number": profile.id_number if profile else "",
        "address": profile.address if profile else "",
        "phone": getattr(user, "phone", "") or "",
        "email": getattr(user, "email", "") or "",
    }


# -- where to submit --------------------------------------------------------------------------


def desks_for(procedure: Procedure, day: dt.date) -> list[tuple[Desk, list[Agency]]]:
    """Desks open on `day` that receive `procedure`, with the competent agencies they
    receive it for."""
    out = []
    for desk in Desk.objects.valid_on(day).select_related("host_agency").order_by("name"):
        agencies = intake.competent_agency_for(desk, procedure, day)
        if agencies:
            out.append((desk, agencies))
    return out


def online_procedures() -> QuerySet[Procedure]:
    return Procedure.objects.filter(active=True).exclude(online_level=OnlineLevel.NONE)


# -- drafts -----------------------------------------------------------------------------------

APPLICANT_FIELDS = ("kind", "name", "id_number", "address", "phone", "email")


def _require_citizen(user: Any) -> None:
    if not is_citizen(user):
        raise PermissionDenied(
            "Chỉ tài khoản người dân, tổ chức mới nộp hồ sơ trực tuyến được.",
            code="portal.not_citizen",
        )


def own_draft(user: Any, pk: int) -> Draft:
    draft = (
        Draft.objects.select_related("procedure", "desk", "competent_agency")
        .filter(pk=pk, citizen_id=getattr(user, "pk", None))
        .first()
    )
    if draft is None:
        raise NotFound("Không tìm thấy hồ sơ nháp.", code="portal.draft_not_found")
    return draft


def draft_by_pk(user: Any, pk: int) -> Draft | None:
    """The citizen's draft `pk` whatever its state (None if it is not theirs)."""
    return (
        Draft.objects.select_related("dossier")
        .filter(pk=pk, citizen_id=getattr(user, "pk", None))
        .first()
    )


def drafts_of(user: Any) -> list[Draft]:
    return list(
        Draft.objects.filter(
            citizen_id=getattr(user, "pk", None),
            submitted_at__isnull=True,
            discarded_at__isnull=True,
        ).select_related("procedure", "desk")
    )


def draft_files(draft: Draft) -> list[DraftFile]:
    return list(draft.files.filter(removed_at__isnull=True))


def draft_file(user: Any, draft_pk: int, file_pk: int) -> DraftFile:
    draft = own_draft(user, draft_pk)
    found = draft.files.filter(pk=file_pk, removed_at__isnull=True).first()
    if found is None:
        raise NotFound("Không tìm thấy tệp.", code="portal.file_not_found")
    return found


def _clean_data(data: dict[str, Any]) -> dict[str, Any]:
    """The draft's content as typed (over-long values are kept: `submit_draft` refuses them
    with `length_problems`, the page says so, and the citizen shortens them)."""
    applicant = {
        key: nfc(str((data.get("applicant") or {}).get(key, "")))[:DRAFT_TEXT_CAP]
        for key in APPLICANT_FIELDS
    }
    return_channel = str(data.get("return_channel") or ReturnChannel.ONLINE)
    if return_channel not in ReturnChannel.values:
        return_channel = ReturnChannel.ONLINE
    return {
        "applicant": applicant,
        "matter": nfc(str(data.get("matter", "")))[:DRAFT_TEXT_CAP],
        "return_channel": return_channel,
    }


def save_draft(
    user: Any,
    *,
    procedure: Procedure,
    draft: Draft | None = None,
    desk: Desk | None = None,
    competent_agency: Agency | None = None,
    data: dict[str, Any] | None = None,
    uploads: Sequence[tuple[int | None, files.Upload]] = (),
    remove: Sequence[int] = (),
    token: str = "",
    now: dt.datetime | None = None,
) -> Draft:
    """Create or update a draft with what was typed and the files given (document id,
    checked upload). Nothing is validated beyond its shape: a draft keeps everything.

    `token` is the submission form's idempotency token: without `draft`, the citizen's draft
    carrying that token is updated if there is one (a failed submit, a double click, a
    re-posted page), so one form never makes two drafts. Raises Conflict when that draft
    was already submitted (`DraftSubmitted`, with the dossier)."""
    at = _now(now)
    _require_citizen(user)
    token = token.strip()[:64]
    if draft is None and token:
        draft = draft_by_token(user, token)
        if draft is not None and draft.dossier_id is not None:
            raise DraftSubmitted(draft)
        if draft is not None and not draft.is_open:  # discarded: this post starts afresh
            draft, token = None, ""
    if draft is not None and (draft.citizen_id != user.pk or not draft.is_open):
        raise NotFound("Không tìm thấy hồ sơ nháp.", code="portal.draft_not_found")
    if procedure.online_level == OnlineLevel.NONE or not procedure.active:
        raise InvalidInput(
            f"Thủ tục «{procedure.name}» chưa cung cấp dịch vụ công trực tuyến.",
            code="portal.not_online",
        )
    document_ids = set(procedure.documents.values_list("pk", flat=True))
    clean = _clean_data(data or {})
    with transaction.atomic():
        created = draft is None
        if draft is None:
            try:
                with transaction.atomic():  # a savepoint: the twin request may win the race
                    draft = Draft.objects.create(
                        citizen=user,
                        procedure=procedure,
                        desk=desk,
                        competent_agency=competent_agency,
                        data=clean,
                        client_token=token,
                        created_at=at,
                        updated_at=at,
                    )
            except IntegrityError:
                twin = draft_by_token(user, token)
                if twin is None:
                    raise
                if twin.dossier_id is not None or not twin.is_open:
                    raise DraftSubmitted(twin) from None
                draft, created = twin, False
        if not created:
            Draft.objects.filter(pk=draft.pk).update(
                desk=desk, competent_agency=competent_agency, data=clean, updated_at=at
            )
            draft.desk, draft.competent_agency, draft.data = desk, competent_agency, clean
        if remove:
            draft.files.filter(pk__in=list(remove), removed_at__isnull=True).update(removed_at=at)
        for document_id, upload in uploads:
            DraftFile.objects.create(
                draft=draft,
                document_id=document_id if document_id in document_ids else None,
                name=upload.name,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
                path=files.store(upload),
                uploaded_at=at,
            )
        log.record(
            "portal.draft.created" if created else "portal.draft.saved",
            actor=user,
            obj=draft,
            data={
                "procedure": procedure.code,
                "files_added": len(uploads),
                "files_removed": len(remove),
            },
            at=at,
        )
    return draft


class DraftSubmitted(Conflict):
    """The submission form was already sent and became a dossier (a double click)."""

    def __init__(self, draft: Draft) -> None:
        super().__init__(
            "Hồ sơ này đã được nộp"
            + (f" với mã {draft.dossier.code}." if draft.dossier_id else ".")
            + " Không cần nộp lại.",
            code="portal.draft_submitted",
        )
        self.draft = draft


def draft_by_token(user: Any, token: str) -> Draft | None:
    """The citizen's draft made from the submission form carrying `token`, if any."""
    if not token:
        return None
    return (
        Draft.objects.select_related("procedure", "desk", "competent_agency", "dossier")
        .filter(citizen_id=getattr(user, "pk", None), client_token=token)
        .first()
    )


def discard_draft(user: Any, draft: Draft, *, now: dt.datetime | None = None) -> None:
    at = _now(now)
    if draft.citizen_id != getattr(user, "pk", None) or not draft.is_open:
        raise NotFound("Không tìm thấy hồ sơ nháp.", code="portal.draft_not_found")
    with transaction.atomic():
        Draft.objects.filter(pk=draft.pk).update(discarded_at=at)
        log.record("portal.draft.discarded", actor=user, obj=draft, at=at)


def submit_draft(
    user: Any, draft: Draft, *, now: dt.datetime | None = None, is_demo: bool = False
) -> Dossier:
    """Turn a complete draft into an online dossier (`intake.submit_online`), waiting for
    the desk. Every problem is reported at once; the draft stays as it was."""
    at = _now(now)
    _require_citizen(user)
    if draft.citizen_id != user.pk or not draft.is_open:
        raise NotFound("Không tìm thấy hồ sơ nháp.", code="portal.draft_not_found")
    procedure = draft.procedure
    problems: list[str] = []
    fields: dict[str, str] = {}
    day = timezone.localdate(at)
    desks = dict(desks_for(procedure, day))
    if draft.desk is None or draft.desk not in desks:
        problems.append("Chọn nơi nộp hồ sơ (bộ phận một cửa tiếp nhận thủ tục này).")
        fields["desk"] = problems[-1]
    else:
        agencies = desks[draft.desk]
        if draft.competent_agency is None and len(agencies) > 1:
            problems.append("Chọn cơ quan giải quyết hồ sơ.")
            fields["competent_agency"] = problems[-1]
    stored = draft_files(draft)
    by_document: dict[int | None, list[DraftFile]] = {}
    for f in stored:
        by_document.setdefault(f.document_id, []).append(f)
    documents = list(procedure.documents.all())
    for doc in documents:
        if doc.mandatory and not by_document.get(doc.pk):
            problems.append(f"Thiếu tệp «{doc.name}» (bắt buộc).")
            fields[f"doc_{doc.pk}"] = "Giấy tờ bắt buộc: tải lên bản chụp hoặc bản điện tử."
    for key, message in length_problems(draft.data).items():
        problems.append(message)
        fields[key] = message
    values = draft.data.get("applicant", {})
    applicant = intake.Applicant(**{k: str(values.get(k, "")) for k in APPLICANT_FIELDS})
    if not applicant.kind:
        applicant.kind = "person"
    try:
        applicant = applicant.clean()
    except InvalidInput as exc:
        problems.append(exc.message)
        fields.update(exc.details.get("fields", {}))
    if not applicant.phone and not applicant.id_number:
        problems.append("Nhập số điện thoại hoặc số định danh để tra cứu và nhận thông báo.")
        fields.setdefault("phone", problems[-1])
    if problems:
        raise InvalidInput(
            "Hồ sơ chưa nộp được: " + " ".join(problems), code="portal.incomplete", fields=fields
        )
    components = []
    for doc in documents:
        uploads = [_reload(f) for f in by_document.get(doc.pk, [])]
        if not uploads:
            continue
        components.append(
            intake.Component(
                document_id=doc.pk,
                originals=doc.originals,
                copies=doc.copies,
                digitised=True,
                uploads=uploads,
            )
        )
    extra = [_reload(f) for f in by_document.get(None, [])]
    if extra:
        components.append(intake.Component(name="Tài liệu khác", digitised=True, uploads=extra))
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if not locked.is_open:
            raise Conflict("Hồ sơ nháp này đã được nộp.", code="portal.draft_submitted")
        dossier = intake.submit_online(
            user,
            desk=draft.desk,
            procedure=procedure,
            applicant=applicant,
            components=components,
            competent_agency=draft.competent_agency,
            matter=str(draft.data.get("matter", "")),
            return_channel=str(draft.data.get("return_channel") or ReturnChannel.ONLINE),
            now=at,
            is_demo=is_demo,
        )
        Draft.objects.filter(pk=draft.pk).update(submitted_at=at, dossier=dossier, updated_at=at)
        log.record(
            "portal.draft.submitted",
            actor=user,
            obj=draft,
            data={"dossier": dossier.code, "online_level": dossier.online_level},
            at=at,
        )
        dossier_messages.notify_applicant(
            dossier,
            kind="dossier.submit",
            subject=f"[{dossier.code}] Đã nộp hồ sơ trực tuyến",
            text=(
                f"Hồ sơ {dossier.code} ({procedure.name}) đã được gửi đến {draft.desk.name}. "
                "Bộ phận một cửa sẽ kiểm tra và tiếp nhận; thời hạn giải quyết được tính từ "
                "khi tiếp nhận."
            ),
            key=f"dossier:{dossier.pk}:submit",
            now=at,
        )
    return dossier


def _reload(stored: DraftFile) -> files.Upload:
    content = files.open_stored(stored.path).read_bytes()
    return files.check(stored.name, content)


# -- the applicant's dossiers -----------------------------------------------------------------


def my_dossiers(user: Any) -> QuerySet[Dossier]:
    """The citizen's own dossiers (never anyone else's, whatever else the user may be)."""
    if getattr(user, "pk", None) is None:
        return Dossier.objects.none()
    return (
        Dossier.objects.filter(applicant_user_id=user.pk)
        .select_related("procedure", "desk")
        .order_by("-submitted_at", "-id")
    )


def own_dossier(user: Any, code: str) -> Dossier:
    dossier = my_dossiers(user).filter(code=code).first()
    if dossier is None:
        raise NotFound(
            f"Không tìm thấy hồ sơ {code} trong hồ sơ của bạn.", code="dossier.not_found"
        )
    return dossier


def citizen_file(user: Any, dossier: Dossier, file_id: int) -> Any:
    """A file of the applicant's own dossier: what they sent (components, their own events)
    and the results. Officers' internal attachments are not the applicant's."""
    stored = access.readable_file(user, dossier, file_id)
    if not access.is_applicant(user, dossier):
        raise PermissionDenied("Bạn không được tải tệp này.", code="file.forbidden")
    result_files = set(dossier.results.exclude(file=None).values_list("file_id", flat=True))
    own_event = stored.event_id is not None and stored.event.actor_id == user.pk
    if stored.component_id is None and not own_event and stored.pk not in result_files:
        raise PermissionDenied("Bạn không được tải tệp này.", code="file.forbidden")
    return stored


RATINGS = dict(Rating.choices)


def citizen_act(
    user: Any,
    dossier: Dossier,
    action: str,
    *,
    reason: str = "",
    uploads: Sequence[files.Upload] = (),
    rating: str = "",
    reasons: Sequence[str] = (),
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> DossierEvent:
    """The applicant's own actions: resubmit after a completion request, send supplement
    files, withdraw, rate after return (`reasons`: codes of `DISSATISFIED_REASONS`, required
    with «Không hài lòng»; `reason` is then the comment)."""
    if action not in access.APPLICANT_ACTIONS or not access.is_applicant(user, dossier):
        raise PermissionDenied(
            "Bạn chỉ thực hiện được thao tác này với hồ sơ của chính mình.",
            code="portal.not_applicant",
        )
    data: dict[str, Any] = {}
    if action in ("resubmit", "citizen_upload") and not uploads:
        raise InvalidInput("Chọn ít nhất một tệp để gửi.", code="portal.no_files")
    if action == "rate":
        if rating not in RATINGS:
            raise InvalidInput(
                "Chọn mức đánh giá: hài lòng, bình thường hoặc không hài lòng.",
                code="portal.rating",
            )
        if dossier.rating:
            raise Conflict("Bạn đã đánh giá hồ sơ này.", code="portal.rated")
        chosen, comment, problems = rating_details(rating, reasons, reason)
        if problems:
            raise InvalidInput(" ".join(problems.values()), code="portal.rating", fields=problems)
        data = payloads.rate(rating=rating, comment=comment)
        reason = ""
        if chosen:
            data["reasons"] = chosen
            # Written out in the event's reason: what officers and supervisors read in the
            # dossier's timeline.
            reason = "Không hài lòng: " + "; ".join(DISSATISFIED_REASONS[c] for c in chosen)
            reason += f". Góp ý: {comment}" if comment else "."
        elif rating == Rating.DISSATISFIED:
            reason = f"Không hài lòng. Góp ý: {comment}"
    return dossier_services.act(
        user,
        dossier,
        action,
        reason=reason,
        data=data,
        uploads=list(uploads),
        expected_version=expected_version,
        now=now,
    )


# -- anonymous status look-up -----------------------------------------------------------------

NOT_FOUND_MESSAGE = (
    "Không tìm thấy hồ sơ khớp với mã hồ sơ và số điện thoại hoặc số định danh đã nhập. "
    "Kiểm tra lại mã trên giấy tiếp nhận hoặc thông báo đã nhận."
)


class LookupLimited(limiter.RateLimited):
    code = "portal.lookup_limited"


def _limits() -> tuple[int, dt.timedelta]:
    return (
        int(getattr(settings, "PORTAL_LOOKUP_LIMIT", 10)),
        dt.timedelta(minutes=int(getattr(settings, "PORTAL_LOOKUP_WINDOW_MINUTES", 15))),
    )


def lookup_missing(code: str, factor: str) -> dict[str, str]:
    """Field → what to type, for a look-up form sent without its code or second factor."""
    missing = {}
    if not "".join((code or "").split()):
        missing["code"] = (
            "Nhập mã hồ sơ để tra cứu (in trên giấy tiếp nhận hoặc thông báo đã nhận)."
        )
    if not re.sub(r"\D", "", factor or ""):
        missing["factor"] = (
            "Nhập số điện thoại hoặc số định danh của người nộp hồ sơ để xác nhận bạn là người nộp."
        )
    return missing


def lookup(code: str, factor: str, *, address: str, now: dt.datetime | None = None) -> Dossier:
    """The dossier with `code` if `factor` (phone or identity number, compared normalised)
    is the applicant's. Limited per address and per code (`cchc.ratelimit`, scope "track");
    every attempt counts. Unknown code and wrong factor raise the same NotFound. A form
    without its code or second factor is not an attempt: InvalidInput (`lookup_missing`),
    not counted."""
    missing = lookup_missing(code, factor)
    if missing:
        raise InvalidInput(
            " ".join(missing.values()), code="portal.lookup_incomplete", fields=missing
        )
    limit, window = _limits()
    typed = "".join(code.split())[:60]
    code = typed.upper()
    try:
        limiter.check(
            "track", address=address, target=code or "-", limit=limit, window=window, now=now
        )
    except limiter.RateLimited as exc:
        minutes = int(window.total_seconds() // 60)
        raise LookupLimited(
            f"Bạn đã tra cứu quá {limit} lần trong {minutes} phút. Vui lòng thử lại sau ít phút.",
            limit=limit,
            window=exc.window,
        ) from None
    dossier = (
        Dossier.objects.select_related("procedure", "desk", "current_agency", "competent_agency")
        .filter(code__in={typed, code})
        .first()
    )
    given = re.sub(r"\D", "", factor or "")
    if dossier is None or not given:
        raise NotFound(NOT_FOUND_MESSAGE, code="portal.lookup_failed")
    candidates = [
        normalise_phone(dossier.applicant_phone),
        normalise_id(dossier.applicant_id_number),
    ]
    phone_given = normalise_phone(factor)
    matched = any(
        c and (hmac.compare_digest(c, given) or hmac.compare_digest(c, phone_given))
        for c in candidates
    )
    if not matched:
        raise NotFound(NOT_FOUND_MESSAGE, code="portal.lookup_failed")
    return dossier


def update_profile(
    user: Any,
    *,
    phone: str | None = None,
    email: str | None = None,
    id_number: str | None = None,
    address: str | None = None,
    now: dt.datetime | None = None,
) -> CitizenProfile:
    """Change the citizen's own contact details (prefilled into submissions)."""
    at = _now(now)
    _require_citizen(user)
    with transaction.atomic():
        profile = profile_of(user) or CitizenProfile.objects.create(user=user, created_at=at)
        changes: dict[str, Any] = {}
        if phone is not None:
            changes["phone"] = normalise_phone(phone)
        if email is not None:
            changes["email"] = email.strip().lower()
        if changes:
            User.objects.filter(pk=user.pk).update(**changes)
            for key, value in changes.items():
                setattr(user, key, value)
        profile_changes: dict[str, Any] = {}
        if id_number is not None:
            profile_changes["id_number"] = normalise_id(id_number)
        if address is not None:
            profile_changes["address"] = nfc(address)[:300]
        if profile_changes:
            CitizenProfile.objects.filter(pk=profile.pk).update(**profile_changes)
            for key, value in profile_changes.items():
                setattr(profile, key, value)
        log.record(
            "portal.citizen.profile_updated",
            actor=user,
            obj=user,
            data={"fields": sorted([*changes, *profile_changes])},
            at=at,
        )
    return profile
