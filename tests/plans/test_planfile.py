"""The plan file: the shipped Plan 213/2024, idempotent reloads, line-precise errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cchc.accounts.policy import SYSTEM
from cchc.audit.models import AuditEntry
from cchc.errors import PermissionDenied
from cchc.plans import services
from cchc.plans.models import Plan, Target, Task
from cchc.plans.planfile import PlanFileError, parse_plan

SHIPPED = services.SHIPPED_PLAN.read_text(encoding="utf-8")


def test_shipped_plan_has_six_areas_and_the_seed_targets(plan):
    assert plan.number == "213/KH-UBND" and plan.year == 2024
    assert [a.name for a in plan.areas.all()] == [
        "Cải cách thể chế",
        "Cải cách thủ tục hành chính",
        "Cải cách tổ chức bộ máy hành chính nhà nước",
        "Cải cách chế độ công vụ",
        "Cải cách tài chính công",
        "Xây dựng và phát triển chính quyền điện tử, chính quyền số",
    ]
    targets = {t.code: t for t in plan.targets.all()}
    assert list(targets) == [f"T{i}" for i in range(1, 12)]
    t7 = targets["T7"]
    assert {k: Decimal(v) for k, v in t7.values.items()} == {
        "province": Decimal(95),
        "district": Decimal(85),
        "commune": Decimal(65),
    }
    assert t7.comparison == "gt"
    assert t7.value_text == "cấp tỉnh > 95%; cấp huyện > 85%; cấp xã > 65%"
    assert targets["T4"].values == {"all": "90"} and targets["T5"].values == {"all": "60"}
    assert targets["T8"].values == {"all": "70"} and targets["T1"].values == {"all": "100"}
    assert targets["T11"].comparison == "leading_group"
    # The seed lists no tasks: every shipped task is labelled illustrative.
    assert plan.tasks.count() >= 6 and not plan.tasks.filter(illustrative=False).exists()


def test_loading_twice_changes_nothing(plan, now):
    entries = AuditEntry.objects.count()
    result = services.load_plan(SYSTEM, services.SHIPPED_PLAN, now=now)
    assert result.outcome == "unchanged"
    assert AuditEntry.objects.count() == entries
    assert Plan.objects.count() == 1 and Task.objects.count() == plan.tasks.count()


def test_an_edited_file_updates_only_what_changed(plan, now, tmp_path):
    edited = tmp_path / "plan.toml"
    edited.write_text(
        SHIPPED.replace(
            "values = { province = 95, district = 85, commune = 65 }",
            "values = { province = 96, district = 85, commune = 65 }",
        ),
        encoding="utf-8",
    )
    result = services.load_plan(SYSTEM, edited, now=now)
    assert result.outcome == "updated"
    assert result.counts["targets"]["updated"] == 1 and result.counts["tasks"]["updated"] == 0
    assert Target.objects.get(plan=plan, code="T7").values["province"] == "96"
    assert AuditEntry.objects.filter(action="plans.plan.updated").count() == 1


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_syntax_error_names_its_line():
    broken = SHIPPED.replace('number = "213/KH-UBND"', 'number = "213/KH-UBND')
    with pytest.raises(PlanFileError) as info:
        parse_plan(broken)
    assert info.value.errors[0].line == _line_of(SHIPPED, 'number = "213/KH-UBND"')
    assert "Dòng" in info.value.message and "cú pháp" in info.value.message


def test_every_value_error_is_reported_with_its_line():
    text = (
        SHIPPED.replace('deadline = "2024-Q3"', 'deadline = "2025-Q3"')
        .replace("values = { all = 90 }", "values = { all = 190 }")
        .replace('code = "5.1"', 'code = "4.1"')
        .replace(
            'comparison = "eq"\nvalues = { all = 100 }\n\n[[targets]]\ncode = "T2"',
            'comparison = "about"\nvalues = { all = 100 }\n\n[[targets]]\ncode = "T2"',
        )
    )
    with pytest.raises(PlanFileError) as info:
        parse_plan(text)
    errors = {e.line: e.message for e in info.value.errors}
    assert "nằm ngoài năm kế hoạch 2024" in errors[_line_of(text, '"2025-Q3"')]
    assert "phải từ 0 đến 100" in errors[_line_of(text, "all = 190")]
    second = [i for i, ln in enumerate(text.splitlines(), 1) if ln == 'code = "4.1"'][1]
    assert "trùng với dòng" in errors[second]
    assert "comparison" in errors[_line_of(text, '"about"')]
    assert len(info.value.errors) == 4


def test_unknown_agency_is_refused_with_its_line_and_nothing_changes(plan, now, tmp_path):
    bad = tmp_path / "plan.toml"
    text = SHIPPED.replace('lead = "Sở Tài chính"', 'lead = "Sở Không Tồn Tại"').replace(
        'name = "Cải cách thể chế"', 'name = "Cải cách thể chế (sửa)"'
    )
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as info:
        services.load_plan(SYSTEM, bad, now=now)
    assert info.value.errors[0].line == _line_of(text, "Sở Không Tồn Tại")
    assert plan.areas.get(code="1").name == "Cải cách thể chế"  # the valid edit did not land


def test_removing_a_task_with_reports_is_refused(plan, people, now, tmp_path):
    from tests.plans.helpers import pdf, report_on

    task = plan.tasks.get(code="1.2")
    report_on(task, people["justice_focal"], day="2024-04-01", completed=True, files=[pdf()])
    start = SHIPPED.index('[[tasks]]\ncode = "1.2"')
    end = SHIPPED.index("[[tasks]]", start + 5)
    path = tmp_path / "plan.toml"
    path.write_text(SHIPPED[:start] + SHIPPED[end:], encoding="utf-8")
    with pytest.raises(PlanFileError, match=r"1\.2 đã có báo cáo"):
        services.load_plan(SYSTEM, path, now=now)
    assert plan.tasks.filter(code="1.2").exists()


def test_only_plan_managers_load_plans(demo_org, people, now):
    with pytest.raises(PermissionDenied):
        services.load_plan(people["justice_focal"], services.SHIPPED_PLAN, now=now)
    assert not Plan.objects.exists()
