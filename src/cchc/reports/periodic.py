"""The periodic reform report (báo cáo định kỳ kết quả công tác CCHC) as a `Report`.

Every figure comes from the indicator engine (`plan_results`, `index766`) and the plan
monitor (`task_states`) computed at one instant (`now`); every sentence is written from
those figures, and says so when a figure is missing. Nothing here is invented: no
achievements, no causes, no directions for the next period.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cchc import legaltime
from cchc.errors import DomainError, NotFound
from cchc.indicators import definitions, services
from cchc.indicators.definitions import DefinitionFile, Indicator
from cchc.indicators.measures import Context
from cchc.indicators.periods import Period, previous
from cchc.indicators.services import Filters, Result, spoken
from cchc.org.models import AdministrativeUnit, Agency, UnitLevel
from cchc.plans.models import Plan, Task
from cchc.plans.services import Deliverable, task_states
from cchc.plans.status import STATUS_LABELS, TaskStatus
from cchc.reports import charts, wording
from cchc.reports.document import (
    CHANGE,
    DATE,
    INT,
    NO_DATA,
    PERCENT,
    POINTS,
    TEXT,
    Cell,
    Chart,
    Column,
    Issuer,
    Report,
    Section,
    Table,
)
from cchc.reports.wording import lower_first, number, percent, upper

VN = legaltime.VN_TZ
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
# Content area of the targets the plan file leaves without one (T1 tasks, T11 indices).
STEERING = "Công tác chỉ đạo, điều hành"


@dataclass(frozen=True)
class Scope:
    """Who reports: a unit (its People's Committee) or one agency, and the indicator
    filters that select exactly their figures."""

    code: str
    unit: AdministrativeUnit
    agency: Agency | None
    filters: Filters
    issuer: Issuer

    @property
    def agency_id(self) -> int | None:
        return self.agency.pk if self.agency is not None else None

    @property
    def demo(self) -> bool:
        """The issuer is part of the demo data set (`cchc demo`)."""
        return bool(self.unit.is_demo or (self.agency is not None and self.agency.is_demo))


@dataclass(frozen=True)
class TaskLine:
    """One deliverable due in the period: the whole task, or one period of a recurring
    task (the unit T1 counts)."""

    task: Task
    item: Deliverable

    @property
    def on_time(self) -> bool:
        return self.item.status == TaskStatus.DONE_ON_TIME


# -- issuer ---------------------------------------------------------------------------------


def _valid_or_latest(qs: Any, day: dt.date) -> Any:
    return qs.valid_on(day).order_by("-valid_from").first() or qs.order_by("-valid_from").first()


def _is_committee(agency: Agency) -> bool:
    name = agency.name.lower()
    return name.startswith("ubnd ") or name.startswith("ủy ban nhân dân")


def resolve(code: str, period: Period) -> Scope:
    """The issuer with identifier `code`: an agency (mã định danh, e.g. 000.00.03.H06) or an
    administrative unit (mã ĐVHC, e.g. 24), as it was at the period's end (else the latest
    record with that code). NotFound otherwise."""
    code = (code or "").strip()
    agency = _valid_or_latest(Agency.objects.filter(code=code).select_related("unit"), period.end)
    if agency is not None:
        units = "historic" if agency.is_valid_on(period.end) else "current"
        if _is_committee(agency):
            unit = agency.unit
            return Scope(
                code,
                unit,
                None,
                Filters(unit_id=unit.pk, units=units),
                _committee_issuer(code, unit, period),
            )
        return Scope(
            code,
            agency.unit,
            agency,
            Filters(agency_id=agency.pk, units=units),
            _agency_issuer(code, agency),
        )
    unit = _valid_or_latest(
        AdministrativeUnit.objects.filter(code=code).select_related("level"), period.end
    )
    if unit is not None:
        units = "historic" if unit.is_valid_on(period.end) else "current"
        return Scope(
            code,
            unit,
            None,
            Filters(unit_id=unit.pk, units=units),
            _committee_issuer(code, unit, period),
        )
    raise NotFound(
        f"Không tìm thấy cơ quan (mã định danh) hoặc đơn vị hành chính (mã ĐVHC) có mã '{code}'.",
        code="reports.issuer",
    )


def _place(unit: AdministrativeUnit | None) -> str:
    from cchc.dossiers.documents.wording import place_name

    return place_name(unit)


def _committee_issuer(code: str, unit: AdministrativeUnit, period: Period) -> Issuer:
    committees = [
        a
        for a in Agency.objects.filter(unit=unit, parent__isnull=True).order_by("-valid_from")
        if _is_committee(a)
    ]
    committee = next((a for a in committees if a.is_valid_on(period.end)), None) or next(
        iter(committees), None
    )
    return Issuer(
        code=code,
        superior="",
        name_lines=["ỦY BAN NHÂN DÂN", upper(unit.name)],
        symbol="UBND",
        place=_place(unit),
        sign_on_behalf="TM. ỦY BAN NHÂN DÂN",
        sign_title="CHỦ TỊCH",
        signer=_signer(committee),
        display_name=f"UBND {lower_first(unit.name)}",
    )


def _signer(agency: Agency | None) -> str:
    """The head's recorded name; blank (to be written in) when unknown or when the record is
    demo data, whose names are illustrative."""
    if agency is None or agency.is_demo:
        return ""
    return agency.head_name


def _agency_issuer(code: str, agency: Agency) -> Issuer:
    unit = agency.unit
    unit_name = unit.name if unit is not None else ""
    own = wording.without_place(agency.name, unit_name)
    if agency.parent_id:
        superior = upper(agency.parent.name)
    else:
        superior = upper(f"UBND {unit_name}") if unit_name else ""
    return Issuer(
        code=code,
        superior=superior,
        name_lines=[upper(own)],
        symbol=wording.abbreviation(own),
        place=_place(unit),
        sign_on_behalf="",
        sign_title=upper(agency.head_title) if agency.head_title else "THỦ TRƯỞNG CƠ QUAN",
        signer=_signer(agency),
        display_name=agency.name,
    )


def default_recipients(scope: Scope, period: Period) -> list[str]:
    """Who receives the report under the reporting duty: a province reports to the Ministry
    of Home Affairs (BNV 581/BNV-CCHC); agencies and lower units to the province's People's
    Committee through the Department of Home Affairs, which compiles the province's report."""
    top = _top_unit(scope.unit)
    if scope.agency is None and scope.unit.level.rank == 1:
        return ["Bộ Nội vụ;", "Lưu: VT."]
    out = [f"UBND {lower_first(top.name)};"] if top is not None else []
    if scope.agency is None or "noi vu" not in _fold(scope.agency.name):
        out.append("Sở Nội vụ;")
    return [*out, "Lưu: VT."]


def _fold(text: str) -> str:
    from cchc.vietnamese import fold

    return fold(text)


def _top_unit(unit: AdministrativeUnit | None) -> AdministrativeUnit | None:
    hops = 0
    while unit is not None and unit.parent_id and hops < 10:
        unit, hops = unit.parent, hops + 1
    return unit


# -- plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInfo:
    definition: DefinitionFile
    plan: Plan | None
    note: str  # set when the period's year has no plan and an earlier one is used


def plan_for(period: Period) -> PlanInfo:
    """The plan whose targets the period is compared with: the plan of the year the period
    ends in, else (said in the report) the latest plan in force before it."""
    year = period.end.year
    plan = Plan.objects.filter(year=year).order_by("code").first()
    try:
        found = definitions.current("plan", plan.code if plan else None, on=period.end)
    except DomainError:
        raise NotFound(
            f"Chưa có kế hoạch CCHC (bộ chỉ tiêu) áp dụng cho {period.label}.",
            code="reports.plan",
        ) from None
    if plan is None:
        plan = Plan.objects.filter(code__in=[found.code, *found.aliases]).first()
    note = ""
    if found.effective_from.year != year:
        note = (
            f"Năm {year} chưa có kế hoạch CCHC trong hệ thống: các chỉ tiêu được so với "
            f"{found.name} (kế hoạch gần nhất)."
        )
    return PlanInfo(found, plan, note)


def due_tasks(info: PlanInfo, period: Period, filters: Filters, *, now: dt.datetime) -> list[Any]:
    """Deliverables due in the period up to the report instant, of the tasks whose lead
    agency the filters select — exactly those T1 counts (its denominator)."""
    ctx = Context(period, filters, now=now)
    d = info.definition
    tasks = ctx.by_agency(
        Task.objects.filter(plan__code__in=[d.code, *d.aliases]).select_related(
            "plan", "area", "lead_agency"
        ),
        "lead_agency_id",
    ).order_by("position", "id")
    last = min(period.end, (ctx.instant - dt.timedelta(microseconds=1)).date())
    lines = []
    for state in task_states(tasks, now=ctx.now):
        for item in state.deliverables:
            if period.start <= item.due <= last:
                lines.append(TaskLine(state.task, item))
    return lines


def scoped_tasks(
    info: PlanInfo, period: Period, filters: Filters, *, now: dt.datetime
) -> list[Task]:
    ctx = Context(period, filters, now=now)
    d = info.definition
    qs = Task.objects.filter(plan__code__in=[d.code, *d.aliases]).select_related("area")
    return list(ctx.by_agency(qs, "lead_agency_id").order_by("position", "id"))


# -- sentences ----------------------------------------------------------------------------------


def verdict(r: Result) -> str:
    if r.value is None:
        return NO_DATA
    return {True: "Đạt", False: "Chưa đạt"}.get(r.met, "Chưa đánh giá")  # type: ignore[arg-type]


def _count(value: Any) -> str:
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
        f"{subject} là {percent(r.value)} ({_count(r.numerator)} {num_words} trên "
        f"{_count(r.denominator)} {den_words})"
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
        target = (
            f"chỉ tiêu {sign} {_count(b['target'])}%: {met}" if b["target"] is not None else met
        )
        if b["value"] is None:
            parts.append(f"{name}: không có dữ liệu")
        else:
            parts.append(
                f"{name} {percent(b['value'])} ({_count(b['numerator'])}/"
                f"{_count(b['denominator'])}; {target})"
            )
    return ("Theo cấp: " + "; ".join(parts) + ".") if parts else ""


def index_name(code: str) -> str:
    """ "PAR_INDEX" → "PAR INDEX" (the short name before the dash of the register's label)."""
    from cchc.plans.models import IndexName

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
        f"Kết quả chỉ số đã nhập ({_count(r.denominator)} chỉ số): " + "; ".join(items) + ". "
        f"Số chỉ số thuộc nhóm dẫn đầu cả nước: {_count(r.numerator)}/{_count(r.target)}; "
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


# -- tables -------------------------------------------------------------------------------------


def targets_table(results: list[Result], level_names: dict[str, str], before: Period) -> Table:
    cols = [
        Column("Mã", TEXT, 7),
        Column("Chỉ tiêu", TEXT, 34),
        Column("Chỉ tiêu kế hoạch", TEXT, 16),
        Column("Kết quả trong kỳ", PERCENT, 14, printed=False),
        Column("Đơn vị", TEXT, 8, printed=False),
        Column("Tử số", INT, 10, printed=False),
        Column("Mẫu số", INT, 10, printed=False),
        Column("Kết quả trong kỳ (tử số/mẫu số)", TEXT, 17, in_workbook=False),
        Column(f"Kỳ trước ({before.label})", PERCENT, 13),
        Column("Thay đổi (điểm %)", CHANGE, 11),
        Column("Đánh giá", TEXT, 13),
    ]
    rows: list[list[Any]] = []
    for r in results:
        if r.unit == "%":
            value: Any = r.value
            shown = (
                NO_DATA
                if r.value is None
                else f"{percent(r.value)} ({_count(r.numerator)}/{_count(r.denominator)})"
            )
        else:
            value = Cell(r.value, INT)
            shown = (
                NO_DATA
                if r.value is None
                else f"{_count(r.numerator)}/{_count(r.denominator)} {r.unit}"
            )
        rows.append(
            [
                r.code,
                r.name,
                r.target_text,
                value,
                r.unit,
                r.numerator,
                r.denominator,
                shown,
                r.previous,
                r.change,
                verdict(r),
            ]
        )
        for b in r.breakdown:
            if "level" in b:
                level = level_names.get(b["level"], b["level"])
                met = {True: "Đạt", False: "Chưa đạt"}.get(b["met"], "Chưa đánh giá")
                rows.append(
                    [
                        "",
                        f"– {level}",
                        f"{definitions.COMPARISONS.get(r.comparison, '≥')} {_count(b['target'])}%"
                        if b["target"] is not None
                        else "",
                        b["value"],
                        "%",
                        b["numerator"],
                        b["denominator"],
                        NO_DATA
                        if b["value"] is None
                        else f"{percent(b['value'])} ({_count(b['numerator'])}/"
                        f"{_count(b['denominator'])})",
                        None,
                        None,
                        NO_DATA if b["value"] is None else met,
                    ]
                )
            elif "index" in b:
                rows.append(
                    [
                        "",
                        f"– {index_name(b['index'])} năm {b['year']}"
                        + (f" (xếp hạng {b['rank']})" if b.get("rank") else ""),
                        "",
                        Cell(b["score"], POINTS),
                        "điểm",
                        None,
                        None,
                        f"{number(b['score'])} điểm",
                        None,
                        None,
                        "",
                    ]
                )
    return Table(
        key="Chỉ tiêu",
        title="Bảng 1. Kết quả thực hiện các chỉ tiêu của Kế hoạch",
        columns=cols,
        rows=rows,
        note=(
            "“Không có dữ liệu”: mẫu số bằng 0 trong kỳ, không tính là 0% hay 100%. "
            "Thay đổi tính bằng điểm phần trăm so với kỳ trước."
        ),
    )


def late_table(lines: list[TaskLine]) -> Table:
    late = [line for line in lines if not line.on_time]
    cols = [
        Column("STT", INT, 7),
        Column("Mã nhiệm vụ", TEXT, 10, printed=False),
        Column("Nhiệm vụ", TEXT, 56),
        Column("Cơ quan chủ trì", TEXT, 30),
        Column("Thời hạn", TEXT, 16),
        Column("Hạn (ngày)", DATE, 12, printed=False),
        Column("Trạng thái", TEXT, 18),
        Column("Ngày hoàn thành", DATE, 14, printed=False),
        Column("Minh họa", TEXT, 10, printed=False),
    ]
    rows = []
    for n, line in enumerate(late, start=1):
        task = line.task
        text = f"{task.code}. {task.description}"
        if task.illustrative:
            text += " (minh họa)"
        label = line.item.label if task.deadline_kind == "recurring" else task.deadline_label
        if task.deadline_kind == "recurring":
            label = f"{label} (thường xuyên)"
        rows.append(
            [
                n,
                task.code,
                text,
                task.lead_agency.name,
                label,
                line.item.due,
                line.item.status.label,
                line.item.done_on,
                "Có" if task.illustrative else "",
            ]
        )
    return Table(
        key="Nhiệm vụ chậm, quá hạn",
        title="Bảng 2. Nhiệm vụ đến hạn trong kỳ chưa hoàn thành đúng hạn",
        columns=cols,
        rows=rows,
        note=(
            "Nhiệm vụ (với nhiệm vụ thường xuyên: kỳ báo cáo của nhiệm vụ) có hạn trong kỳ "
            "báo cáo, không hoàn thành đúng hạn; trạng thái tại thời điểm tổng hợp số liệu."
        ),
    )


def due_table(lines: list[TaskLine]) -> Table:
    cols = [
        Column("STT", INT, 6),
        Column("Mã nhiệm vụ", TEXT, 10),
        Column("Nội dung", TEXT, 30),
        Column("Nhiệm vụ", TEXT, 56),
        Column("Cơ quan chủ trì", TEXT, 30),
        Column("Thời hạn", TEXT, 16),
        Column("Hạn (ngày)", DATE, 12),
        Column("Trạng thái", TEXT, 20),
        Column("Ngày hoàn thành", DATE, 14),
        Column("Tiến độ (%)", INT, 10),
        Column("Minh họa", TEXT, 10),
    ]
    rows = [
        [
            n,
            line.task.code,
            line.task.area.name,
            line.task.description,
            line.task.lead_agency.name,
            line.item.label,
            line.item.due,
            line.item.status.label,
            line.item.done_on,
            line.item.progress,
            "Có" if line.task.illustrative else "",
        ]
        for n, line in enumerate(lines, start=1)
    ]
    return Table(
        key="Nhiệm vụ đến hạn",
        title="Nhiệm vụ đến hạn trong kỳ và trạng thái",
        columns=cols,
        rows=rows,
        printed=False,
    )


def index_tables(idx: Any) -> tuple[Table, Table]:
    groups = Table(
        key="Bộ chỉ số 766",
        title="Bảng 3. Bộ chỉ số 766 theo nhóm (hệ thống tự tính)",
        columns=[
            Column("Mã nhóm", TEXT, 8),
            Column("Tên nhóm", TEXT, 40),
            Column("Điểm đạt", POINTS, 12),
            Column("Điểm tối đa", POINTS, 12),
            Column("Điểm tối đa của chỉ số có dữ liệu", POINTS, 18),
        ],
        rows=[
            [g.code, g.name, g.points, g.nominal_max or g.max_points, g.max_points]
            for g in idx.groups
        ],
        note=(
            "Chỉ số thành phần không có dữ liệu không được tính điểm và không tính vào điểm "
            "tối đa. Số liệu tự tính không thay thế số liệu Cổng Dịch vụ công quốc gia công bố."
        ),
    )
    nominal = sum((g.nominal_max or g.max_points for g in idx.groups), Decimal(0))
    groups.rows.append(["", "Tổng cộng", idx.total, nominal, idx.max_total])
    groups.emphasis.add(len(groups.rows) - 1)
    detail_rows = []
    for g in idx.groups:
        for s in g.subs:
            rate = s.rate if s.unit == "%" else Cell(s.rate, POINTS)
            notes = []
            if s.monitored:
                notes.append("chỉ theo dõi, không tính điểm")
            if s.illustrative:
                notes.append("minh họa")
            if s.points is None and s.no_data_reason:
                notes.append(s.no_data_reason)
            detail_rows.append(
                [
                    s.code,
                    s.name,
                    g.code,
                    s.points,
                    s.max_points,
                    rate,
                    s.threshold,
                    s.numerator,
                    s.denominator,
                    s.formula,
                    s.evidence,
                    "; ".join(notes),
                ]
            )
    detail = Table(
        key="Chỉ số 766 thành phần",
        title="Bộ chỉ số 766: chỉ số thành phần",
        columns=[
            Column("Mã", TEXT, 6),
            Column("Chỉ số thành phần", TEXT, 48),
            Column("Mã nhóm", TEXT, 8),
            Column("Điểm", POINTS, 10),
            Column("Điểm tối đa", POINTS, 10),
            Column("Tỷ lệ", PERCENT, 10),
            Column("Ngưỡng đạt tối đa", PERCENT, 12),
            Column("Tử số", INT, 10),
            Column("Mẫu số", INT, 10),
            Column("Công thức (đã thay số)", TEXT, 60),
            Column("Mức kiểm chứng", TEXT, 10),
            Column("Ghi chú", TEXT, 30),
        ],
        rows=detail_rows,
        printed=False,
    )
    return groups, detail


# -- the report ---------------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters (with "…")."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;")
    return cut + "…"


def metadata_date(period: Period) -> dt.datetime:
    """The document date written into file metadata: the first instant after the period
    (the data cut-off), so the same report gives the same bytes whenever it is made."""
    return dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(0), tzinfo=VN)


def number_text(symbol: str, number_: str | None) -> str:
    """ "…/BC-UBND" with the number blank (as in drafts) unless given; a full number with a
    slash ("45/BC-SNV") is used as it is."""
    raw = (number_ or "").strip()
    if "/" in raw:
        return raw
    return f"{raw or chr(0xA0) * 6}/BC-{symbol}"


def build(
    scope: Scope,
    period: Period,
    *,
    now: dt.datetime,
    issue_date: dt.date,
    number_: str | None = None,
    recipients: list[str] | None = None,
) -> Report:
    """The report for `scope` and `period` with the figures as they stand at `now`."""
    info = plan_for(period)
    d = info.definition
    indicators = {i.code: i for i in d.indicators}
    results = services.plan_results(d.code, period, scope.filters, now=now)
    idx = services.index766(period, scope.filters, now=now)
    lines = due_tasks(info, period, scope.filters, now=now)
    tasks = scoped_tasks(info, period, scope.filters, now=now)
    before = previous(period)
    level_names = dict(UnitLevel.objects.values_list("code", "name"))
    phrase = wording.period_phrase(period)
    as_of = now.astimezone(VN)
    issuer = scope.issuer

    # Targets go to the content area the plan file gives them, else to "steering".
    area_of: dict[str, str] = {}
    areas: list[tuple[str, str]] = []
    if info.plan is not None:
        areas = [(a.code, a.name) for a in info.plan.areas.order_by("position", "id")]
        area_of = {
            t.code: t.area.code for t in info.plan.targets.select_related("area") if t.area_id
        }

    sections: list[Section] = []
    plan_name = f"Kế hoạch số {info.plan.number} ({info.plan.title})" if info.plan else d.name
    opening = Section("", level=0)
    basis = f"Căn cứ {plan_name}, " if not info.note else ""
    opening.say(
        f"{basis}{issuer.display_name} báo cáo kết quả công tác cải cách hành chính {phrase} "
        "như sau:"
    )
    opening.say(
        f"Số liệu được tổng hợp tự động từ hệ thống theo dõi cải cách hành chính lúc "
        f"{as_of:%H:%M} ngày {as_of:%d/%m/%Y}, kỳ báo cáo từ ngày "
        f"{wording.short_date(period.start)} đến ngày {wording.short_date(period.end)}; "
        f"định nghĩa chỉ tiêu {results[0].definition_version if results else d.code}, "
        f"Bộ chỉ số 766 {idx.definition_version}.",
        "note",
    )
    if info.note:
        opening.say(info.note, "note")
    if scope.demo:
        opening.say(
            "Cơ quan báo cáo thuộc bộ dữ liệu mẫu của hệ thống: báo cáo này là bản minh họa, "
            "không phải số liệu chính thức.",
            "note",
        )
    sections.append(opening)

    # I. Targets
    judged = Counter(verdict(r) for r in results)
    first = Section(f"{ROMAN[0]}. KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU CỦA KẾ HOẠCH")
    first.say(
        f"Kế hoạch có {len(results)} chỉ tiêu; trong kỳ: {judged['Đạt']} chỉ tiêu đạt, "
        f"{judged['Chưa đạt']} chỉ tiêu chưa đạt, {judged[NO_DATA]} chỉ tiêu không có dữ liệu"
        + (f", {judged['Chưa đánh giá']} chỉ tiêu chưa đánh giá" if judged["Chưa đánh giá"] else "")
        + " (chi tiết tại Bảng 1 và Biểu đồ 1)."
    )
    first.items.append(targets_table(results, level_names, before))
    bars = [
        charts.Bar(f"{r.code}. {_short(r.name, 44)}", r.value, r.target)
        for r in results
        if r.unit == "%"
    ]
    if bars:
        first.items.append(
            Chart(
                "chi-tieu",
                "Biểu đồ 1. Kết quả thực hiện các chỉ tiêu so với kế hoạch",
                charts.target_bars(bars, title="Kết quả các chỉ tiêu so với kế hoạch (%)"),
                alt="Kết quả từng chỉ tiêu (cột) và chỉ tiêu kế hoạch (vạch đỏ)",
            )
        )
    sections.append(first)

    # II. Tasks by content area, with the targets that belong to each.
    second = Section(f"{ROMAN[1]}. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH")
    sections.append(second)
    by_area: dict[str, list[Result]] = {}
    for r in results:
        by_area.setdefault(area_of.get(r.code, ""), []).append(r)
    n = 1

    steering = Section(f"{n}. {STEERING}", level=2)
    steering.say(
        f"{'Kế hoạch giao' if scope.agency is None else issuer.display_name + ' chủ trì'} "
        f"{len(tasks)} nhiệm vụ"
        + (
            f" ({sum(1 for t in tasks if t.illustrative)} nhiệm vụ minh họa)"
            if any(t.illustrative for t in tasks)
            else ""
        )
        + "."
    )
    steering.say(task_counts_sentence(lines, what="của Kế hoạch", explain=True))
    for r in by_area.pop("", []):
        if r.comparison == "leading_group":
            steering.say(external_sentence(r, period.end.year))
        else:
            steering.say(target_sentence(r, indicators.get(r.code), before))
    late = late_table(lines)
    if late.rows:
        steering.say(
            f"Có {len(late.rows)} lượt nhiệm vụ đến hạn trong kỳ chưa hoàn thành đúng hạn (Bảng 2)."
        )
    else:
        steering.say("Không có nhiệm vụ đến hạn trong kỳ chưa hoàn thành đúng hạn.")
    steering.items.append(late)
    sections.append(steering)

    level_chart_done = False
    for code, name in areas or [(k, k) for k in by_area]:
        n += 1
        sub = Section(f"{n}. {name}", level=2)
        mine = [t for t in tasks if t.area.code == code]
        mine_due = [line for line in lines if line.task.area.code == code]
        if mine:
            sub.say(
                f"Kế hoạch có {len(mine)} nhiệm vụ thuộc nội dung này"
                + (f" do {issuer.display_name} chủ trì" if scope.agency is not None else "")
                + ". "
                + task_counts_sentence(mine_due, what="thuộc nội dung này")
            )
        else:
            sub.say(
                "Kế hoạch không có nhiệm vụ thuộc nội dung này"
                + (f" do {issuer.display_name} chủ trì" if scope.agency is not None else "")
                + "."
            )
        late_here = [line for line in mine_due if not line.on_time]
        if late_here:
            sub.say(
                "Nhiệm vụ chưa hoàn thành đúng hạn: "
                + "; ".join(
                    f"{line.task.code} ({line.item.label}: {line.item.status.label.lower()})"
                    for line in late_here
                )
                + "."
            )
        for r in by_area.get(code, []):
            if r.comparison == "leading_group":
                sub.say(external_sentence(r, period.end.year))
                continue
            sub.say(target_sentence(r, indicators.get(r.code), before))
            if r.breakdown and any("level" in b for b in r.breakdown):
                sub.say(level_sentence(r, level_names))
                if not level_chart_done:
                    level_chart_done = True
                    sub.items.append(
                        Chart(
                            "theo-cap",
                            f"Biểu đồ 2. {r.name} ({r.code})",
                            charts.level_bars(
                                [
                                    charts.Bar(
                                        level_names.get(b["level"], b["level"]),
                                        b["value"],
                                        b["target"],
                                    )
                                    for b in r.breakdown
                                    if "level" in b
                                ],
                                title=_short(f"{r.code}. {r.name}", 70),
                            ),
                            width_cm=13.5,
                            alt="Tỷ lệ theo cấp (cột xanh) và chỉ tiêu (cột đỏ)",
                        )
                    )
        sections.append(sub)

    # III. The 766 index
    third = Section(f"{ROMAN[2]}. BỘ CHỈ SỐ CHỈ ĐẠO, ĐIỀU HÀNH VÀ ĐÁNH GIÁ (QĐ 766/QĐ-TTg)")
    third.say(
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
        third.say(
            f"Nhóm {g.code} ({g.name}): {number(g.points)}/"
            f"{number(g.nominal_max or g.max_points)} điểm"
            + (f"; chỉ số thành phần không có dữ liệu: {', '.join(empty)}" if empty else "")
            + ".",
            "bullet",
        )
    groups, detail = index_tables(idx)
    third.items.append(groups)
    third.items.append(
        Chart(
            "chi-so-766",
            "Biểu đồ 3. Điểm Bộ chỉ số 766 theo nhóm",
            charts.points_bars(
                [
                    charts.Bar(
                        f"{g.code}. {_short(g.name, 36)}", g.points, g.nominal_max or g.max_points
                    )
                    for g in idx.groups
                ],
                title="Điểm đạt so với điểm tối đa của nhóm",
            ),
            alt="Điểm đạt (xanh) trên điểm tối đa (xám) của từng nhóm",
        )
    )
    third.items.append(detail)
    sections.append(third)

    # IV. Overall
    fourth = Section(f"{ROMAN[3]}. ĐÁNH GIÁ CHUNG")
    missed = [r for r in results if r.value is not None and r.met is False]
    if missed:
        fourth.say(
            "Chỉ tiêu chưa đạt trong kỳ: "
            + "; ".join(
                f"{r.code} – {lower_first(r.name)} ("
                + (
                    f"{percent(r.value)}, chỉ tiêu {r.target_text}"
                    if r.unit == "%"
                    else f"{_count(r.numerator)}/{_count(r.target)} {r.unit}"
                )
                + ")"
                for r in missed
            )
            + "."
        )
    else:
        fourth.say("Không có chỉ tiêu nào có dữ liệu mà chưa đạt trong kỳ.")
    empty = [r.code for r in results if r.value is None]
    if empty:
        fourth.say(f"Chỉ tiêu không có dữ liệu trong kỳ: {', '.join(empty)}.")
    late_count = len(late.rows)
    overdue = sum(1 for line in lines if line.item.status == TaskStatus.OVERDUE)
    fourth.say(
        f"Nhiệm vụ: {len(lines) - late_count}/{len(lines)} lượt nhiệm vụ đến hạn hoàn thành "
        f"đúng hạn; {overdue} lượt quá hạn chưa hoàn thành."
        if lines
        else "Trong kỳ không có nhiệm vụ của Kế hoạch đến hạn."
    )
    fourth.items.append(due_table(lines))
    sections.append(fourth)

    return Report(
        issuer=issuer,
        number=number_text(issuer.symbol, number_),
        place_date=wording.place_and_date(issuer.place, issue_date),
        title="BÁO CÁO",
        subject=f"Kết quả công tác cải cách hành chính {phrase}",
        data_window=wording.data_window(period),
        period_code=period.code,
        sections=sections,
        recipients=list(recipients) if recipients else default_recipients(scope, period),
        metadata_date=metadata_date(period),
        as_of=as_of,
        issue_date=issue_date,
        file_stem=f"bao-cao-cchc-{wording.slug(period.code)}-{wording.slug(scope.code)}",
        summary={
            "agency_id": scope.agency_id,
            "targets": {r.code: r for r in results},
            "late": [
                (line.task.code, line.item.period, line.item.status.value)
                for line in lines
                if not line.on_time
            ],
            "index766": idx,
        },
    )
