"""Who may see a dossier and who may take which action on it.

Desk work (receiving, recording supplements, returning results) is checked against the
receiving agency (the desk's host agency); processing and approval against the agency that
currently holds the dossier. A user sees dossiers received by, held by or within the
competence of the agencies their `dossier.view` grant reaches.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from cchc.accounts import policy
from cchc.dossiers.models import Dossier, StoredFile
from cchc.errors import NotFound, PermissionDenied

# action -> (permission, which agency of the dossier it is checked against)
ACTION_RIGHTS: dict[str, tuple[str, str]] = {
    "receive": ("dossier.receive", "receiving"),
    "refuse_intake": ("dossier.receive", "receiving"),
    "supplement_received": ("dossier.receive", "receiving"),
    "obligation_met": ("dossier.receive", "receiving"),
    "return_result": ("dossier.receive", "receiving"),
    "withdraw": ("dossier.receive", "receiving"),
    "assign": ("dossier.assign", "current"),
    "forward": ("dossier.process", "current"),
    "request_supplement": ("dossier.process", "current"),
    "request_obligation": ("dossier.process", "current"),
    "propose": ("dossier.process", "current"),
    "apologise": ("dossier.process", "current"),
    "send_back": ("dossier.approve", "current"),
    "approve": ("dossier.approve", "current"),
    "refuse": ("dossier.approve", "current"),
    "stop": ("dossier.approve", "current"),
    "recompute": ("dossier.admin", "current"),
    "request_completion": ("dossier.receive", "receiving"),
    # Cash taken at the desk; online payments and refunds of them come from the gateway
    # (the system actor, below).
    # (`cchc.accounts.policy.SYSTEM`, which may do everything).
    "pay": ("dossier.receive", "receiving"),
    "refund": ("dossier.receive", "receiving"),
    "complaint": ("dossier.admin", "current"),
}

# Actions the applicant (the citizen who submitted the dossier online) takes on their own
# dossier.
APPLICANT_ACTIONS = frozenset({"resubmit", "citizen_upload", "rate", "withdraw"})


def is_applicant(user: Any, dossier: Dossier) -> bool:
    return (
        dossier.applicant_user_id is not None
        and getattr(user, "pk", None) is not None
        and dossier.applicant_user_id == user.pk
    )


def agency_for(dossier: Dossier, which: str) -> int:
    return dossier.receiving_agency_id if which == "receiving" else dossier.current_agency_id


def may(user: Any, dossier: Dossier, action: str) -> bool:
    if action in APPLICANT_ACTIONS and is_applicant(user, dossier):
        return True
    if action in ("resubmit", "citizen_upload", "rate"):
        return False
    if action in ("attach", "note"):
        return any(may(user, dossier, a) for a in ("receive", "forward"))
    permission, which = ACTION_RIGHTS[action]
    return policy.can(user, permission, agency=agency_for(dossier, which))


def require(user: Any, dossier: Dossier, action: str) -> None:
    if not may(user, dossier, action):
        raise PermissionDenied(
            f"Bạn không có quyền thực hiện thao tác này với hồ sơ {dossier.code} "
            "(hồ sơ thuộc cơ quan khác hoặc ngoài vai trò của bạn).",
            code="dossier.forbidden",
        )


def visible(user: Any, qs: QuerySet[Dossier] | None = None) -> QuerySet[Dossier]:
    """Dossiers `user` may see (staff); citizens see their own."""
    qs = Dossier.objects.all() if qs is None else qs
    reach = policy.grant(user, "dossier.view")
    if reach.everything:
        return qs
    if reach.agency_ids:
        ids = list(reach.agency_ids)
        return qs.filter(
            Q(current_agency_id__in=ids)
            | Q(competent_agency_id__in=ids)
            | Q(receiving_agency_id__in=ids)
        )
    if getattr(user, "pk", None) is not None:
        return qs.filter(applicant_user=user)
    return qs.none()


def can_view(user: Any, dossier: Dossier) -> bool:
    reach = policy.grant(user, "dossier.view")
    if reach.everything:
        return True
    ids = (dossier.current_agency_id, dossier.competent_agency_id, dossier.receiving_agency_id)
    if any(reach.covers(i) for i in ids):
        return True
    return dossier.applicant_user_id is not None and dossier.applicant_user_id == getattr(
        user, "pk", None
    )


def get_visible(user: Any, code: str) -> Dossier:
    """The dossier with `code` if `user` may see it; NotFound otherwise (not revealing
    whether a dossier exists outside the user's reach)."""
    dossier = (
        Dossier.objects.select_related("procedure", "desk", "current_agency")
        .filter(code=code)
        .first()
    )
    if dossier is None or not can_view(user, dossier):
        raise NotFound(f"Không tìm thấy hồ sơ {code}.", code="dossier.not_found")
    return dossier


def sees_personal_data(user: Any, dossier: Dossier) -> bool:
    if dossier.applicant_user_id is not None and dossier.applicant_user_id == getattr(
        user, "pk", None
    ):
        return True
    reach = policy.grant(user, "dossier.personal_data")
    ids = (dossier.current_agency_id, dossier.competent_agency_id, dossier.receiving_agency_id)
    return reach.everything or any(reach.covers(i) for i in ids)


def readable_file(user: Any, dossier: Dossier, file_id: int) -> StoredFile:
    """A file of `dossier` that `user` may download. Scans of identity papers are personal
    data: only those who may see the applicant's personal data get them."""
    stored = dossier.files.filter(pk=file_id).first()
    if stored is None:
        raise NotFound(f"Hồ sơ {dossier.code} không có tệp số {file_id}.", code="file.not_found")
    if not sees_personal_data(user, dossier):
        raise PermissionDenied(
            "Bạn được xem hồ sơ nhưng không được tải tệp có dữ liệu cá nhân của người nộp.",
            code="file.forbidden",
        )
    return stored


def mask(value: str, keep: int = 3) -> str:
    """`0912345678` -> `*******678`: enough to recognise, not enough to use."""
    if not value:
        return ""
    return "*" * max(len(value) - keep, 0) + value[-keep:]
