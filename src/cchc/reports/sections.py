"""The sections of the periodic report, one function each, all written from one set of
figures (`Figures`) computed at the report instant:

- the opening (basis, data window, notes);
- I. the plan's targets (Bảng 1, Biểu đồ 1);
- II. tasks by content area: 1. steering (with Bảng 2), then one sub-section per area with
  its targets (Biểu đồ 2 with the first per-level breakdown);
- III. the 766 index (Bảng 3, Biểu đồ 3);
- IV. the overall assessment.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from cchc import legaltime
from cchc.indicators import services
from cchc.indicators.definitions import Indicator
from cchc.indicators.periods import Period, previous
from cchc.indicators.score766 import Index766
from cchc.indicators.services import Result
from cchc.org.models import UnitLevel
from cchc.plans.models import Task
from cchc.plans.status import TaskStatus
from cchc.reports import charts, wording
from cchc.reports.document import NO_DATA, Chart, Section
from cchc.reports.issuer import Scope
from cchc.reports.plan_tasks import PlanInfo, TaskLine, due_tasks, plan_for, scoped_tasks
from cchc.reports.sentences import (
    count,
    external_sentence,
    level_sentence,
    target_sentence,
    task_counts_sentence,
    verdict,
)
from cchc.reports.tables import due_table, index_tables, late_table, targets_table
from cchc.reports.wording import lower_first, number, percent

VN = legaltime.VN_TZ
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
# Content area of the targets the plan file leaves without one (T1 tasks, T11 indices).
STEERING = "Công tác chỉ đạo, điều hành"


@dataclass(frozen=True)
class Figures:
    """Everything the sections are written from, computed once at `as_of`."""

    scope: Scope
    period: Period
    info: PlanInfo
    results: list[Result]
    idx: Index766
    lines: list[TaskLine]  # deliverables due in the period (what T1 counts)
    tasks: list[Task]  # the plan's tasks led by the issuer
    before: Period
    level_names: dict[str, str]
    as_of: dt.datetime
    areas: list[tuple[str, str]]  # (code, name) of the plan's content areas, in order
    area_of: dict[str, str]  # target code → content area code

    @property
    def indicators(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.info.definition.indicators}

    @property
    def phrase(self) -> str:
        return wording.period_phrase(self.period)

    def results_by_area(self) -> dict[str, list[Result]]:
        """Targets by the content area the plan file gives them ("" for steering)."""
        by_area: dict[str, list[Result]] = {}
        for r in self.results:
            by_area.setdefault(self.area_of.get(r.code, ""), []).append(r)
        return by_area


def gather(scope: Scope, period: Period, *, now: dt.datetime) -> Figures:
    """The figures of the report for `scope` and `period` as they stand at `now`.
    NotFound when no plan applies to the period."""
    info = plan_for(period)
    areas: list[tuple[str, str]] = []
    area_of: dict[str, str] = {}
    if info.plan is not None:
        areas = [(a.code, a.name) for a in info.plan.areas.order_by("position", "id")]
        area_of = {
            t.code: t.area.code for t in info.plan.targets.select_related("area") if t.area_id
        }
    return Figures(
        scope=scope,
        period=period,
        info=info,
        results=services.plan_results(info.definition.code, period, scope.filters, now=now),
        idx=services.index766(period, scope.filters, now=now),
        lines=due_tasks(info, period, scope.filters, now=now),
        tasks=scoped_tasks(info, period, scope.filters, now=now),
        before=previous(period),
        level_names=dict(UnitLevel.objects.values_list("code", "name")),
        as_of=now.astimezone(VN),
        areas=areas,
        area_of=area_of,
    )


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters (with "…")."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;")
    return cut + "…"


def opening(f: Figures) -> Section:
    """The unnumbered opening: the basis, where and when the figures come from, notes."""
    info, d, issuer, as_of = f.info, f.info.definition, f.scope.issuer, f.as_of
    section = Section("", level=0)
    plan_name = f"Kế hoạch số {info.plan.number} ({info.plan.title})" if info.plan else d.name
    basis = f"Căn cứ {plan_name}, " if not info.note else ""
    section.say(
        f"{basis}{issuer.display_name} báo cáo kết quả công tác cải cách hành chính "
        f"{f.phrase} như sau:"
    )
    section.say(
        f"Số liệu được tổng hợp tự động từ hệ thống theo dõi cải cách hành chính lúc "
        f"{as_of:%H:%M} ngày {as_of:%d/%m/%Y}, kỳ báo cáo từ ngày "
        f"{wording.short_date(f.period.start)} đến ngày {wording.short_date(f.period.end)}; "
        f"định nghĩa chỉ tiêu {f.results[0].definition_version if f.results else d.code}, "
        f"Bộ chỉ số 766 {f.idx.definition_version}.",
        "note",
    )
    if info.note:
        section.say(info.note, "note")
    if f.scope.demo:
        section.say(
            "Cơ quan báo cáo thuộc bộ dữ liệu mẫu của hệ thống: báo cáo này là bản minh họa, "
            "không phải số liệu chính thức.",
            "note",
        )
    return section


def targets(f: Figures) -> Section:
    """I. The plan's targets: how many are met, Bảng 1 and Biểu đồ 1."""
    judged = Counter(verdict(r) for r in f.results)
    section = Section(f"{ROMAN[0]}. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CỦA KẾ HOẠCH")
    section.say(
        f"Kế hoạch có {len(f.results)} chỉ tiêu; trong kỳ: {judged['Đạt']} chỉ tiêu đạt, "
        f"{judged['Chưa đạt']} chỉ tiêu chưa đạt, {judged[NO_DATA]} chỉ tiêu không có dữ liệu"
        + (f", {judged['Chưa đánh giá']} chỉ tiêu chưa đánh giá" if judged["Chưa đánh giá"] else "")
        + " (chi tiết tại Bảng 1 và Biểu đồ 1)."
    )
    section.items.append(targets_table(f.results, f.level_names, f.before))
    bars = [
        charts.Bar(f"{r.code}. {shorten(r.name, 44)}", r.value, r.target)
        for r in f.results
        if r.unit == "%"
    ]
    if bars:
        section.items.append(
            Chart(
                "chi-tieu",
                "Biểu đồ 1. Kết quả thực hiện các chỉ tiêu so với kế hoạch",
                lambda: charts.target_bars(bars, title="Kết quả các chỉ tiêu so với kế hoạch (%)"),
                alt="Kết quả từng chỉ tiêu (cột) và chỉ tiêu kế hoạch (vạch đỏ)",
            )
        )
    return section


def _area_targets(section: Section, f: Figures, results: list[Result], *, chart: bool) -> bool:
    """Say each target's sentences into `section`; with `chart`, the first target broken
    down by level is followed by Biểu đồ 2. Returns whether the chart was placed."""
    placed = False
    for r in results:
        if r.comparison == "leading_group":
            section.say(external_sentence(r, f.period.end.year))
            continue
        section.say(target_sentence(r, f.indicators.get(r.code), f.before))
        if r.breakdown and any("level" in b for b in r.breakdown):
            section.say(level_sentence(r, f.level_names))
            if chart and not placed:
                placed = True
                section.items.append(_level_chart(r, f.level_names))
    return placed


def steering(f: Figures, results: list[Result]) -> Section:
    """II.1 Steering: the tasks the issuer leads, those due, the steering targets, Bảng 2."""
    scope, tasks = f.scope, f.tasks
    section = Section(f"1. {STEERING}", level=2)
    section.say(
        f"{'Kế hoạch giao' if scope.agency is None else scope.issuer.display_name + ' chủ trì'} "
        f"{len(tasks)} nhiệm vụ"
        + (
            f" ({sum(1 for t in tasks if t.illustrative)} nhiệm vụ minh họa)"
            if any(t.illustrative for t in tasks)
            else ""
        )
        + "."
    )
    section.say(task_counts_sentence(f.lines, what="của Kế hoạch", explain=True))
    for r in results:
        if r.comparison == "leading_group":
            section.say(external_sentence(r, f.period.end.year))
        else:
            section.say(target_sentence(r, f.indicators.get(r.code), f.before))
    late = late_table(f.lines)
    if late.rows:
        section.say(
            f"Có {len(late.rows)} lượt nhiệm vụ đến hạn trong kỳ chưa hoàn thành đúng hạn (Bảng 2)."
        )
    else:
        section.say("Không có nhiệm vụ đến hạn trong kỳ chưa hoàn thành đúng hạn.")
    section.items.append(late)
    return section


def _level_chart(r: Result, level_names: dict[str, str]) -> Chart:
    return Chart(
        "theo-cap",
        f"Biểu đồ 2. {r.name} ({r.code})",
        lambda: charts.level_bars(
            [
                charts.Bar(level_names.get(b["level"], b["level"]), b["value"], b["target"])
                for b in r.breakdown
                if "level" in b
            ],
            title=shorten(f"{r.code}. {r.name}", 70),
        ),
        width_cm=13.5,
        alt="Tỷ lệ theo cấp (cột xanh) và chỉ tiêu (cột đỏ)",
    )


def area(f: Figures, n: int, code: str, name: str) -> Section:
    """II.n One content area: its tasks and those not done on time (its targets are
    added by `tasks`)."""
    led = f" do {f.scope.issuer.display_name} chủ trì" if f.scope.agency is not None else ""
    section = Section(f"{n}. {name}", level=2)
    mine = [t for t in f.tasks if t.area.code == code]
    mine_due = [line for line in f.lines if line.task.area.code == code]
    if mine:
        section.say(
            f"Kế hoạch có {len(mine)} nhiệm vụ thuộc nội dung này{led}. "
            + task_counts_sentence(mine_due, what="thuộc nội dung này")
        )
    else:
        section.say(f"Kế hoạch không có nhiệm vụ thuộc nội dung này{led}.")
    late_here = [line for line in mine_due if not line.on_time]
    if late_here:
        section.say(
            "Nhiệm vụ chưa hoàn thành đúng hạn: "
            + "; ".join(
                f"{line.task.code} ({line.item.label}: {line.item.status.label.lower()})"
                for line in late_here
            )
            + "."
        )
    return section


def tasks(f: Figures) -> list[Section]:
    """II. Tasks by content area: the heading, steering, then one sub-section per area
    (the plan's areas in order; without a plan record, the areas the targets name). The
    first target broken down by level gets Biểu đồ 2, in its area."""
    by_area = f.results_by_area()
    out = [
        Section(f"{ROMAN[1]}. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH"),
        steering(f, by_area.get("", [])),
    ]
    level_chart_done = False
    listed = f.areas or [(k, k) for k in by_area if k != ""]
    for n, (code, name) in enumerate(listed, start=2):
        section = area(f, n, code, name)
        if _area_targets(section, f, by_area.get(code, []), chart=not level_chart_done):
            level_chart_done = True
        out.append(section)
    return out


def index766(f: Figures) -> Section:
    """III. The 766 index as computed here: total, each group, Bảng 3, Biểu đồ 3."""
    idx = f.idx
    section = Section(f"{ROMAN[2]}. BỘ CHỈ SỐ CHỈ ĐẠO, ĐIỀU HÀNH VÀ ĐÁNH GIÁ (QĐ 766/QĐ-TTg)")
    section.say(
        f"Tổng điểm Bộ chỉ số 766 do hệ thống tự tính từ dữ liệu trong kỳ: "
        f"{number(idx.total)}/{number(idx.max_total)} điểm của các chỉ số thành phần có dữ liệu"
        + (
            f" (quy về thang 100: {number(idx.total_100)} điểm)."
            if idx.total_100 is not None
            else "."
        )
        + " Số liệu này dùng để theo dõi, không thay thế số liệu Cổng Dịch vụ công quốc gia "
        "công bố."
    )
    for g in idx.groups:
        empty = [s.code for s in g.subs if s.points is None and not s.monitored]
        section.say(
            f"Nhóm {g.code} ({g.name}): {number(g.points)}/"
            f"{number(g.nominal_max or g.max_points)} điểm"
            + (f"; chỉ số thành phần không có dữ liệu: {', '.join(empty)}" if empty else "")
            + ".",
            "bullet",
        )
    groups, detail = index_tables(idx)
    section.items.append(groups)
    section.items.append(
        Chart(
            "chi-so-766",
            "Biểu đồ 3. Điểm Bộ chỉ số 766 theo nhóm",
            lambda: charts.points_bars(
                [
                    charts.Bar(
                        f"{g.code}. {shorten(g.name, 36)}", g.points, g.nominal_max or g.max_points
                    )
                    for g in idx.groups
                ],
                title="Điểm đạt so với điểm tối đa của nhóm",
            ),
            alt="Điểm đạt (xanh) trên điểm tối đa (xám) của từng nhóm",
        )
    )
    section.items.append(detail)
    return section


def overall(f: Figures) -> Section:
    """IV. Overall: the targets missed or without data, tasks done on time, the due list."""
    results, lines = f.results, f.lines
    section = Section(f"{ROMAN[3]}. ĐÁNH GIÁ CHUNG")
    missed = [r for r in results if r.value is not None and r.met is False]
    if missed:
        section.say(
            "Chỉ tiêu chưa đạt trong kỳ: "
            + "; ".join(
                f"{r.code} – {lower_first(r.name)} ("
                + (
                    f"{percent(r.value)}, chỉ tiêu {r.target_text}"
                    if r.unit == "%"
                    else f"{count(r.numerator)}/{count(r.target)} {r.unit}"
                )
                + ")"
                for r in missed
            )
            + "."
        )
    else:
        section.say("Không có chỉ tiêu nào có dữ liệu mà chưa đạt trong kỳ.")
    empty = [r.code for r in results if r.value is None]
    if empty:
        section.say(f"Chỉ tiêu không có dữ liệu trong kỳ: {', '.join(empty)}.")
    late_count = sum(1 for line in lines if not line.on_time)
    overdue = sum(1 for line in lines if line.item.status == TaskStatus.OVERDUE)
    section.say(
        f"Nhiệm vụ: {len(lines) - late_count}/{len(lines)} lượt nhiệm vụ đến hạn hoàn thành "
        f"đúng hạn; {overdue} lượt quá hạn chưa hoàn thành."
        if lines
        else "Trong kỳ không có nhiệm vụ của Kế hoạch đến hạn."
    )
    section.items.append(due_table(lines))
    return section


def all_sections(f: Figures) -> list[Section]:
    """The report's sections in order."""
    return [opening(f), targets(f), *tasks(f), index766(f), overall(f)]
