"""PAKN workflows: deadlines in working days, the supplement pause, on-time flags, linking a
dossier, permissions, reminders."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.feedback.conftest import at

pytestmark = pytest.mark.django_db


def test_deadlines_count_working_days_across_a_weekend(file_pakn):
    f = file_pakn(at("2024-06-07", "09:00"))  # a Friday
    assert f.code == "PAKN-240607-0001"
    assert f.state == "received"
    assert f.reject_due == at("2024-06-11", "09:00")  # Mon, Tue: 2 working days
    assert f.supplement_due == at("2024-06-14", "09:00")  # 5 working days
    assert f.resolve_due == at("2024-06-28", "09:00")  # 15 working days
    assert f.publish_due is None
    assert f.handled_on_time is None
    assert f.rules_version == 1
    assert f.calendar_code == "vn-civil-service"


def test_deadlines_skip_holidays_and_count_a_swapped_saturday(file_pakn):
    # 29/4–1/5/2024 are days off; Saturday 4/5/2024 is a working day (swapped with 29/4).
    f = file_pakn(at("2024-04-26", "09:00"))
    assert f.reject_due == at("2024-05-03", "09:00")
    assert f.supplement_due == at("2024-05-07", "09:00")


def test_codes_are_sequential_per_day(file_pakn):
    a = file_pakn(at("2024-06-07", "09:00"))
    b = file_pakn(at("2024-06-07", "10:00"))
    c = file_pakn(at("2024-06-10", "10:00"))
    assert (a.code, b.code, c.code) == (
        "PAKN-240607-0001",
        "PAKN-240607-0002",
        "PAKN-240610-0001",
    )


def test_supplement_pauses_the_resolve_clock_and_everything_on_time(world, file_pakn):
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "09:00"))
    services.accept(world.leader, f, now=at("2024-06-10"))
    services.assign(world.leader, f, assignee=world.officer, now=at("2024-06-10", "10:00"))
    assert f.state == "in_progress" and f.assignee_id == world.officer.pk
    services.request_supplement(world.officer, f, reason="Cho biết số hồ sơ", now=at("2024-06-11"))
    assert f.state == "awaiting_supplement" and f.paused_since == at("2024-06-11")
    services.supplement_received(world.officer, f, now=at("2024-06-13"))  # 2 working days
    assert f.paused_seconds == 2 * 8 * 3600
    assert f.resolve_due == at("2024-07-02", "09:00")  # 28/6 + 2 working days
    services.answer(world.officer, f, text="Hồ sơ đã được trả kết quả.", now=at("2024-07-01"))
    assert f.state == "resolved"
    assert f.publish_due == at("2024-07-03", "09:00")
    assert f.resolve_on_time is True and f.handled_on_time is None  # not yet published
    services.publish(world.leader, f, now=at("2024-07-02"))
    assert f.state == "published"
    assert (f.decision_on_time, f.supplement_on_time, f.resolve_on_time, f.publish_on_time) == (
        True,
        True,
        True,
        True,
    )
    assert f.handled_on_time is True
    assert [e.action for e in f.events.order_by("seq")] == [
        "submit",
        "accept",
        "assign",
        "request_supplement",
        "supplement_received",
        "answer",
        "publish",
    ]


def test_late_decision_and_late_answer_flags(world, file_pakn):
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "09:00"))
    services.accept(world.leader, f, now=at("2024-06-12"))  # due 11/6 09:00
    assert f.decision_on_time is False
    assert f.handled_on_time is False
    services.answer(world.leader, f, text="Trả lời muộn.", now=at("2024-07-01"))
    assert f.resolve_on_time is False
    services.publish(world.leader, f, now=at("2024-07-02"))
    assert f.publish_on_time is True
    assert f.handled_on_time is False


def test_open_pakn_past_due_is_marked_late_by_the_daily_run(world, file_pakn):
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "09:00"))
    services.accept(world.leader, f, now=at("2024-06-10"))
    assert services.refresh_late(now=at("2024-06-27")) == 0
    f.refresh_from_db()
    assert f.handled_on_time is None
    assert services.refresh_late(now=at("2024-06-28", "10:00")) == 1
    f.refresh_from_db()
    assert f.resolve_on_time is False and f.handled_on_time is False
    assert services.refresh_late(now=at("2024-06-28", "11:00")) == 0  # idempotent
    from cchc.audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="feedback.late", object_id=str(f.pk)).count() == 1


def test_paused_pakn_is_not_late_while_waiting(world, file_pakn):
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "09:00"))
    services.accept(world.leader, f, now=at("2024-06-10"))
    services.request_supplement(world.leader, f, reason="Bổ sung", now=at("2024-06-11"))
    services.refresh_late(now=at("2024-08-01"))
    f.refresh_from_db()
    assert f.resolve_on_time is None and f.handled_on_time is None


def test_rejection_in_time_counts_as_handled_on_time(world, file_pakn):
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "09:00"))
    with pytest.raises(Exception, match="lý do"):
        services.reject(world.officer, f, reason=" ", now=at("2024-06-10"))
    services.reject(world.officer, f, reason="Không thuộc thẩm quyền.", now=at("2024-06-10"))
    assert f.state == "rejected" and not f.is_open
    assert f.decision_on_time is True and f.handled_on_time is True
    assert f.resolve_on_time is None


def test_illegal_transitions_are_refused_and_audited(world, file_pakn):
    from cchc.audit.models import AuditEntry
    from cchc.errors import InvalidInput
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "09:00"))
    with pytest.raises(InvalidInput, match="Mới tiếp nhận"):
        services.publish(world.leader, f, now=at("2024-06-10"))
    assert AuditEntry.objects.filter(action="feedback.refused").count() == 1
    assert f.events.count() == 1


def test_events_are_append_only(file_pakn):
    from django.db import IntegrityError, ProgrammingError, connection, transaction

    f = file_pakn(at("2024-06-07", "09:00"))
    event = f.events.get()
    with pytest.raises(RuntimeError):
        event.save()
    # The guard trigger refuses: SQLite's RAISE(ABORT) is a constraint failure; PostgreSQL's
    # RAISE EXCEPTION (SQLSTATE P0001, psycopg's RaiseException) reaches Django as
    # ProgrammingError.
    refused = IntegrityError if connection.vendor == "sqlite" else ProgrammingError
    with (
        pytest.raises(refused, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE feedback_feedbackevent SET action = 'x' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.action != "x"


def test_a_named_dossier_is_not_linked_without_proof(world, file_pakn):
    """The old rule linked on a matching phone number typed by anyone: it no longer does
    (the proofs are tested in test_linking.py)."""
    d = world.intake(at=at("2024-06-03"))
    f = file_pakn(at("2024-06-07", "09:00"), dossier_code=d.code, phone="0912 345 678", email="")
    d.refresh_from_db()
    assert (f.dossier_id, f.dossier_claim, f.dossier_link) == (None, d.code, "pending")
    assert d.has_complaint is False
    assert not d.events.filter(action="complaint").exists()


def test_anonymous_needs_a_name_and_a_phone_or_email(file_pakn):
    from cchc.errors import InvalidInput

    with pytest.raises(InvalidInput, match="số điện thoại hoặc thư điện tử"):
        file_pakn(at("2024-06-07"), phone="", email="")
    with pytest.raises(InvalidInput, match="họ tên"):
        file_pakn(at("2024-06-07"), name="  ")


def test_permissions_by_agency_and_role(world, file_pakn):
    from cchc.errors import PermissionDenied
    from cchc.feedback import access, services

    f = file_pakn(at("2024-06-07"), sender=world.citizen)
    # another agency's officer cannot see nor act
    assert not access.can_view(world.outsider, f)
    assert not access.visible(world.outsider).filter(pk=f.pk).exists()
    with pytest.raises(PermissionDenied):
        services.accept(world.outsider, f, now=at("2024-06-10"))
    # the supervisor sees it, masked, and cannot act
    assert access.can_view(world.supervisor, f)
    assert access.contact(world.supervisor, f)["phone"] == "*******678"
    assert access.contact(world.supervisor, f)["name"] == "N*** T*** H***"
    with pytest.raises(PermissionDenied):
        services.accept(world.supervisor, f, now=at("2024-06-10"))
    # handlers see everything; only the leader assigns
    assert access.contact(world.officer, f)["phone"] == "0912345678"
    with pytest.raises(PermissionDenied):
        services.assign(world.officer, f, assignee=world.officer, now=at("2024-06-10"))
    # an assignee must handle this agency's PAKN
    from cchc.errors import InvalidInput

    with pytest.raises(InvalidInput, match="không xử lý"):
        services.assign(world.leader, f, assignee=world.outsider, now=at("2024-06-10"))
    # the citizen sees their own only, and cannot act as staff
    other = file_pakn(at("2024-06-07"), sender=None)
    assert list(access.mine(world.citizen)) == [f]
    assert access.can_view(world.citizen, f) and not access.can_view(world.citizen, other)
    with pytest.raises(PermissionDenied):
        services.accept(world.citizen, f, now=at("2024-06-10"))


def test_rating_by_the_sender_or_a_signed_link(world, file_pakn):
    from cchc.errors import InvalidInput, PermissionDenied
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07"), sender=world.citizen)
    with pytest.raises(InvalidInput):
        services.rate(world.citizen, f, satisfaction="satisfied", now=at("2024-06-08"))
    services.accept(world.leader, f, now=at("2024-06-10"))
    services.answer(world.leader, f, text="Trả lời.", now=at("2024-06-11"))
    with pytest.raises(PermissionDenied):
        services.rate(world.officer, f, satisfaction="satisfied", now=at("2024-06-12"))
    services.rate(
        world.citizen, f, satisfaction="neutral", comment="Tạm được", now=at("2024-06-12")
    )
    assert (f.satisfaction, f.satisfaction_comment) == ("neutral", "Tạm được")

    anon = file_pakn(at("2024-06-07"))
    services.accept(world.leader, anon, now=at("2024-06-10"))
    services.answer(world.leader, anon, text="Trả lời.", now=at("2024-06-11"))
    with pytest.raises(PermissionDenied):
        services.rate(None, anon, satisfaction="satisfied", token="sai", now=at("2024-06-12"))
    token = services.rating_token(anon)
    assert not services.check_rating_token(f, token)
    services.rate(
        None, anon, satisfaction="dissatisfied", reasons=["late"], token=token, now=at("2024-06-12")
    )
    assert anon.satisfaction == "dissatisfied"


def test_citizen_is_notified_on_acceptance_answer_and_publication(world, file_pakn):
    from cchc.feedback import services
    from cchc.notifications.models import Notification

    world.citizen.email = "dan@example.vn"
    f = file_pakn(at("2024-06-07"), sender=world.citizen, email="")
    services.accept(world.leader, f, now=at("2024-06-10"))
    services.answer(world.leader, f, text="Nội dung trả lời.", now=at("2024-06-11"))
    services.publish(world.leader, f, now=at("2024-06-12"))
    kinds = list(
        Notification.objects.filter(user=world.citizen)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == ["feedback.accept", "feedback.answer", "feedback.publish"]
    anon = file_pakn(at("2024-06-07"), email="hoa@example.vn")
    services.accept(world.leader, anon, now=at("2024-06-10"))
    services.answer(world.leader, anon, text="Trả lời.", now=at("2024-06-11"))
    mails = Notification.objects.filter(address="hoa@example.vn", channel="email")
    assert mails.count() == 2
    assert "?t=" in mails.get(kind="feedback.answer").link  # rating link for the anonymous


def test_every_change_is_audited(world, file_pakn):
    from cchc.audit.models import AuditEntry
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07"))
    services.accept(world.leader, f, now=at("2024-06-10"))
    actions = set(
        AuditEntry.objects.filter(object_id=str(f.pk), object_type="feedback.feedback").values_list(
            "action", flat=True
        )
    )
    assert actions == {"feedback.submit", "feedback.accept"}


def test_remind_command_is_idempotent(world, file_pakn, capsys):
    from cchc.feedback import services
    from cchc.notifications.models import Notification

    late = file_pakn(at("2024-06-03", "09:00"))  # decision due 5/6 09:00
    soon = file_pakn(at("2024-06-07", "09:00"))
    services.accept(world.leader, soon, now=at("2024-06-07", "10:00"))
    services.assign(world.leader, soon, assignee=world.officer, now=at("2024-06-07", "10:00"))
    call_command("feedback", "remind", "--now", "2024-06-27T10:00", "--json")
    first = capsys.readouterr().out
    assert '"overdue": 1' in first and '"due_soon": 1' in first
    sent = Notification.objects.filter(kind__in=["feedback.overdue", "feedback.due_soon"])
    assert sent.filter(user=world.officer, kind="feedback.due_soon").count() == 2  # app + mail
    assert sent.filter(user=world.leader, kind="feedback.overdue").exists()
    total = sent.count()
    call_command("feedback", "remind", "--now", "2024-06-27T15:00")
    assert "Thông báo mới đã gửi: 0" in capsys.readouterr().out
    assert sent.count() == total
    late.refresh_from_db()
    assert late.decision_on_time is False and late.handled_on_time is False


def test_remind_command_rejects_a_bad_instant():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO"):
        call_command("feedback", "remind", "--now", "hôm qua")


def test_supplement_requested_before_the_clock_starts(world, file_pakn):
    from cchc.feedback import services

    f = file_pakn(at("2024-06-07", "19:00"))  # after hours: the clock starts Mon 07:30
    services.accept(world.leader, f, now=at("2024-06-07", "19:10"))
    services.request_supplement(world.leader, f, reason="Bổ sung", now=at("2024-06-07", "19:20"))
    services.supplement_received(world.leader, f, now=at("2024-06-10", "11:30"))
    assert f.paused_seconds == 4 * 3600  # Monday 07:30–11:30
    services.request_supplement(world.leader, f, reason="Lần 2", now=at("2024-06-10", "13:00"))
    services.supplement_received(world.leader, f, now=at("2024-06-10", "13:00"))
    assert f.paused_seconds == 4 * 3600 and f.supplement_requests == 2
