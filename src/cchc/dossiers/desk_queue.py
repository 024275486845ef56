"""What the work queue page shows around its rows (issue 17): the scope switch ("của tôi" /
"cả cơ quan"), the headline numbers of the current scope as links, and the filters in force
as chips, each with a link that clears it. Pure presentation over `queries`: no query here
except the procedure's name for its chip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from cchc.catalog.models import Procedure
from cchc.dossiers.models import State
from cchc.dossiers.queries import SCOPES, QueueFilters


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    count: int | None = None
    tone: str = ""
    current: bool = False


def _url(params: QueryDict, **changes: str | None) -> str:
    """`?…` with `changes` applied (None removes the key); the page cursor never kept."""
    q = params.copy()
    q.pop("sau", None)
    for key, value in changes.items():
        q.pop(key, None)
        if value is not None:
            q[key] = value
    text = q.urlencode()
    return f"?{text}" if text else "?"


def scope_links(params: QueryDict, filters: QueueFilters) -> list[Link]:
    """The two scopes, keeping the other filters; the current one marked."""
    return [
        Link(
            label, _url(params, pham_vi=code, cua_toi=None), current=filters.mine == (code == "toi")
        )
        for code, label in SCOPES.items()
    ]


def stat_links(
    counts: dict[str, int], filters: QueueFilters, *, can_approve: bool, can_receive: bool
) -> list[Link]:
    """The numbers of the current scope, each a link to the queue showing exactly them."""
    scope = "toi" if filters.mine else "co_quan"
    base = QueryDict(mutable=True)
    base["pham_vi"] = scope

    def link(label: str, key: str, tone: str = "", **params: str) -> Link:
        count = counts[key]
        return Link(label, _url(base, **params), count, tone if count else "")

    if filters.mine:
        return [
            link("của tôi đang mở", "mine"),
            link("sắp đến hạn", "mine_due_soon", "warn", sap_han="1"),
            link("quá hạn", "mine_overdue", "bad", qua_han="1"),
            link("nguy cơ trễ hạn", "mine_risk", "warn", nguy_co="1"),
        ]
    out = [link("đang mở", "open")]
    if can_approve:
        out.append(
            link("chờ phê duyệt", "awaiting_approval", "warn", trang_thai="awaiting_approval")
        )
    if can_receive:
        out.append(link("chờ tiếp nhận", "submitted", "warn", trang_thai="submitted"))
        out.append(link("chờ trả kết quả", "to_return", "warn", trang_thai="resolved"))
    out += [
        link("sắp đến hạn", "due_soon", "warn", sap_han="1"),
        link("quá hạn", "overdue", "bad", qua_han="1"),
        link("nguy cơ trễ hạn", "risk", "warn", nguy_co="1"),
        link("chờ bổ sung", "supplement", trang_thai="awaiting_supplement"),
    ]
    return out


def chips(params: QueryDict, filters: QueueFilters, *, default_mine: bool) -> list[Link]:
    """One chip per filter in force, its link clearing that filter only."""
    out: list[Link] = []
    if filters.mine:
        out.append(Link("Của tôi", _url(params, pham_vi="co_quan", cua_toi=None)))
    elif default_mine:
        out.append(Link("Cả cơ quan", _url(params, pham_vi="toi", cua_toi=None)))
    state = filters.state or "open"
    if state != "open":
        label = "Tất cả, kể cả đã kết thúc" if state == "all" else State(state).label
        out.append(Link(f"Trạng thái: {label}", _url(params, trang_thai=None)))
    if filters.due_soon:
        out.append(Link("Sắp đến hạn", _url(params, sap_han=None)))
    if filters.overdue:
        out.append(Link("Quá hạn", _url(params, qua_han=None)))
    if filters.risk:
        out.append(Link("Nguy cơ trễ hạn", _url(params, nguy_co=None)))
    if filters.procedure:
        name = Procedure.objects.filter(pk=filters.procedure).values_list("name", flat=True)
        label = (name.first() or f"#{filters.procedure}")[:60]
        out.append(Link(f"Thủ tục: {label}", _url(params, thu_tuc=None, buoc_ten=None)))
    if filters.step_name:
        out.append(Link(f"Bước: {filters.step_name}", _url(params, buoc_ten=None)))
    if filters.step is not None:
        out.append(Link(f"Bước số {filters.step + 1}", _url(params, buoc=None)))
    if filters.q.strip():
        out.append(Link(f"Tìm: {filters.q.strip()[:40]}", _url(params, q=None)))
    return out


def export_params(params: QueryDict, filters: QueueFilters) -> Any:
    """The list's query for the export links and the next page. When the scope came from
    the handler's default ("của tôi", not in the URL) it is written out: the exports do not
    know the default and would otherwise list the whole agency."""
    q = params.copy()
    q.pop("sau", None)
    if filters.mine and "pham_vi" not in q and "cua_toi" not in q:
        q["pham_vi"] = "toi"
    return q
