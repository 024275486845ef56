"""What each text field of a portal form may hold, stated on the form before typing and
checked on the server: over-long text is refused with a message that keeps what was typed,
never cut silently (issue 17: a 34 000-character request had been cut to 500)."""

from __future__ import annotations

from typing import Any

from cchc.dossiers.models import Dossier
from cchc.vietnamese import nfc

APPLICANT_TEXT_FIELDS = ("name", "id_number", "address", "phone", "email")

# What each text field of the submission may hold, in characters: the columns the dossier
# keeps them in (so a limit can never drift from the database). The form shows each limit
# before typing; longer input is refused with a message, never cut silently.
_DOSSIER_COLUMNS = {
    "name": "applicant_name",
    "id_number": "applicant_id_number",
    "address": "applicant_address",
    "phone": "applicant_phone",
    "email": "applicant_email",
    "matter": "matter",
}
LIMITS: dict[str, int] = {
    key: int(Dossier._meta.get_field(column).max_length or 0)
    for key, column in _DOSSIER_COLUMNS.items()
}
FIELD_LABELS = {
    "name": "Họ tên / tên tổ chức",
    "id_number": "Số định danh cá nhân / mã số thuế",
    "address": "Địa chỉ",
    "phone": "Số điện thoại",
    "email": "Thư điện tử",
    "matter": "Nội dung yêu cầu",
}
RATING_COMMENT_LIMIT = 1000
# The account's name and user name (e-mail or phone): the user table's columns.
ACCOUNT_NAME_LIMIT = 150
# A draft keeps what was typed, even over a limit, so that nothing is lost while the citizen
# shortens it; this cap only bounds the JSON column against a forged request.
DRAFT_TEXT_CAP = 50_000


def too_long(label: str, limit: int, length: int) -> str:
    """The one wording of an over-long field, shared by every portal form."""
    return (
        f"«{label}» tối đa {limit:,} ký tự; bạn đã nhập {length:,} ký tự. Hãy rút gọn "
        "(nội dung đã nhập vẫn được giữ nguyên bên dưới)."
    ).replace(",", ".")


def length_problems(data: dict[str, Any]) -> dict[str, str]:
    """Field → message for every text field of a submission longer than its column."""
    applicant = data.get("applicant") or {}
    values = {key: applicant.get(key, "") for key in APPLICANT_TEXT_FIELDS}
    values["matter"] = data.get("matter", "")
    out = {}
    for key, value in values.items():
        length = len(nfc(str(value or "")))
        if length > LIMITS[key]:
            out[key] = too_long(FIELD_LABELS[key], LIMITS[key], length)
    return out
