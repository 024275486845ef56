"""What a citizen sees of a dossier: the current step in plain Vietnamese, the appointment
and how it was computed, what is waiting on them, pauses, apologies, results, payment.
Shared by the anonymous look-up and the citizen's own dossier page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import NoReverseMatch, reverse

from cchc import legaltime
from cchc.catalog.models import OnlineLevel
from cchc.dossiers import presenters as staff
from cchc.dossiers import services
from cchc.dossiers.models import Dossier, Rating, State
from cchc.notifications.services import for_dossier
from cchc.payments.services import PAYABLE_STATES, fee_status_text, pay_link
from cchc.payments.services import owed as payments_owed
from cchc.vietnamese import money

PLAIN_STATE = {
    State.SUBMITTED: "Hồ sơ đã được gửi, đang chờ bộ phận một cửa kiểm tra và tiếp nhận.",
    State.AWAITING_COMPLETION: "Bộ phận một cửa đề nghị bạn hoàn thiện hồ sơ rồi nộp lại. Hồ sơ "
    "chưa được tiếp nhận nên chưa tính thời hạn giải quyết.",
    State.RECEIVED: "Hồ sơ đã được tiếp nhận và đang được chuyển đến cơ quan giải quyết.",
    State.IN_PROGRESS: "Cơ quan có thẩm quyền đang xem xét, giải quyết hồ sơ.",
    State.AWAITING_APPROVAL: "Hồ sơ đã được xử lý, đang chờ lãnh đạo cơ quan phê duyệt kết quả.",
    State.AWAITING_SUPPLEMENT: "Cơ quan đề nghị bạn bổ sung hồ sơ. Thời hạn giải quyết tạm "
    "dừng cho đến khi nhận đủ giấy tờ bổ sung.",
    State.AWAITING_OBLIGATION: "Hồ sơ đang chờ bạn thực hiện nghĩa vụ tài chính (thuế, phí, lệ "
    "phí). Thời hạn giải quyết tạm dừng trong thời gian này.",
    State.RESOLVED: "Đã có kết quả giải quyết. Mời bạn nhận kết quả theo hình thức đã đăng ký.",
    State.RETURNED: "Đã trả kết quả cho bạn.",
    State.REFUSED_AT_INTAKE: "Hồ sơ không được tiếp nhận.",
    State.REFUSED: "Hồ sơ bị từ chối giải quyết.",
    State.STOPPED: "Hồ sơ đã dừng xử lý.",
    State.WITHDRAWN: "Hồ sơ đã được rút theo yêu cầu.",
}

ONLINE_LEVELS = dict(OnlineLevel.choices)


def _last(events: list[Any], action: str) -> Any:
    found = [e for e in events if e.action == action]
    return found[-1] if found else None


def owed(dossier: Dossier) -> int:
    """What the applicant still has to pay (fees − paid − exempted)."""
    return int(payments_owed(dossier))


def payment_url(dossier: Dossier, *, tokened: bool = False) -> str | None:
    """The payments app's page for the dossier, when that app is installed. `tokened`: a
    signed link for the anonymous look-up (whoever passed the second factor may pay)."""
    try:
        url = reverse("payments:start", args=[dossier.code])
    except NoReverseMatch:
        return None
    if tokened:
        return str(pay_link(dossier))
    return url


def status(dossier: Dossier, *, now: dt.datetime, owner: bool = False) -> dict[str, Any]:
    """Everything the status page shows. `owner` adds reasons, files and the timeline's
    details (the anonymous look-up shows the facts of the dossier, not its documents)."""
    events = list(dossier.events.order_by("seq").prefetch_related("files"))
    projection = services.project(dossier, events)
    clock = staff.clock(dossier, projection, now)
    step = ""
    if dossier.state in (State.IN_PROGRESS, State.AWAITING_APPROVAL, State.RECEIVED):
        plan = dossier.step_plan
        if plan and dossier.step_index < len(plan):
            step = str(plan[dossier.step_index]["name"])
    waiting: list[dict[str, str]] = []
    if dossier.state == State.AWAITING_COMPLETION:
        e = _last(events, "request_completion")
        waiting.append(
            {
                "title": "Hoàn thiện hồ sơ và nộp lại",
                "text": e.reason if e else "",
                "since": e.at if e else None,
            }
        )
    if dossier.state == State.AWAITING_SUPPLEMENT:
        e = _last(events, "request_supplement")
        waiting.append(
            {
                "title": "Bổ sung hồ sơ",
                "text": e.reason if e else "",
                "since": e.at if e else None,
            }
        )
    if dossier.state == State.AWAITING_OBLIGATION:
        e = _last(events, "request_obligation")
        waiting.append(
            {
                "title": "Thực hiện nghĩa vụ tài chính",
                "text": e.reason if e else "",
                "since": e.at if e else None,
            }
        )
    unpaid = owed(dossier)
    open_ = dossier.state in PAYABLE_STATES  # returned unpaid: still to pay
    if unpaid and open_:
        waiting.append(
            {
                "title": "Nộp phí, lệ phí",
                "text": f"Còn phải nộp {money(unpaid)} (tổng {money(dossier.fee_total)}).",
                "since": None,
            }
        )
    apology = _last(events, "apologise")
    apology_info = None
    if apology is not None:
        apology_info = {
            "at": apology.at,
            "reason": apology.reason,
            "new_due": dt.datetime.fromisoformat(apology.data["new_due"])
            if apology.data.get("new_due")
            else None,
            "previous_due": dt.datetime.fromisoformat(apology.data["previous_due"])
            if apology.data.get("previous_due")
            else None,
            "signer": " ".join(
                x for x in (apology.data.get("signer_title"), apology.data.get("signer_name")) if x
            ),
        }
    payment = fee_status_text(dossier)
    timeline = [
        {
            "at": e.at,
            "label": services.ACTION_LABELS.get(e.action, e.action),
            "reason": e.reason if owner else "",
            "files": list(e.files.all())
            if owner and e.actor_id == dossier.applicant_user_id
            else [],
        }
        for e in reversed(events)
        if e.action not in ("note", "attach", "recompute")
    ]
    results = list(dossier.results.select_related("file"))
    return {
        "d": dossier,
        "plain_state": PLAIN_STATE.get(State(dossier.state), dossier.get_state_display()),
        "step": step,
        "clock": clock,
        "duration_label": legaltime.parse_duration(dossier.duration_spec).label,
        "online_level": ONLINE_LEVELS.get(dossier.online_level, ""),
        "waiting": waiting,
        "apology": apology_info,
        "results": results,
        "payment": payment,
        "unpaid": unpaid,
        "payment_url": payment_url(dossier, tokened=not owner) if unpaid and open_ else None,
        "timeline": timeline,
        "rating_label": dict(Rating.choices).get(dossier.rating, ""),
        "ratings": Rating.choices,
        "comment": _comment(events),
    }


def _comment(events: list[Any]) -> str:
    rated = _last(events, "rate")
    return str(rated.data.get("comment", "")) if rated is not None else ""


def notices(dossier: Dossier) -> list[dict[str, Any]]:
    """Notifications sent about the dossier, one entry per message with every channel it
    went through (the same text goes in-app, by e-mail and by SMS)."""
    grouped: dict[tuple[Any, str], dict[str, Any]] = {}
    for n in for_dossier(dossier.pk):
        entry = grouped.setdefault(
            (n.created_at, n.body),
            {"at": n.created_at, "body": n.body, "channels": [], "failed": False},
        )
        where = n.get_channel_display() + (f" ({n.address})" if n.address else "")
        entry["channels"].append(where)
        entry["failed"] = entry["failed"] or bool(n.error)
    return list(grouped.values())
