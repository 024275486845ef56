"""Pages: who may see and change what; Vietnamese content."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape

from tests.plans.helpers import PDF, pdf, report_on


def test_pages_render_for_a_supervisor(client, plan, people):
    client.force_login(people["reviewer"])
    for name in (
        "plans:overview",
        "plans:tasks",
        "plans:registers",
        "plans:legal_documents",
        "plans:internal_procedures",
        "plans:work_records",
        "plans:external_indices",
        "plans:scorecard",
    ):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
    # Each page shows its own data: the plan's tasks, each register's target and (the
    # fixture records none) its empty state for the year shown.
    tasks = client.get(reverse("plans:tasks")).content.decode()
    assert f"Nhiệm vụ — {escape(str(plan))}" in tasks and f"Kế hoạch {plan.number}" in tasks
    for task in plan.tasks.select_related("lead_agency"):
        assert escape(task.description) in tasks, task.code
        lead = task.lead_agency.short_name or task.lead_agency.name
        assert f"<td>{escape(lead)}</td>" in tasks, task.code
    expected = {
        "plans:registers": ["Sổ theo dõi các chỉ tiêu ngoài hồ sơ TTHC", "T7 — Hồ sơ công việc"],
        "plans:legal_documents": ["Văn bản quy phạm pháp luật của tỉnh", "Chỉ tiêu T2"],
        "plans:internal_procedures": ["Thủ tục hành chính nội bộ", "Chưa có thủ tục nội bộ."],
        "plans:work_records": ["Thống kê hồ sơ công việc", "cấp tỉnh &gt; 95%"],
        "plans:external_indices": ["Chỉ số đánh giá bên ngoài", "Chưa nhập chỉ số."],
        "plans:scorecard": ["Tự đánh giá Chỉ số CCHC (PAR INDEX)"],
    }
    for name, texts in expected.items():
        page = client.get(reverse(name)).content.decode()
        for text in texts:
            assert text in page, (name, text)
    page = client.get(reverse("plans:overview")).content.decode()
    assert "Cải cách thủ tục hành chính" in page and "cấp tỉnh &gt; 95%" in page
    assert "minh họa" in page


def test_citizens_and_anonymous_users_are_kept_out(client, plan, people):
    assert client.get(reverse("plans:overview")).status_code == 302
    client.force_login(people["citizen"])
    assert client.get(reverse("plans:overview")).status_code == 403
    assert client.get(reverse("plans:task", args=[plan.tasks.first().pk])).status_code == 403


def test_task_filters(client, plan, people):
    client.force_login(people["leader"])
    justice = plan.tasks.get(code="1.2").lead_agency
    page = client.get(reverse("plans:tasks"), {"co_quan": justice.pk}).content.decode()
    assert (
        "1.2" in page
        and "Rà soát, hệ thống hóa" in page
        and "Công bố, công khai danh mục" not in page
    )
    page = client.get(
        reverse("plans:tasks"), {"tu": "2024-06-01", "den": "2024-06-30"}
    ).content.decode()
    assert "Rà soát, hệ thống hóa" in page and "Nâng cấp Hệ thống" not in page


def test_focal_point_cannot_post_a_report_for_another_agency(client, plan, people):
    client.force_login(people["justice_focal"])
    other = plan.tasks.get(code="3.1")
    response = client.post(
        reverse("plans:task", args=[other.pk]), {"progress": 50, "note": "Thử", "period": ""}
    )
    assert response.status_code == 403 and other.reports.count() == 0
    own = plan.tasks.get(code="1.2")
    page = client.get(reverse("plans:task", args=[own.pk])).content.decode()
    assert "Báo cáo tiến độ" in page and 'name="files"' in page


def test_evidence_download_is_scoped(client, plan, people):
    report = report_on(
        plan.tasks.get(code="1.2"),
        people["justice_focal"],
        day="2024-05-01",
        completed=True,
        files=[pdf()],
    )
    url = reverse("plans:evidence", args=[report.evidence.get().pk])
    client.force_login(people["home_focal"])
    assert client.get(url).status_code == 403
    client.force_login(people["reviewer"])
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF


def test_api_lists_tasks_with_status(client, plan, people):
    client.force_login(people["reviewer"])
    data = client.get(f"/api/plans/{plan.code}/tasks").json()
    assert {t["code"] for t in data} >= {"1.1", "2.2"}
    recurring = next(t for t in data if t["code"] == "2.2")
    assert len(recurring["deliverables"]) == 4
    client.force_login(people["citizen"])
    assert client.get(f"/api/plans/{plan.code}/tasks").status_code == 403
