"""The sentences of a periodic report, each written from its figures only: a target's
result against the plan, per level, the external indices, the count of due tasks."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from cchc.indicators import definitions
from cchc.indicators.definitions import Indicator
from cchc.indicators.periods import Period
from cchc.indicators.services import Result, spoken
from cchc.plans.models import IndexName
from cchc.plans.status import STATUS_LABELS, TaskStatus
from cchc.reports.document import NO_DATA
from cchc.reports.plan_tasks import TaskLine
from cchc.reports.wording import lower_first, number, percent


def verdict(r: Result) -> str:
    if r.value is None:
        return NO_DATA
    return {True: "Đạt", False: "Chưa đạt"}.get(r.met, "Chưa đánh giá")  # type: ignore[arg-type]


def count(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return number(int(value))
    return number(value)


def target_sentence(r: Result, ind: Indicator | None, before: Period) -> str:
    """One sentence per target, from its figures only."""
    num_words = spoken(ind.numerator) if ind else "tử số"
    den_words = spoken(ind.denominator) if ind else "mẫu số"
    subject = f"Tỷ lệ {lower_first(r.name)}"
    if r.value is None:
        return (
            f"{subject}: không có dữ liệu trong kỳ (không có {den_words}), chưa đánh giá được "
            f"so với chỉ tiêu kế hoạch ({r.target_text})."
        )
    head = (
        f"{subject} là {percent(r.value)} ({count(r.numerator)} {num_words} trên "
        f"{count(r.denominator)} {den_words})"
    )
    if r.target is not None or r.breakdown:
        head += f"; chỉ tiêu kế hoạch {r.target_text}: {verdict(r).lower()}"
    head += "."
    if r.previous is None:
        tail = f" {before.label} không có dữ liệu để so sánh."
    elif r.change is None or r.change == 0:
        tail = f" So với {before.label} ({percent(r.previous)}): không thay đổi."
    else:
        way = "tăng" if r.change > 0 else "giảm"
        tail = (
            f" So với {before.label} ({percent(r.previous)}): {way} "
            f"{number(abs(r.change))} điểm phần trăm."
        )
    return head + tail


def level_sentence(r: Result, level_names: dict[str, str]) -> str:
    parts = []
    for b in r.breakdown:
        if "level" not in b:
            continue
        name = lower_first(level_names.get(b["level"], b["level"]))
        met = {True: "đạt", False: "chưa đạt"}.get(b["met"], "chưa đánh giá")
        sign = definitions.COMPARISONS.get(r.comparison, "≥")
        target = f"chỉ tiêu {sign} {count(b['target'])}%: {met}" if b["target"] is not None else met
        if b["value"] is None:
            parts.append(f"{name}: không có dữ liệu")
        else:
            parts.append(
                f"{name} {percent(b['value'])} ({count(b['numerator'])}/"
                f"{count(b['denominator'])}; {target})"
            )
    return ("Theo cấp: " + "; ".join(parts) + ".") if parts else ""


def index_name(code: str) -> str:
    """ "PAR_INDEX" → "PAR INDEX" (the short name before the dash of the register's label)."""
    label = dict(IndexName.choices).get(code, code)
    return str(label).split(" — ")[0]


def external_sentence(r: Result, year: int) -> str:
    if not r.breakdown:
        return (
            f"Chưa có kết quả chỉ số PCI, PAPI, PAR INDEX năm {year} được nhập vào hệ thống: "
            f"chưa đánh giá được chỉ tiêu “{r.target_text}”."
        )
    items = []
    for b in r.breakdown:
        text = f"{index_name(b['index'])} năm {b['year']}: {number(b['score'])} điểm"
        if b.get("rank"):
            text += f", xếp hạng {b['rank']}"
        if b.get("group"):
            text += f", nhóm “{b['group']}”"
        items.append(text)
    return (
        f"Kết quả chỉ số đã nhập ({count(r.denominator)} chỉ số): " + "; ".join(items) + ". "
        f"Số chỉ số thuộc nhóm dẫn đầu cả nước: {count(r.numerator)}/{count(r.target)}; "
        f"chỉ tiêu “{r.target_text}”: {verdict(r).lower()}."
    )


def task_counts_sentence(lines: list[TaskLine], *, what: str, explain: bool = False) -> str:
    if not lines:
        return f"Trong kỳ không có nhiệm vụ {what} đến hạn."
    counts = Counter(line.item.status for line in lines)
    parts = [
        f"{counts[s]} {STATUS_LABELS[s].lower()}"
        for s in (
            TaskStatus.DONE_ON_TIME,
            TaskStatus.DONE_LATE,
            TaskStatus.OVERDUE,
            TaskStatus.IN_PROGRESS,
            TaskStatus.NOT_DUE,
        )
        if counts[s]
    ]
    how = " (nhiệm vụ thường xuyên tính theo từng kỳ báo cáo của nhiệm vụ)" if explain else ""
    return f"Trong kỳ có {len(lines)} lượt nhiệm vụ {what} đến hạn{how}: " + ", ".join(parts) + "."
