"""The home page's cards: per role, what is waiting and a link to the queue that lists it.

Each card is a number and the queue URL whose filters select exactly the dossiers (or PAKN)
counted. The numbers come from one aggregate per source — `dossiers.queries.counts` and
`feedback.queries.pending_counts` — so the page costs the same with 40 dossiers or a
million. Which cards a person sees follows their roles (`cchc.accounts.roles`); the counts
follow their reach (`access.visible`), as the queues do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from cchc.accounts import policy
from cchc.accounts.roles import Role
from cchc.dossiers import queries as dossier_queries
from cchc.feedback import queries as feedback_queries


@dataclass(frozen=True)
class CardSpec:
    key: str  # the count's key in its source's aggregate
    label: str
    hint: str
    params: tuple[tuple[str, str], ...]  # the queue's filters, in the URL
    tone: str = ""  # "warn" or "bad" when the number is not zero
    source: str = "dossiers"  # or "feedback"


@dataclass(frozen=True)
class Card:
    label: str
    hint: str
    count: int
    url: str
    tone: str


AGENCY = ("pham_vi", "co_quan")
MINE = ("pham_vi", "toi")

SUBMITTED = CardSpec(
    "submitted",
    "Chờ tiếp nhận",
    "Hồ sơ nộp trực tuyến chờ một cửa kiểm tra, tiếp nhận",
    (AGENCY, ("trang_thai", "submitted")),
    tone="warn",
)
TO_RETURN = CardSpec(
    "to_return",
    "Chờ trả kết quả",
    "Đã xử lý xong, chờ trả cho người nộp",
    (AGENCY, ("trang_thai", "resolved")),
    tone="warn",
)
SUPPLEMENT = CardSpec(
    "supplement",
    "Chờ bổ sung",
    "Đang chờ người nộp bổ sung hồ sơ",
    (AGENCY, ("trang_thai", "awaiting_supplement")),
)
AWAITING_APPROVAL = CardSpec(
    "awaiting_approval",
    "Chờ phê duyệt",
    "Chuyên viên đã trình, chờ lãnh đạo phê duyệt",
    (AGENCY, ("trang_thai", "awaiting_approval")),
    tone="warn",
)
MINE_OPEN = CardSpec("mine", "Của tôi", "Hồ sơ đang mở được giao cho bạn", (MINE,))
MINE_DUE_SOON = CardSpec(
    "mine_due_soon",
    "Sắp đến hạn",
    "Của tôi, còn dưới một ngày làm việc",
    (MINE, ("sap_han", "1")),
    tone="warn",
)
MINE_OVERDUE = CardSpec(
    "mine_overdue", "Quá hạn", "Của tôi, đã quá hạn giải quyết", (MINE, ("qua_han", "1")), "bad"
)
OPEN = CardSpec("open", "Đang mở", "Hồ sơ đang mở trong phạm vi của bạn", (AGENCY,))
DUE_SOON = CardSpec(
    "due_soon",
    "Sắp đến hạn",
    "Còn dưới một ngày làm việc",
    (AGENCY, ("sap_han", "1")),
    tone="warn",
)
OVERDUE = CardSpec(
    "overdue", "Quá hạn", "Đã quá hạn giải quyết", (AGENCY, ("qua_han", "1")), tone="bad"
)
RISK = CardSpec(
    "risk",
    "Nguy cơ trễ hạn",
    "Theo lượt rà soát hằng ngày",
    (AGENCY, ("nguy_co", "1")),
    tone="warn",
)
FEEDBACK = CardSpec(
    "open",
    "PAKN chờ xử lý",
    "Phản ánh, kiến nghị chưa xử lý xong",
    (("trang_thai", "open"),),
    tone="warn",
    source="feedback",
)
MY_FEEDBACK = CardSpec(
    "mine",
    "PAKN của tôi",
    "Phản ánh, kiến nghị được giao cho bạn",
    (("trang_thai", "open"), ("cua_toi", "1")),
    tone="warn",
    source="feedback",
)

# Which cards each role sees, most urgent work first.
ROLE_CARDS: dict[str, tuple[CardSpec, ...]] = {
    Role.DESK_OFFICER: (SUBMITTED, TO_RETURN, SUPPLEMENT, OVERDUE, FEEDBACK),
    Role.PROCESSING_OFFICER: (MINE_OPEN, MINE_DUE_SOON, MINE_OVERDUE, MY_FEEDBACK),
    Role.AGENCY_LEADER: (AWAITING_APPROVAL, RISK, DUE_SOON, OVERDUE, FEEDBACK),
    Role.PROVINCIAL_SUPERVISOR: (OPEN, DUE_SOON, OVERDUE, RISK, FEEDBACK),
    Role.ADMINISTRATOR: (OPEN, DUE_SOON, OVERDUE, RISK, FEEDBACK),
}

URLS = {"dossiers": "dossiers:queue", "feedback": "feedback:queue"}


def specs_for(codes: set[str]) -> list[CardSpec]:
    """The cards of every role held, in role order, each once."""
    out: list[CardSpec] = []
    for role in Role.values:
        if role in codes:
            out.extend(s for s in ROLE_CARDS.get(role, ()) if s not in out)
    return out


def home_cards(user: Any, *, now: dt.datetime) -> list[Card]:
    """The cards `user` sees, counted: at most one aggregate query per source."""
    specs = specs_for(policy.role_codes(user))
    numbers: dict[str, dict[str, int]] = {}
    if any(s.source == "dossiers" for s in specs) and policy.can(user, "dossier.view"):
        numbers["dossiers"] = dossier_queries.counts(user, now=now)
    if any(s.source == "feedback" for s in specs) and policy.can(user, "feedback.view"):
        numbers["feedback"] = feedback_queries.pending_counts(user)
    cards = []
    for spec in specs:
        if spec.source not in numbers:
            continue
        count = numbers[spec.source][spec.key]
        cards.append(
            Card(
                label=spec.label,
                hint=spec.hint,
                count=count,
                url=f"{reverse(URLS[spec.source])}?{urlencode(spec.params)}",
                tone=spec.tone if count else "",
            )
        )
    return cards
