"""Who may see a PAKN, its sender's contact data and its files, and who may act on it.

Staff see the PAKN of the agencies their `feedback.view` grant reaches; the responsible
agency's handlers (`feedback.handle`) also see the sender's name, phone and e-mail, which
everyone else on the staff side sees masked. A citizen sees their own PAKN; the public sees
only published answers, without personal data.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from cchc import privacy
from cchc.accounts import policy
from cchc.errors import NotFound, PermissionDenied
from cchc.eventlog.access import by_owner, is_owner
from cchc.feedback.models import Feedback, FeedbackFile

# action -> permission checked against the responsible agency
ACTION_RIGHTS: dict[str, str] = {
    "accept": "feedback.handle",
    "reject": "feedback.handle",
    "assign": "feedback.assign",
    "request_supplement": "feedback.handle",
    "supplement_received": "feedback.handle",
    "answer": "feedback.handle",
    "publish": "feedback.handle",
}
# Actions of the sender on their own PAKN.
SENDER_ACTIONS = frozenset({"rate", "withdraw"})


def is_sender(user: Any, feedback: Feedback) -> bool:
    return is_owner(user, feedback.citizen_id)


def may(user: Any, feedback: Feedback, action: str) -> bool:
    if action in SENDER_ACTIONS:
        return is_sender(user, feedback)
    if action == "supplement_received" and is_sender(user, feedback):
        return True  # the signed-in sender sends the information asked for
    permission = ACTION_RIGHTS.get(action)
    return permission is not None and policy.can(user, permission, agency=feedback.agency_id)


def require(user: Any, feedback: Feedback, action: str) -> None:
    if not may(user, feedback, action):
        raise PermissionDenied(
            f"Bạn không có quyền thực hiện thao tác này với phản ánh {feedback.code} "
            "(phản ánh thuộc cơ quan khác hoặc ngoài vai trò của bạn).",
            code="feedback.forbidden",
        )


def visible(user: Any, qs: QuerySet[Feedback] | None = None) -> QuerySet[Feedback]:
    """The PAKN `user` may see as staff (nothing for users without `feedback.view`)."""
    qs = Feedback.objects.all() if qs is None else qs
    reach = policy.grant(user, "feedback.view")
    if reach.everything:
        return qs
    if reach.agency_ids:
        return qs.filter(agency_id__in=list(reach.agency_ids))
    return qs.none()


def mine(user: Any) -> QuerySet[Feedback]:
    if getattr(user, "pk", None) is None or not getattr(user, "is_authenticated", False):
        return Feedback.objects.none()
    return Feedback.objects.filter(citizen=user)


def can_view(user: Any, feedback: Feedback) -> bool:
    return is_sender(user, feedback) or policy.grant(user, "feedback.view").covers(
        feedback.agency_id
    )


def get_visible(user: Any, code: str) -> Feedback:
    """The PAKN with `code` if `user` may see it; NotFound otherwise (not revealing
    whether it exists)."""
    feedback = (
        Feedback.objects.select_related("agency", "assignee", "dossier").filter(code=code).first()
    )
    if feedback is None or not can_view(user, feedback):
        raise NotFound(f"Không tìm thấy phản ánh {code}.", code="feedback.not_found")
    return feedback


def sees_personal_data(user: Any, feedback: Feedback) -> bool:
    if is_sender(user, feedback):
        return True
    return policy.grant(user, "feedback.handle").covers(feedback.agency_id)


def readable_file(user: Any, feedback: Feedback, file_id: int) -> FeedbackFile:
    stored = feedback.files.filter(pk=file_id).first()
    if stored is None:
        raise NotFound(f"Phản ánh {feedback.code} không có tệp số {file_id}.")
    if not sees_personal_data(user, feedback):
        raise PermissionDenied(
            "Tệp đính kèm có thể chứa dữ liệu cá nhân: chỉ cơ quan xử lý và người gửi được tải.",
            code="file.forbidden",
        )
    return stored


def actor_label_for(user: Any, feedback: Feedback, event: Any) -> str:
    """Who took `event`, as `user` may see it: the signed-in sender acting on their own PAKN
    is named by the name rule; officers are named as recorded."""
    label: str = event.actor_label
    if not by_owner(event, feedback.citizen_id):
        return label
    return privacy.shown(privacy.Field.NAME, label, full=sees_personal_data(user, feedback))


def contact(user: Any, feedback: Feedback) -> dict[str, Any]:
    """The sender's contact data as `user` may see it (masking rules: `cchc.privacy`)."""
    seen = privacy.Person.seen(
        full=sees_personal_data(user, feedback),
        name=feedback.name,
        phone=feedback.phone,
        email=feedback.email,
    )
    return {
        "name": seen.name,
        "phone": seen.phone,
        "email": seen.email,
        "masked": seen.masked,
        "anonymous": feedback.citizen_id is None,
    }
