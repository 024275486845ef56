"""The daily breach-prediction scan (`cchc dossiers scan`) and the `cchc dossiers` command."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cchc.audit.models import AuditEntry
from cchc.dossiers import intake, risk, services
from cchc.dossiers.models import Dossier, State
from cchc.notifications.models import Notification
from tests.conftest import fresh
from tests.dossiers.conftest import at
from tests.dossiers.factories import applicant

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(built_world, db):
    """The dossier world, built once for this module; each test gets its own copy and runs
    in its own savepoint."""
    return fresh(built_world)


MON, TUE, WED, THU, FRI = "2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06", "2024-06-07"
HOUR = 3600


def act(actor, dossier, action, when, *, reason="", **data):
    return services.act(actor, dossier, action, now=when, reason=reason, data=data)


def late_start(w):
    """Received Mon 09:00 (due Thu 09:00) but only assigned Wed 09:00: step 1 (16 h budget)
    starts with 8 working hours left (7 h at Wed 10:00)."""
    d = w.intake(at=at(MON, "09:00"))
    act(w.leader, d, "assign", at(WED, "09:00"), assignee=w.officer.pk)
    return d


def finished_quickly(w, day=MON):
    """A dossier that took 1 h 30 from assignment and 30 min from its proposal to approval."""
    d = w.intake(at=at(day, "09:00"))
    act(w.leader, d, "assign", at(day, "09:10"), assignee=w.officer.pk)
    act(w.officer, d, "propose", at(day, "10:10"))
    act(w.leader, d, "approve", at(day, "10:40"))
    return d


def test_on_schedule_dossier_is_not_at_risk(world):
    d = world.intake(at=at(MON, "09:00"))
    act(world.leader, d, "assign", at(MON, "09:30"), assignee=world.officer.pk)
    report = risk.scan(now=at(MON, "10:00"))
    assert report.checked == 1 and report.at_risk == []
    d.refresh_from_db()
    assert not d.at_risk and d.risk_note == "" and d.risk_checked_at == at(MON, "10:00")
    # Remaining 23 h; the step budgets still need max(4 h, 20 h − 30 min) = 19 h 30.
    a = risk.assess(
        d, list(d.events.order_by("seq")), risk.History(at(MON, "10:00")), at(MON, "10:00")
    )
    assert (a.remaining, a.needed, a.spent_in_step, a.basis) == (
        23 * HOUR,
        19 * HOUR + 30 * 60,
        30 * 60,
        "budgets",
    )


def test_behind_schedule_dossier_is_flagged_from_step_budgets(world):
    d = late_start(world)
    report = risk.scan(now=at(WED, "10:00"))
    assert [a.code for a in report.at_risk] == [d.code]
    a = report.at_risk[0]
    assert (a.remaining, a.needed, a.basis, a.examples) == (7 * HOUR, 19 * HOUR, "budgets", 0)
    d.refresh_from_db()
    assert d.at_risk and d.risk_checked_at == at(WED, "10:00")
    assert "Còn 7 giờ làm việc" in d.risk_note
    assert "19 giờ" in d.risk_note and "tổng định mức" in d.risk_note
    assert "Thẩm định, xử lý hồ sơ" in d.risk_note and "chưa đủ 5 hồ sơ" in d.risk_note
    assert report.newly_flagged == 1


def test_history_median_replaces_budgets_with_enough_examples(world):
    for _ in range(risk.MIN_HISTORY):
        finished_quickly(world)
    d = late_start(world)
    # Typical from step 1: 1 h 30 (median), after it 30 min → plenty of time left.
    report = risk.scan(now=at(WED, "10:00"))
    assert report.at_risk == []
    a = risk.assess(
        d, list(d.events.order_by("seq")), risk.History(at(WED, "10:00")), at(WED, "10:00")
    )
    assert (a.needed, a.basis, a.examples) == (30 * 60, "history", 5)
    # Ten minutes before the due, 30 min are still typically needed.
    report = risk.scan(now=at(THU, "08:50"))
    assert [a.code for a in report.at_risk] == [d.code]
    d.refresh_from_db()
    assert "trung vị của 5 hồ sơ" in d.risk_note and "Còn 10 phút" in d.risk_note


def test_fewer_examples_than_the_minimum_fall_back_to_budgets(world):
    for _ in range(risk.MIN_HISTORY - 1):
        finished_quickly(world)
    d = late_start(world)
    report = risk.scan(now=at(WED, "10:00"))
    assert [(a.code, a.basis, a.examples) for a in report.at_risk] == [(d.code, "budgets", 4)]


def test_history_ignores_dossiers_finished_after_the_scan_instant(world):
    for _ in range(risk.MIN_HISTORY):
        finished_quickly(world, day=THU)
    d = late_start(world)
    a = risk.assess(
        d, list(d.events.order_by("seq")), risk.History(at(WED, "10:00")), at(WED, "10:00")
    )
    assert a.basis == "budgets"


def test_history_does_not_count_pauses(world):
    for _ in range(risk.MIN_HISTORY):
        d = world.intake(at=at(MON, "09:00"))
        act(world.leader, d, "assign", at(MON, "09:10"), assignee=world.officer.pk)
        act(world.officer, d, "request_supplement", at(MON, "09:40"), reason="Thiếu giấy")
        act(world.desk_officer, d, "supplement_received", at(TUE, "09:40"))
        act(world.officer, d, "propose", at(TUE, "10:10"))
        act(world.leader, d, "approve", at(TUE, "10:40"))
    history = risk.History(at(WED, "10:00")).of(world.procedure.pk)
    assert [h[1] for h in history] == [90 * 60] * risk.MIN_HISTORY


def test_paused_dossiers_are_skipped_and_keep_their_flag(world):
    d = late_start(world)
    risk.scan(now=at(WED, "10:00"))
    act(world.officer, d, "request_supplement", at(WED, "10:30"), reason="Thiếu giấy tờ")
    report = risk.scan(now=at(THU, "10:00"))
    assert report.checked == 0 and report.skipped_paused == 1
    d.refresh_from_db()
    assert d.at_risk and d.risk_checked_at == at(WED, "10:00")


def test_flag_is_cleared_when_no_longer_at_risk(world):
    d = late_start(world)
    risk.scan(now=at(WED, "10:00"))
    act(world.officer, d, "apologise", at(WED, "10:30"), reason="Cần xác minh thêm")
    report = risk.scan(now=at(WED, "11:00"))
    assert report.at_risk == [] and report.cleared == 1
    d.refresh_from_db()
    assert not d.at_risk and d.risk_note == ""


def test_flag_is_cleared_when_the_dossier_finishes(world):
    d = late_start(world)
    risk.scan(now=at(WED, "10:00"))
    act(world.officer, d, "propose", at(WED, "10:30"))
    act(world.leader, d, "approve", at(WED, "11:00"))
    report = risk.scan(now=at(WED, "11:30"))
    assert report.cleared == 1
    d.refresh_from_db()
    assert d.state == State.RESOLVED and not d.at_risk


def test_overdue_dossier_is_at_risk_with_its_own_note(world):
    d = late_start(world)
    report = risk.scan(now=at(THU, "10:00"))
    assert [a.code for a in report.at_risk] == [d.code]
    assert report.at_risk[0].remaining == -HOUR
    d.refresh_from_db()
    assert d.risk_note.startswith("Đã quá hạn giải quyết 1 giờ làm việc")
    assert "Chưa có văn bản xin lỗi" in d.risk_note


def test_assignee_and_leaders_are_notified_once_per_dossier_per_day(world):
    d = late_start(world)
    report = risk.scan(now=at(WED, "10:00"))
    assert report.notified == 2
    notes = Notification.objects.filter(kind="dossier.at_risk")
    assert {n.user_id for n in notes} == {world.officer.pk, world.leader.pk}
    assert all(
        d.code in n.subject and n.body == Dossier.objects.get(pk=d.pk).risk_note for n in notes
    )
    # Again the same day: nothing new; the next day: one more each.
    assert risk.scan(now=at(WED, "15:00")).notified == 0
    assert notes.all().count() == 2
    assert risk.scan(now=at(THU, "08:00")).notified == 2
    assert notes.all().count() == 4
    # Nobody of another agency hears about it.
    assert not notes.all().filter(user=world.outsider).exists()


def test_overdue_without_apology_is_listed(world):
    late = late_start(world)
    excused = late_start(world)
    act(world.officer, excused, "apologise", at(WED, "10:00"), reason="Cần xác minh thêm")
    waiting = late_start(world)  # paused before its due: its clock is stopped
    act(world.officer, waiting, "request_supplement", at(WED, "10:00"), reason="Thiếu giấy")
    report = risk.scan(now=at(THU, "10:00"))
    assert [f.code for f in report.overdue_without_apology] == [late.code]
    assert report.overdue_without_apology[0].due == at(THU, "09:00")


def test_dossiers_with_more_than_one_supplement_request_are_listed(world):
    d = world.intake(at=at(MON, "09:00"))
    act(world.leader, d, "assign", at(MON, "09:30"), assignee=world.officer.pk)
    act(world.officer, d, "request_supplement", at(MON, "10:00"), reason="Thiếu tờ khai")
    act(world.desk_officer, d, "supplement_received", at(MON, "14:00"))
    once = world.intake(at=at(MON, "09:00"))
    act(world.leader, once, "assign", at(MON, "09:30"), assignee=world.officer.pk)
    act(world.officer, once, "request_supplement", at(MON, "10:00"), reason="Thiếu tờ khai")
    assert risk.scan(now=at(MON, "15:00")).repeated_supplement == []
    act(world.officer, d, "request_supplement", at(MON, "15:00"), reason="Bản sao không rõ")
    report = risk.scan(now=at(MON, "16:00"))
    assert [(f.code, f.detail) for f in report.repeated_supplement] == [
        (d.code, "Đã yêu cầu bổ sung 2 lần")
    ]


def test_scan_writes_one_audit_entry_and_no_events(world):
    d = late_start(world)
    events = d.events.count()
    version = d.version
    risk.scan(now=at(WED, "10:00"))
    entry = AuditEntry.objects.get(action="dossier.risk_scan")
    assert entry.data["checked"] == 1 and entry.data["at_risk"] == 1
    assert entry.data["codes"] == [d.code]
    d.refresh_from_db()
    assert d.events.count() == events and d.version == version


def test_submitted_and_finished_dossiers_are_not_scanned(world):
    intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        now=at(MON, "08:00"),
    )
    finished_quickly(world)
    assert risk.scan(now=at(FRI, "10:00")).checked == 0


def test_working_label():
    assert risk.working_label(0) == "0 phút"
    assert risk.working_label(45 * 60) == "45 phút"
    assert risk.working_label(19 * HOUR) == "19 giờ"
    assert risk.working_label(-(HOUR + 60)) == "1 giờ 1 phút"


# -- the command ------------------------------------------------------------------------------


def test_scan_command_prints_counts_and_the_list(world, capsys):
    d = late_start(world)
    call_command("dossiers", "scan", "--now", "2024-06-05T10:00")
    out = capsys.readouterr().out
    assert "Nguy cơ trễ hạn: 1 (mới 1)" in out
    assert f"{d.code}: Còn 7 giờ làm việc" in out


def test_scan_command_json(world, capsys):
    d = late_start(world)
    call_command("dossiers", "scan", "--now", "2024-06-05T10:00", "--json")
    report = json.loads(capsys.readouterr().out)
    assert [a["code"] for a in report["at_risk"]] == [d.code]
    assert report["at_risk"][0]["remaining_seconds"] == 7 * HOUR
    assert report["now"] == "2024-06-05T10:00:00+07:00"


def test_scan_command_rejects_a_bad_instant(world):
    with pytest.raises(CommandError) as error:
        call_command("dossiers", "scan", "--now", "hôm qua")
    assert error.value.returncode == 2


def test_verify_command_exit_codes(world, capsys):
    d = late_start(world)
    call_command("dossiers", "verify")  # clean: no SystemExit
    assert "Đã kiểm tra 1 hồ sơ: 0 hồ sơ sai lệch" in capsys.readouterr().out
    Dossier.objects.filter(pk=d.pk).update(state=State.RETURNED)
    with pytest.raises(SystemExit) as exit_info:
        call_command("dossiers", "verify")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert f"{d.code}: state đang lưu 'returned', tính lại từ sự kiện 'in_progress'" in out
    with pytest.raises(SystemExit):
        call_command("dossiers", "verify", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["mismatches"] == [
        {"code": d.code, "field": "state", "stored": "returned", "derived": "in_progress"}
    ]
    with pytest.raises(SystemExit):
        call_command("dossiers", "verify", "--fix")
    assert "Đã tính lại và ghi đè 1 hồ sơ" in capsys.readouterr().out
    call_command("dossiers", "verify")
    assert AuditEntry.objects.filter(action="dossier.projection_repaired").count() == 1
