"""The leaders' daily digest (`cchc dossiers digest`, issue 18 item 5): dossiers about to go
overdue and overdue without an apology, per agency in the reader's scope, in the inbox and
by e-mail, once per reader and day, through the outbox and the scheduler."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cchc.audit.models import AuditEntry
from cchc.dossiers import digest, services
from cchc.dossiers.models import Dossier
from cchc.jobs.models import JobRun
from cchc.notifications.models import Channel, Notification
from tests.conftest import fresh
from tests.dossiers.conftest import at

pytestmark = pytest.mark.django_db

MON, WED, THU, FRI = "2024-06-03", "2024-06-05", "2024-06-06", "2024-06-07"
DIGEST_AT = at(FRI, "07:10")


@pytest.fixture
def world(built_world, db):
    return fresh(built_world)


def act(actor, dossier, action, when, *, reason="", **data):
    return services.act(actor, dossier, action, now=when, reason=reason, data=data)


@pytest.fixture
def late_and_soon(world):
    """At Friday 07:10: `late` (due Thu 09:00) is overdue without an apology, `excused` is
    overdue with one, `soon` (one-day procedure received Thu 09:00, due Fri 09:00) is due
    within a working day, `later` (three-day procedure received Thu 15:00) is not due yet,
    and `other` is overdue at the Department of Construction."""
    for user in (world.leader, world.supervisor, world.officer):
        user.email = f"{user.username}@so.example.vn"
        user.save(update_fields=["email"])
    late = world.intake(at=at(MON, "09:00"))
    excused = world.intake(at=at(MON, "09:00"))
    act(world.leader, excused, "assign", at(MON, "09:30"), assignee=world.officer.pk)
    act(world.officer, excused, "apologise", at(WED, "10:00"), reason="Cần xác minh thêm")
    soon = world.intake(at=at(THU, "09:00"), procedure=world.quick)
    later = world.intake(at=at(THU, "15:00"))
    elsewhere = world.intake(at=at(MON, "10:00"))
    # Held by another agency (as after a forward): only the supervisor's scope reaches it.
    Dossier.objects.filter(pk=elsewhere.pk).update(current_agency=world.org.construction)
    return {"late": late, "excused": excused, "soon": soon, "later": later, "other": elsewhere}


def codes_in(text: str, dossiers: dict) -> set[str]:
    return {name for name, d in dossiers.items() if d.code in text}


def test_leader_gets_one_inbox_and_one_mail_digest_of_their_agency(
    world, late_and_soon, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = digest.send(now=DIGEST_AT)
    notes = Notification.objects.filter(kind=digest.KIND, user=world.leader)
    assert sorted(notes.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.IN_APP]
    inbox = notes.get(channel=Channel.IN_APP)
    assert inbox.subject == "Bản tin hồ sơ ngày 07/06/2024: 1 sắp đến hạn, 1 quá hạn chưa xin lỗi"
    assert codes_in(inbox.body, late_and_soon) == {"late", "soon"}
    assert "Sở Tư pháp" in inbox.body and "Cấp phiếu lý lịch tư pháp" in inbox.body
    assert "hạn 09:00 07/06/2024" in inbox.body  # the one-day procedure's due
    assert inbox.link == "/ho-so/?pham_vi=co_quan"
    # The e-mail carries each code's own address (a mail has no "Mở" button).
    mail = [m for m in mailoutbox if m.to == [world.leader.email]]
    assert len(mail) == 1 and mail[0].subject == inbox.subject
    assert f"/ho-so/{late_and_soon['late'].code}/" in mail[0].body
    assert f"/ho-so/{late_and_soon['soon'].code}/" in mail[0].body
    mine = next(d for d in report.digests if d.user_id == world.leader.pk)
    assert (mine.due_soon, mine.overdue, mine.sent) == (1, 1, 2)


def test_supervisor_gets_the_province_and_handlers_get_nothing(world, late_and_soon):
    digest.send(now=DIGEST_AT)
    body = Notification.objects.get(
        kind=digest.KIND, user=world.supervisor, channel=Channel.IN_APP
    ).body
    assert codes_in(body, late_and_soon) == {"late", "soon", "other"}
    # Each agency with its counts; by overdue dossiers, then those due soon.
    justice = body.index("Sở Tư pháp tỉnh Bắc Giang: 1 sắp đến hạn, 1 quá hạn chưa xin lỗi")
    construction = body.index("Sở Xây dựng tỉnh Bắc Giang: 0 sắp đến hạn, 1 quá hạn chưa xin lỗi")
    assert justice < construction
    recipients = set(Notification.objects.filter(kind=digest.KIND).values_list("user", flat=True))
    assert recipients == {world.leader.pk, world.supervisor.pk}


def test_no_personal_data_in_the_digest(world, late_and_soon):
    digest.send(now=DIGEST_AT)
    for note in Notification.objects.filter(kind=digest.KIND):
        text = note.subject + note.body
        for personal in ("Nguyễn Thị Hoà", "0912345678", "024190001234", "hoa@example.vn"):
            assert personal not in text
        assert "Hoàng Văn Thụ" not in text


def test_rerun_the_same_day_sends_nothing_more_and_is_audited_once(world, late_and_soon):
    first = digest.send(now=DIGEST_AT)
    assert first.sent == 4 and first.already == 0
    again = digest.send(now=at(FRI, "16:00"))
    assert again.sent == 0 and again.already == 2
    assert Notification.objects.filter(kind=digest.KIND).count() == 4
    entry = AuditEntry.objects.get(action="dossier.digest")
    assert entry.data["sent"] == 4 and entry.data["day"] == "2024-06-07"
    # The next working day is a new digest.
    assert digest.send(now=at("2024-06-10", "07:10")).sent == 4


def test_nothing_to_say_sends_nothing(world):
    excused = world.intake(at=at(MON, "09:00"))
    act(world.leader, excused, "assign", at(MON, "09:30"), assignee=world.officer.pk)
    act(world.officer, excused, "apologise", at(WED, "10:00"), reason="Cần xác minh thêm")
    world.intake(at=at(THU, "15:00"))  # due next Tuesday: not yet a worry
    report = digest.send(now=DIGEST_AT)
    assert report.readers == 2 and report.digests == [] and report.sent == 0
    assert not Notification.objects.filter(kind=digest.KIND).exists()
    assert not AuditEntry.objects.filter(action="dossier.digest").exists()


def test_codes_are_capped_per_agency_and_queries_do_not_grow(world, late_and_soon):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            digest.send(now=DIGEST_AT, dry_run=True, limit=2)
        return len(ctx.captured_queries)

    few = queries()
    extra = [world.intake(at=at(MON, "11:00")) for _ in range(3)]
    assert queries() == few
    report = digest.send(now=DIGEST_AT, limit=2)
    body = Notification.objects.get(
        kind=digest.KIND, user=world.leader, channel=Channel.IN_APP
    ).body
    assert "Sở Tư pháp tỉnh Bắc Giang: 1 sắp đến hạn, 4 quá hạn chưa xin lỗi" in body
    assert "… và 2 hồ sơ khác." in body
    assert sum(1 for d in [late_and_soon["late"], *extra] if d.code in body) == 2
    assert report.sent == 4


def test_command_dry_run_records_nothing_and_json_counts(world, late_and_soon, capsys):
    call_command("dossiers", "digest", "--now", "2024-06-07T07:10", "--dry-run")
    out = capsys.readouterr().out
    assert "2 người có nội dung" in out and "Chạy thử" in out
    assert not Notification.objects.filter(kind=digest.KIND).exists()
    call_command("dossiers", "digest", "--now", "2024-06-07T07:10", "--json")
    data = json.loads(capsys.readouterr().out)
    assert (data["readers"], data["with_news"], data["sent"]) == (2, 2, 4)
    leader = next(d for d in data["digests"] if d["user"] == world.leader.username)
    assert [a["agency"] for a in leader["agencies"]] == ["Sở Tư pháp tỉnh Bắc Giang"]
    assert leader["agencies"][0]["overdue_codes"][0]["code"] == late_and_soon["late"].code


def test_command_rejects_a_bad_limit(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--limit"):
        call_command("dossiers", "digest", "--limit", "0")


def test_the_scheduler_runs_it_as_dossiers_digest(world, late_and_soon, capsys):
    call_command("jobs", "run", "dossiers-digest")
    run = JobRun.objects.get(name="dossiers-digest")
    assert run.outcome == "ok", run.message
    # Today (long after 2024) every open dossier is overdue: both readers hear about it.
    assert run.counts["sent"] == 4 and run.counts["with_news"] == 2
