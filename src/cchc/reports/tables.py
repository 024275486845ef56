"""The tables of a periodic report: targets (Bảng 1), late tasks (Bảng 2), due tasks and
the 766 index (Bảng 3 and its sub-indicators)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from cchc.indicators import definitions
from cchc.indicators.periods import Period
from cchc.indicators.services import Result
from cchc.reports.document import (
    CHANGE,
    DATE,
    INT,
    NO_DATA,
    PERCENT,
    POINTS,
    TEXT,
    Cell,
    Column,
    Table,
)
from cchc.reports.plan_tasks import TaskLine
from cchc.reports.sentences import count, index_name, verdict
from cchc.reports.wording import number, percent


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
                else f"{percent(r.value)} ({count(r.numerator)}/{count(r.denominator)})"
            )
        else:
            value = Cell(r.value, INT)
            shown = (
                NO_DATA
                if r.value is None
                else f"{count(r.numerator)}/{count(r.denominator)} {r.unit}"
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
                        f"{definitions.COMPARISONS.get(r.comparison, '≥')} {count(b['target'])}%"
                        if b["target"] is not None
                        else "",
                        b["value"],
                        "%",
                        b["numerator"],
                        b["denominator"],
                        NO_DATA
                        if b["value"] is None
                        else f"{percent(b['value'])} ({count(b['numerator'])}/"
                        f"{count(b['denominator'])})",
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
