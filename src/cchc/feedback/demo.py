"""Demo PAKN (illustrative, every one flagged `is_demo` and shown as "mẫu"): made through
the real services at past instants, for Sở Tư pháp of today's demo province — on time,
late, waiting for a supplement, overdue, refused, published and rated, one linked to a
demo dossier. Loaded once: a database with demo PAKN is left alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from cchc import legaltime
from cchc.accounts import policy
from cchc.accounts.models import User
from cchc.dossiers.models import Dossier
from cchc.dossiers.models import State as DossierState
from cchc.feedback import linking, services
from cchc.feedback.models import Feedback
from cchc.org.models import Agency

NOTE = " (Dữ liệu minh họa.)"


def _workday(day: dt.date, hour: int = 9) -> dt.datetime:
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=legaltime.VN_TZ)


def load(*, now: dt.datetime) -> int:
    if Feedback.objects.filter(is_demo=True).exists():
        return 0
    users = {
        u.username: u for u in User.objects.filter(username__in=["congdan", "thuly", "lanhdao"])
    }
    today = now.astimezone(legaltime.VN_TZ).date()
    if len(users) < 3:
        return 0
    # The demo leader's own agency (today's Sở Tư pháp), valid on the demo day.
    agency = next(
        (
            a
            for a in Agency.objects.valid_on(today).filter(
                short_name="Sở Tư pháp", agency_type__level__rank=1, is_demo=True
            )
            if policy.can(users["lanhdao"], "feedback.handle", agency=a)
        ),
        None,
    )
    if agency is None:
        return 0
    citizen, officer, leader = users["congdan"], users["thuly"], users["lanhdao"]

    def at(days_ago: int, hour: int = 9) -> dt.datetime:
        return _workday(today - dt.timedelta(days=days_ago), hour)

    def make(
        days_ago: int,
        subject: str,
        content: str,
        steps: list[tuple[int, Callable[[Feedback, dt.datetime], Any]]],
        *,
        sender: Any = None,
        name: str = "",
        phone: str = "",
        dossier: Dossier | None = None,
    ) -> Feedback:
        form = services.Submission(
            name=name or (sender.full_name if sender else "Người gửi"),
            phone=phone or (dossier.applicant_phone if dossier else "0912000111"),
            email=(sender.email if sender else ""),
            subject=subject,
            content=content + NOTE,
            # An anonymous sender chooses the agency; the code links only once proven.
            agency_id=dossier.competent_agency_id if dossier else agency.pk,
            dossier_code=dossier.code if dossier else "",
        )
        feedback = services.submit(sender, form, now=at(days_ago, 8), is_demo=True)
        for index, (offset, step) in enumerate(steps):
            moment = at(days_ago - offset, 10) + dt.timedelta(minutes=5 * index)
            if moment > now:
                break
            step(feedback, moment)
            feedback.refresh_from_db()
        return feedback

    def confirm_link(f: Feedback, t: dt.datetime) -> None:
        linking.confirm_by_officer(leader, f, now=t)

    def accept(f: Feedback, t: dt.datetime) -> None:
        services.accept(leader, f, now=t)

    def assign(f: Feedback, t: dt.datetime) -> None:
        services.assign(leader, f, assignee=officer, now=t + dt.timedelta(hours=1))

    def answer(text: str) -> Callable[[Feedback, dt.datetime], None]:
        return lambda f, t: services.answer(officer, f, text=text + NOTE, now=t) and None

    def publish(f: Feedback, t: dt.datetime) -> None:
        services.publish(leader, f, now=t)

    def rate(value: str, comment: str = "") -> Callable[[Feedback, dt.datetime], None]:
        return lambda f, t: (
            services.rate(citizen, f, satisfaction=value, comment=comment, now=t) and None
        )

    made = [
        make(
            30,
            "Thời gian chờ cấp phiếu lý lịch tư pháp",
            "Tôi nộp hồ sơ cấp phiếu lý lịch tư pháp, xin hỏi vì sao phải chờ lâu.",
            [
                (1, accept),
                (1, assign),
                (8, answer("Hồ sơ cần xác minh tại địa phương nơi cư trú trước đây.")),
                (9, publish),
                (10, rate("satisfied", "Trả lời rõ ràng.")),
            ],
            sender=citizen,
        ),
        make(
            60,
            "Cán bộ hướng dẫn chưa đầy đủ",
            "Khi nộp hồ sơ chứng thực, tôi phải đi lại nhiều lần vì hướng dẫn không đầy đủ.",
            [
                (5, accept),
                (5, assign),
                (30, answer("Sở đã nhắc nhở cán bộ và niêm yết lại hướng dẫn tại quầy.")),
                (35, publish),
                (36, rate("dissatisfied", "Trả lời chậm.")),
            ],
            sender=citizen,
        ),
        make(
            12,
            "Đề nghị niêm yết phí, lệ phí",
            "Đề nghị niêm yết rõ mức phí, lệ phí tại bộ phận một cửa.",
            [
                (1, accept),
                (
                    2,
                    lambda f, t: (
                        services.request_supplement(
                            officer, f, reason="Đề nghị cho biết quầy, ngày giờ cụ thể.", now=t
                        )
                        and None
                    ),
                ),
            ],
            name="Nguyễn Văn Bình",
            phone="0988123456",
        ),
        make(
            40,
            "Chưa nhận được kết quả đúng hẹn",
            "Đã quá ngày hẹn trả kết quả nhưng tôi chưa nhận được thông báo nào.",
            [(1, accept), (1, assign)],
            name="Trần Thị Cúc",
            phone="0977654321",
        ),
        make(
            5,
            "Phản ánh không thuộc thẩm quyền",
            "Phản ánh về việc cấp giấy phép xây dựng của gia đình hàng xóm.",
            [
                (
                    1,
                    lambda f, t: (
                        services.reject(
                            leader, f, reason="Không thuộc thẩm quyền của Sở Tư pháp.", now=t
                        )
                        and None
                    ),
                ),
            ],
            name="Lê Văn Dũng",
            phone="0966111222",
        ),
        make(
            1,
            "Đề nghị bố trí thêm chỗ ngồi chờ",
            "Khu vực chờ thường quá tải vào buổi sáng.",
            [],
            name="Phạm Thị Hà",
            phone="0955333444",
        ),
    ]
    dossier = (
        Dossier.objects.filter(is_demo=True, state=DossierState.RETURNED, has_complaint=False)
        .exclude(applicant_phone="")
        .order_by("returned_at")
        .first()
    )
    if dossier is not None and dossier.returned_at is not None:
        days = max((today - dossier.returned_at.astimezone(legaltime.VN_TZ).date()).days - 1, 1)
        made.append(
            make(
                min(days, 20),
                f"Kết quả hồ sơ {dossier.code} có sai sót",
                "Kết quả trả cho tôi ghi sai năm sinh, đề nghị đính chính.",
                [(1, confirm_link), (1, accept)],
                name=dossier.applicant_name,
                dossier=dossier,
            )
        )
    services.refresh_late(now=now)  # open PAKN past their deadline are late as of now
    return len(made)
