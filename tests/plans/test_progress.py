"""Progress reports, evidence files, review, permissions, reminders."""

from __future__ import annotations

from pathlib import Path

import pytest

from cchc.audit.models import AuditEntry
from cchc.errors import Conflict, InvalidInput, PermissionDenied
from cchc.notifications.models import Notification
from cchc.plans import progress, reminders
from cchc.plans.models import Evidence, ReportState
from tests.plans.helpers import PDF, at, pdf, report_on


def test_focal_point_reports_only_its_own_agencys_tasks(plan, people):
    own = plan.tasks.get(code="1.2")  # Sở Tư pháp
    other = plan.tasks.get(code="3.1")  # Sở Nội vụ
    report = report_on(own, people["justice_focal"], day="2024-04-01")
    assert report.state == ReportState.SUBMITTED
    with pytest.raises(PermissionDenied):
        report_on(other, people["justice_focal"], day="2024-04-01")
    for who in ("leader", "reviewer", "citizen"):
        with pytest.raises(PermissionDenied):
            report_on(own, people[who], day="2024-04-01")
    assert other.reports.count() == 0
    entry = AuditEntry.objects.get(action="plans.report.submitted")
    assert entry.agency_id == own.lead_agency_id


def test_evidence_is_checked_and_stored_privately(plan, people, settings):
    task = plan.tasks.get(code="1.2")
    focal = people["justice_focal"]
    bad = [
        (progress.Upload("a.exe", b"MZ..."), "chỉ nhận"),
        (progress.Upload("a.pdf", b"<html>"), "không đúng định dạng"),
        (progress.Upload("a.pdf", b""), "rỗng"),
        (progress.Upload("a.pdf", b"%PDF" + b"0" * progress.MAX_EVIDENCE_BYTES), "quá lớn"),
    ]
    for upload, message in bad:
        with pytest.raises(InvalidInput, match=message):
            report_on(task, focal, day="2024-05-01", completed=True, files=[upload])
    assert task.reports.count() == 0
    with pytest.raises(InvalidInput, match="tài liệu kiểm chứng"):
        report_on(task, focal, day="2024-05-01", completed=True)
    report = report_on(task, focal, day="2024-05-01", completed=True, files=[pdf("Báo cáo.pdf")])
    evidence = Evidence.objects.get(report=report)
    assert evidence.name == "Báo cáo.pdf" and evidence.size == len(PDF)
    assert evidence.content_type == "application/pdf"
    stored = evidence.file.path
    assert stored.startswith(str(settings.MEDIA_ROOT)) and "Báo cáo" not in stored
    assert Path(stored).read_bytes() == PDF


def test_bad_report_values_are_refused(plan, people):
    task = plan.tasks.get(code="1.2")
    focal = people["justice_focal"]
    with pytest.raises(InvalidInput, match="100%"):
        progress.submit_report(
            focal, task, progress=80, note="x", completed=True, files=[pdf()], now=at("2024-05-01")
        )
    with pytest.raises(InvalidInput, match="nội dung"):
        progress.submit_report(focal, task, progress=10, note="  ", now=at("2024-05-01"))
    recurring = plan.tasks.get(code="2.2")  # quarterly, Trung tâm PVHCC
    with pytest.raises(PermissionDenied):
        progress.submit_report(
            focal, recurring, progress=10, note="x", period="2024-Q1", now=at("2024-05-01")
        )


def test_review_accepts_or_returns_once(plan, people):
    task = plan.tasks.get(code="1.2")
    report = report_on(
        task, people["justice_focal"], day="2024-05-01", completed=True, files=[pdf()]
    )
    with pytest.raises(PermissionDenied):
        progress.review_report(people["justice_focal"], report, accept=True, now=at("2024-05-02"))
    with pytest.raises(InvalidInput, match="lý do"):
        progress.review_report(people["reviewer"], report, accept=False, now=at("2024-05-02"))
    progress.review_report(people["reviewer"], report, accept=True, now=at("2024-05-02"))
    with pytest.raises(Conflict):
        progress.review_report(
            people["reviewer"], report, accept=False, note="x", now=at("2024-05-03")
        )
    # The reporter hears about it in the inbox and by e-mail.
    kinds = set(
        Notification.objects.filter(user=people["justice_focal"]).values_list("kind", "channel")
    )
    assert kinds == {("plans.report_reviewed", "in_app"), ("plans.report_reviewed", "email")}
    with pytest.raises(Conflict, match="công nhận hoàn thành"):
        report_on(task, people["justice_focal"], day="2024-05-04")


def test_evidence_visibility(plan, people):
    task = plan.tasks.get(code="1.2")
    report = report_on(
        task, people["justice_focal"], day="2024-05-01", completed=True, files=[pdf()]
    )
    item = report.evidence.get()
    assert progress.can_see_evidence(people["justice_focal"], item)
    assert progress.can_see_evidence(people["reviewer"], item)
    assert not progress.can_see_evidence(people["home_focal"], item)


def test_reminders_before_the_deadline_and_when_overdue_are_sent_once(
    plan, people, mailoutbox, django_capture_on_commit_callbacks
):
    focal = people["justice_focal"]
    focal.email = "daumoi@stp.example.vn"
    focal.save(update_fields=["email"])
    # Task 1.2 is due 30/06/2024: seven days before, one reminder in the inbox and by mail.
    with django_capture_on_commit_callbacks(execute=True):
        first = reminders.send_reminders(now=at("2024-06-24"))
    mine = Notification.objects.filter(user=focal, kind="plans.due_soon")
    assert mine.count() == 2 and first.sent >= 2
    assert [m.to for m in mailoutbox if "1.2" in m.subject] == [["daumoi@stp.example.vn"]]
    again = reminders.send_reminders(now=at("2024-06-24", hour=16))
    assert again.sent == 0 and mine.count() == 2
    reminders.send_reminders(now=at("2024-07-02"))
    overdue = Notification.objects.filter(user=focal, kind="plans.overdue", subject__contains="1.2")
    assert overdue.count() == 2
    reminders.send_reminders(now=at("2024-07-03"))  # same week: nothing new
    assert overdue.count() == 2
    reminders.send_reminders(now=at("2024-07-09"))  # next week: reminded again
    assert overdue.count() == 4
    # Sở Nội vụ's focal point is not reminded of Sở Tư pháp's task.
    assert not Notification.objects.filter(
        user=people["home_focal"], subject__contains="1.2"
    ).exists()


def test_home_panel_lists_own_overdue_tasks_and_reviews(plan, people):
    from cchc.plans.services import home_panel

    report_on(plan.tasks.get(code="1.2"), people["justice_focal"], day="2024-06-01")
    panel = home_panel(people["justice_focal"], at("2024-07-02"))
    assert {t.code for t, _ in panel["overdue"]} == {"1.2"}
    assert home_panel(people["reviewer"], at("2024-07-02"))["to_review"] == 1
    assert home_panel(people["citizen"], at("2024-07-02")) is None
