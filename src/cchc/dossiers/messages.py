"""Messages to the applicant about their dossier: the texts per action, and sending them on
every channel the applicant has (portal inbox, e-mail, SMS) through the notifications outbox
(the worker sends them; nothing is sent inside a request)."""

from __future__ import annotations

import datetime as dt

from cchc import legaltime
from cchc.dossiers.models import Channel, Dossier, DossierEvent
from cchc.notifications.services import notify
from cchc.vietnamese import money

# Messages to the applicant (in-app, e-mail and SMS), per action. The portal owns this
# section: `{code}` dossier code, `{procedure}` its procedure, `{due}` the current
# appointment, `{reason}` the officer's reason, `{amount}` a payment.
CITIZEN_MESSAGES = {
    "receive": "Hồ sơ {code} ({procedure}) đã được tiếp nhận. Hẹn trả kết quả: {due}.",
    "refuse_intake": "Hồ sơ {code} không được tiếp nhận. Lý do: {reason}",
    "request_completion": "Hồ sơ {code} chưa được tiếp nhận, cần hoàn thiện: {reason} "
    "Vui lòng bổ sung và nộp lại trên Cổng dịch vụ công.",
    "resubmit": "Đã nhận hồ sơ {code} nộp lại sau khi hoàn thiện; bộ phận một cửa sẽ kiểm "
    "tra và tiếp nhận.",
    "request_supplement": "Hồ sơ {code} cần bổ sung, hoàn thiện: {reason} Thời hạn giải "
    "quyết tạm dừng đến khi nhận đủ hồ sơ bổ sung.",
    "citizen_upload": "Đã nhận tệp bổ sung trực tuyến cho hồ sơ {code}; bộ phận một cửa sẽ "
    "kiểm tra.",
    "supplement_received": "Đã nhận đủ hồ sơ bổ sung của hồ sơ {code}; thời hạn giải quyết "
    "được tính tiếp. Hẹn trả kết quả: {due}.",
    "request_obligation": "Hồ sơ {code} đang chờ thực hiện nghĩa vụ tài chính: {reason}",
    "approve": "Hồ sơ {code} đã có kết quả. Mời nhận kết quả theo hình thức đã đăng ký.",
    "return_result": "Hồ sơ {code} đã được trả kết quả. Mời đánh giá mức độ hài lòng trên "
    "Cổng dịch vụ công.",
    "refuse": "Hồ sơ {code} bị từ chối giải quyết. Lý do: {reason}",
    "stop": "Hồ sơ {code} bị dừng xử lý. Lý do: {reason}",
    "withdraw": "Hồ sơ {code} đã được rút. {reason}",
    "apologise": "Cơ quan xin lỗi vì hồ sơ {code} chậm so với hẹn; hẹn trả kết quả mới: {due}.",
    "pay": "Đã nhận thanh toán {amount} cho hồ sơ {code}.",
    "refund": "Đã hoàn trả {amount} cho hồ sơ {code}. {reason}",
}

# Where a citizen follows the dossier (the portal's page for it).
CITIZEN_LINK = "/dich-vu-cong/ho-so/{code}/"


def citizen_message(dossier: Dossier, action: str, *, reason: str = "", amount: int = 0) -> str:
    """The Vietnamese text telling the applicant about `action` ("" if none)."""
    template = CITIZEN_MESSAGES.get(action)
    if template is None:
        return ""
    due = (
        dossier.due.astimezone(legaltime.VN_TZ).strftime("%H:%M ngày %d/%m/%Y")
        if dossier.due
        else ""
    )
    return " ".join(
        template.format(
            code=dossier.code,
            procedure=dossier.procedure.name,
            due=due,
            reason=reason,
            amount=money(amount),
        ).split()
    )


def notify_applicant(
    dossier: Dossier,
    *,
    kind: str,
    subject: str,
    text: str,
    key: str,
    now: dt.datetime,
    attachment: str = "",
) -> None:
    """Tell the applicant on every channel they have: the portal inbox (account), e-mail
    (with `attachment`, e.g. form 01) and SMS. Each message is recorded on the dossier."""
    link = CITIZEN_LINK.format(code=dossier.code)
    common = {"kind": kind, "subject": subject, "body": text, "link": link, "now": now}
    if dossier.applicant_user_id:
        notify(
            user=dossier.applicant_user,
            key=f"{key}:app",
            dossier_id=dossier.pk,
            **common,
        )
    if dossier.applicant_email:
        notify(
            channel="email",
            address=dossier.applicant_email,
            key=f"{key}:mail",
            dossier_id=dossier.pk,
            attachment=attachment,
            **common,
        )
    if dossier.applicant_phone:
        notify(
            channel="sms",
            address=dossier.applicant_phone,
            key=f"{key}:sms",
            dossier_id=dossier.pk,
            **common,
        )


def notify_event(dossier: Dossier, event: DossierEvent, *, label: str) -> None:
    """Tell the applicant what `event` did (`label`: the action's name, for the subject)."""
    text = citizen_message(
        dossier,
        event.action,
        reason=event.reason,
        amount=int(event.data.get("amount", 0) or 0),
    )
    if not text:
        return
    # Form 01 goes with the e-mail when the desk receives a dossier submitted at a distance
    # (in person, the desk hands it over).
    attachment = (
        "dossier-form:receipt"
        if event.action == "receive" and dossier.channel != Channel.IN_PERSON
        else ""
    )
    notify_applicant(
        dossier,
        kind=f"dossier.{event.action}",
        subject=f"[{dossier.code}] {label}",
        text=text,
        key=f"dossier:{dossier.pk}:{event.seq}",
        now=event.at,
        attachment=attachment,
    )
