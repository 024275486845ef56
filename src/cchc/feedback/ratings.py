"""The sender's rating of a PAKN answer: «Không hài lòng» asks why (issue 17)."""

from __future__ import annotations

from typing import Any

from cchc.errors import InvalidInput
from cchc.feedback.models import Satisfaction
from cchc.vietnamese import nfc

# Why a sender is not satisfied with an answer: the common reasons, then «Lý do khác», which
# needs their own words. «Không hài lòng» requires one of them (or a comment): the reasons
# are kept as codes in the event and written at the head of the comment the handlers and
# supervisors read on the PAKN's page.
DISSATISFIED_REASONS: dict[str, str] = {
    "late": "Trả lời chậm, quá hạn",
    "off_topic": "Trả lời chưa đúng nội dung phản ánh",
    "unresolved": "Vấn đề chưa được giải quyết",
    "unclear": "Trả lời khó hiểu, chung chung",
    "attitude": "Thái độ tiếp nhận, xử lý chưa đúng mực",
    "other": "Lý do khác",
}
RATING_COMMENT_LIMIT = 2000


def rating_data(data: dict[str, Any]) -> dict[str, Any]:
    """The rating event's data: satisfaction, reason codes (required with «Không hài lòng»)
    and the comment, refused — never cut — beyond its limit."""
    value = data.get("satisfaction")
    if value not in Satisfaction.values:
        raise InvalidInput("Chọn mức độ hài lòng.", code="feedback.satisfaction")
    comment = nfc(str(data.get("comment", ""))).strip()
    if len(comment) > RATING_COMMENT_LIMIT:
        raise InvalidInput(
            f"Ý kiến tối đa {RATING_COMMENT_LIMIT:,} ký tự; bạn đã nhập {len(comment):,} ký tự. "
            "Hãy rút gọn.".replace(",", "."),
            code="feedback.rating_comment",
            field="comment",
        )
    given = {str(r) for r in data.get("reasons") or ()}
    reasons = [code for code in DISSATISFIED_REASONS if code in given]
    if value != Satisfaction.DISSATISFIED:
        return {"satisfaction": value, "comment": comment}
    if not reasons and not comment:
        raise InvalidInput(
            "Bạn chọn «Không hài lòng»: hãy cho biết lý do (chọn ít nhất một lý do hoặc ghi ý "
            "kiến) để cơ quan khắc phục.",
            code="feedback.rating_reason",
            field="reasons",
        )
    if "other" in reasons and not comment:
        raise InvalidInput(
            "Bạn chọn «Lý do khác»: hãy ghi rõ lý do vào ô ý kiến.",
            code="feedback.rating_reason",
            field="comment",
        )
    if reasons:
        head = "Lý do: " + "; ".join(DISSATISFIED_REASONS[c] for c in reasons) + "."
        comment = f"{head} {comment}".strip()
    return {"satisfaction": value, "comment": comment, "reasons": reasons}
