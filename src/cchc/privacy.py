"""Personal data at the boundary of every output (NĐ 13/2023/NĐ-CP, bảo vệ dữ liệu cá nhân).

One rule for pages, API answers, printed forms, receipts, the register, exports, drill-downs
and notification lists: a reader allowed to see a person's data gets the values as recorded;
any other reader gets each field through the treatment `RULES` gives it. Who is allowed is
decided by each domain's `access` module (dossiers: `dossier.personal_data` over one of the
dossier's agencies, or the applicant themself; PAKN: `feedback.handle`); this module only
decides what the others see. Pure Python: no Django, no models.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

WITHHELD = "(đã ẩn — dữ liệu cá nhân)"


class Field(StrEnum):
    """Kinds of personal data an output may carry."""

    NAME = "name"  # họ tên người nộp / người gửi (also as the actor of their own events)
    ID_NUMBER = "id_number"  # số định danh cá nhân / CCCD / mã số thuế
    PHONE = "phone"
    EMAIL = "email"
    ADDRESS = "address"
    FILE = "file"  # scans of papers (identity cards…): never served, see `shown`


def mask(value: str, keep: int = 3) -> str:
    """`0912345678` -> `*******678`: enough to recognise, not enough to use."""
    if not value:
        return ""
    return "*" * max(len(value) - keep, 0) + value[-keep:]


def mask_name(value: str) -> str:
    """`Nguyễn Thị Hoà` -> `N*** T*** H***`."""
    return " ".join(word[:1] + "***" for word in value.split())


def mask_email(value: str) -> str:
    """`hoa@example.vn` -> `h***@example.vn` (the provider stays, the mailbox does not)."""
    local, at, domain = value.strip().partition("@")
    if not at:
        return mask(value)
    return f"{local[:1]}***@{domain}"


def withhold(value: str) -> str:
    """Nothing of the value, only that there is one."""
    return WITHHELD if value else ""


# field -> (what a reader without the right sees, the rule in words for the documentation)
RULES: dict[Field, tuple[Callable[[str], str], str]] = {
    Field.NAME: (mask_name, "chữ cái đầu của mỗi từ: N*** T*** H***"),
    Field.ID_NUMBER: (mask, "3 ký tự cuối: *********234"),
    Field.PHONE: (mask, "3 số cuối: *******678"),
    Field.EMAIL: (mask_email, "chữ cái đầu và tên miền: h***@example.vn"),
    Field.ADDRESS: (withhold, WITHHELD),
    Field.FILE: (withhold, "không được tải tệp"),
}


def shown(field: Field, value: str | None, *, full: bool) -> str:
    """`value` of `field` as a reader sees it: as recorded when `full`, else by `RULES`."""
    if not value:
        return ""
    if full:
        return value
    treat, _ = RULES[field]
    return treat(value)


def contact_field(address: str) -> Field:
    """The field a notification address is: an e-mail address or a phone number."""
    return Field.EMAIL if "@" in address else Field.PHONE


@dataclass(frozen=True)
class Person:
    """A person's data as one reader may see it (`masked`: some of it is hidden)."""

    name: str
    id_number: str
    address: str
    phone: str
    email: str
    masked: bool

    @classmethod
    def seen(
        cls,
        *,
        full: bool,
        name: str = "",
        id_number: str = "",
        address: str = "",
        phone: str = "",
        email: str = "",
    ) -> Person:
        return cls(
            name=shown(Field.NAME, name, full=full),
            id_number=shown(Field.ID_NUMBER, id_number, full=full),
            address=shown(Field.ADDRESS, address, full=full),
            phone=shown(Field.PHONE, phone, full=full),
            email=shown(Field.EMAIL, email, full=full),
            masked=not full,
        )

    def contact_line(self) -> str:
        """`address; ĐT: phone` (the register's column), parts that exist only."""
        parts = [self.address, f"ĐT: {self.phone}" if self.phone else ""]
        return "; ".join(p for p in parts if p)
