"""The citizen's rating of a returned dossier: «Không hài lòng» asks why (issue 17), with the
common reasons supervisors act on and the citizen's own words."""

from __future__ import annotations

from collections.abc import Sequence

from cchc.dossiers.models import Rating
from cchc.portal.limits import RATING_COMMENT_LIMIT, too_long
from cchc.vietnamese import nfc

# Why a citizen is not satisfied: the common reasons first (what supervisors act on), then
# «Lý do khác», which needs the citizen's own words. Stored as codes in the rating event's
# data and written out in its reason, which the officers' timeline shows.
DISSATISFIED_REASONS: dict[str, str] = {
    "late": "Giải quyết chậm, trễ hẹn",
    "supplements": "Yêu cầu bổ sung nhiều lần hoặc không rõ ràng",
    "guidance": "Hướng dẫn khó hiểu, thiếu thông tin",
    "attitude": "Thái độ của cán bộ chưa đúng mực",
    "extra": "Phải nộp thêm giấy tờ, chi phí ngoài quy định",
    "online": "Nộp, theo dõi hồ sơ trực tuyến khó khăn",
    "result": "Kết quả có sai sót hoặc chưa đúng đề nghị",
    "other": "Lý do khác",
}


def rating_details(
    rating: str, reasons: Sequence[str], comment: str
) -> tuple[list[str], str, dict[str, str]]:
    """(reason codes, comment, field → problem) of a rating as typed: «Không hài lòng»
    needs at least one reason (and «Lý do khác» its words); the comment has a limit and is
    refused, never cut, beyond it."""
    problems: dict[str, str] = {}
    text = nfc(comment or "").strip()
    if len(text) > RATING_COMMENT_LIMIT:
        problems["comment"] = too_long("Góp ý", RATING_COMMENT_LIMIT, len(text))
    chosen = [code for code in DISSATISFIED_REASONS if code in set(reasons)]
    if rating != Rating.DISSATISFIED:
        return [], text, problems
    if not chosen and not text:
        problems["reasons"] = (
            "Bạn chọn «Không hài lòng»: hãy cho biết lý do (chọn ít nhất một lý do hoặc ghi "
            "góp ý) để cơ quan khắc phục."
        )
    elif "other" in chosen and not text:
        problems["comment"] = "Bạn chọn «Lý do khác»: hãy ghi rõ lý do vào ô góp ý."
    return chosen, text, problems
