"""Service-level tests of the dossier engine: every transition, every refusal, clocks,
apology, outcome, codes, append-only events, optimistic concurrency, recomputation after a
calendar change, and `verify` (stored projection vs events)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import DatabaseError, connection, transaction

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.audit.models import AuditEntry
from cchc.calendars import services as calendars
from cchc.dossiers import intake, rules, services, verify
from cchc.dossiers.models import CodeCounter, Dossier, DossierEvent, DossierResult, State
from cchc.errors import Conflict, InvalidInput, PermissionDenied
from tests.conftest import fresh
from tests.dossiers.conftest import at
from tests.dossiers.factories import applicant, components_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(built_world, db):
    """The dossier world, built once for this module; each test gets its own copy and runs
    in its own savepoint."""
    return fresh(built_world)


MON = "2024-06-03"  # the `now` fixture: Monday 3/6/2024 09:00
TUE, WED, THU, FRI = "2024-06-04", "2024-06-05", "2024-06-06", "2024-06-07"
NEXT_MON = "2024-06-10"


def cal():
    return calendars.calendar_for("vn-civil-service")


def act(actor, dossier, action, when, *, reason="", **data):
    return services.act(actor, dossier, action, now=when, reason=reason, data=data)


def events_of(dossier) -> list[str]:
    return list(dossier.events.order_by("seq").values_list("action", flat=True))


def refusals(dossier) -> list[dict]:
    return [
        e.data
        for e in AuditEntry.objects.filter(action="dossier.refused", object_id=str(dossier.pk))
    ]


def assert_consistent(dossier) -> None:
    report = verify.verify(queryset=Dossier.objects.filter(pk=dossier.pk))
    assert report.clean, [str(m) for m in report.mismatches] + report.errors


# -- paths to each start state ----------------------------------------------------------------


def submitted(w):
    return intake.submit_online(
        w.citizen,
        desk=w.desk,
        procedure=w.procedure,
        applicant=applicant(),
        components=components_for(w.procedure),
        now=at(MON, "08:00"),
    )


def awaiting_completion(w):
    d = submitted(w)
    act(w.desk_officer, d, "request_completion", at(MON, "08:30"), reason="Thiếu bản chụp CCCD")
    return d


def received(w):
    return w.intake(at=at(MON, "09:00"))


def in_progress(w):
    d = received(w)
    act(w.leader, d, "assign", at(MON, "09:30"), assignee=w.officer.pk)
    return d


def awaiting_supplement(w):
    d = in_progress(w)
    act(w.officer, d, "request_supplement", at(MON, "10:00"), reason="Thiếu bản sao CCCD")
    return d


def awaiting_obligation(w):
    d = in_progress(w)
    act(w.officer, d, "request_obligation", at(MON, "10:00"), reason="Chờ nộp lệ phí")
    return d


def awaiting_approval(w):
    d = in_progress(w)
    act(w.officer, d, "propose", at(MON, "14:00"))
    return d


def resolved(w):
    d = awaiting_approval(w)
    act(w.leader, d, "approve", at(MON, "15:00"))
    return d


def returned(w):
    d = resolved(w)
    act(w.desk_officer, d, "return_result", at(MON, "16:00"))
    return d


def paid(w):
    d = received(w)
    act(w.desk_officer, d, "pay", at(MON, "09:10"), amount=50000, channel="cash")
    return d


def online_received(w):
    d = submitted(w)
    act(w.desk_officer, d, "receive", at(MON, "09:00"))
    return d


def awaiting_supplement_online(w):
    d = online_received(w)
    act(w.leader, d, "assign", at(MON, "09:30"), assignee=w.officer.pk)
    act(w.officer, d, "request_supplement", at(MON, "10:00"), reason="Thiếu bản sao CCCD")
    return d


def returned_online(w):
    d = online_received(w)
    act(w.leader, d, "assign", at(MON, "09:30"), assignee=w.officer.pk)
    act(w.officer, d, "propose", at(MON, "14:00"))
    act(w.leader, d, "approve", at(MON, "15:00"))
    act(w.desk_officer, d, "return_result", at(MON, "16:00"))
    return d


# action -> (start, actor attribute, reason, data factory)
CASES = {
    "receive": (submitted, "desk_officer", "", lambda w: {}),
    "refuse_intake": (submitted, "desk_officer", "Hồ sơ không thuộc thẩm quyền", lambda w: {}),
    "assign": (received, "leader", "", lambda w: {"assignee": w.officer.pk}),
    "forward": (received, "officer", "", lambda w: {"assignee": w.officer2.pk}),
    "request_supplement": (in_progress, "officer", "Thiếu tờ khai", lambda w: {}),
    "supplement_received": (awaiting_supplement, "desk_officer", "", lambda w: {}),
    "request_obligation": (in_progress, "officer", "Chờ nộp thuế", lambda w: {}),
    "obligation_met": (awaiting_obligation, "desk_officer", "", lambda w: {}),
    "propose": (in_progress, "officer", "", lambda w: {}),
    "send_back": (awaiting_approval, "leader", "Cần xác minh thêm", lambda w: {}),
    "approve": (awaiting_approval, "leader", "", lambda w: {}),
    "return_result": (resolved, "desk_officer", "", lambda w: {}),
    "refuse": (in_progress, "leader", "Không đủ điều kiện", lambda w: {}),
    "stop": (in_progress, "leader", "Người nộp đề nghị dừng", lambda w: {}),
    "withdraw": (received, "desk_officer", "Người nộp rút hồ sơ", lambda w: {}),
    "apologise": (in_progress, "officer", "Cần xác minh tại địa phương", lambda w: {}),
    "attach": (in_progress, "officer", "", lambda w: {}),
    "note": (in_progress, "officer", "", lambda w: {"note": "Đã gọi điện cho người nộp"}),
    "recompute": (in_progress, None, "", lambda w: {}),
    "request_completion": (submitted, "desk_officer", "Ảnh chụp tờ khai bị mờ", lambda w: {}),
    "resubmit": (awaiting_completion, "citizen", "", lambda w: {}),
    "citizen_upload": (awaiting_supplement_online, "citizen", "", lambda w: {}),
    "pay": (received, "desk_officer", "", lambda w: {"amount": 50000, "channel": "cash"}),
    "refund": (paid, "desk_officer", "Thu thừa", lambda w: {"amount": 20000}),
    "rate": (returned_online, "citizen", "", lambda w: {"rating": "satisfied"}),
    "complaint": (in_progress, None, "", lambda w: {"feedback": "PAKN-240604-0001"}),
}


def test_every_transition_has_a_case():
    assert set(CASES) == set(services.TRANSITIONS)


@pytest.mark.parametrize("action", sorted(services.TRANSITIONS))
def test_transition(world, action):
    start, who, reason, data = CASES[action]
    d = start(world)
    actor = getattr(world, who) if who else SYSTEM
    before_state, before_version = d.state, d.version
    event = services.act(actor, d, action, now=at(TUE, "09:00"), reason=reason, data=data(world))
    allowed, target = services.TRANSITIONS[action]
    assert before_state in allowed
    d.refresh_from_db()
    assert d.state == (target or before_state)
    assert d.version == before_version + 1
    assert (event.seq, event.action, event.from_state, event.to_state) == (
        before_version + 1,
        action,
        before_state,
        d.state,
    )
    assert event.at == at(TUE, "09:00")
    assert event.reason == reason
    assert AuditEntry.objects.filter(action=f"dossier.{action}", object_id=str(d.pk)).exists()
    assert_consistent(d)


def test_happy_path_through_steps_and_results(world):
    d = returned(world)
    assert events_of(d) == ["submit", "receive", "assign", "propose", "approve", "return_result"]
    assert d.state == State.RETURNED
    assert d.finished_at == at(MON, "15:00") and d.returned_at == at(MON, "16:00")
    assert d.outcome == "early" and d.outcome_original == "early"
    result = DossierResult.objects.get(dossier=d)
    assert result.code == f"{d.code}-KQ1"
    p = services.project(d)
    assert [h.step for h in p.handoffs] == [0, 1, 2, 3]
    assert all(h.outcome for h in p.handoffs)


def test_assign_records_assignee_and_moves_to_processing_step(world):
    d = in_progress(world)
    assert d.assignee_id == world.officer.pk
    assert d.step_index == 1
    assert d.step_due is not None and d.step_due <= d.due


def test_forward_to_another_agency_changes_who_holds_it(world):
    d = in_progress(world)
    act(world.officer, d, "forward", at(MON, "10:00"), agency=world.org.construction.pk)
    assert d.current_agency_id == world.org.construction.pk
    # The justice officer no longer acts on it; the construction officer does.
    with pytest.raises(PermissionDenied):
        act(world.officer, d, "propose", at(MON, "11:00"))
    act(world.outsider, d, "propose", at(MON, "11:00"))
    assert d.state == State.AWAITING_APPROVAL


# -- refusals ---------------------------------------------------------------------------------


def assert_refused(dossier, action, code, error):
    dossier.refresh_from_db()
    assert error.value.code == code
    assert any(r["action"] == action and r["code"] == code for r in refusals(dossier))


@pytest.mark.parametrize(
    ("start", "actor", "action", "words"),
    [
        (received, "desk_officer", "return_result", "chưa được giải quyết xong"),
        (in_progress, "desk_officer", "return_result", "chưa được giải quyết xong"),
        (in_progress, "desk_officer", "supplement_received", "không ở trạng thái tạm dừng"),
        (in_progress, "desk_officer", "obligation_met", "không ở trạng thái tạm dừng"),
        (awaiting_supplement, "desk_officer", "obligation_met", "không ở trạng thái tạm dừng"),
        (returned, "leader", "assign", "đã kết thúc"),
        (returned, "officer", "request_supplement", "đã kết thúc"),
        (returned, "desk_officer", "withdraw", "đã kết thúc"),
        (returned, "officer", "apologise", "đã kết thúc"),
        (resolved, "leader", "approve", "Không thể phê duyệt kết quả"),
        (received, "desk_officer", "receive", "Không thể tiếp nhận hồ sơ"),
        (awaiting_approval, "officer", "forward", "Không thể chuyển xử lý"),
    ],
)
def test_illegal_transitions_are_refused_without_trace(world, start, actor, action, words):
    d = start(world)
    before = (d.state, d.version, events_of(d))
    reason = "Lý do" if action in services.NEEDS_REASON else ""
    data = {"assignee": world.officer.pk} if action == "assign" else {}
    with pytest.raises(InvalidInput) as error:
        act(getattr(world, actor), d, action, at(TUE, "09:00"), reason=reason, **data)
    assert words in error.value.message and d.code in error.value.message
    assert_refused(d, action, "dossier.illegal_transition", error)
    assert (d.state, d.version, events_of(d)) == before


def test_another_agencys_officer_is_refused(world):
    d = in_progress(world)
    version = d.version
    with pytest.raises(PermissionDenied) as error:
        act(world.outsider, d, "request_supplement", at(TUE, "09:00"), reason="Thiếu giấy tờ")
    assert "cơ quan khác" in error.value.message
    assert_refused(d, "request_supplement", "dossier.forbidden", error)
    assert d.version == version and d.state == State.IN_PROGRESS
    # Nor may a citizen or a processing officer do desk work.
    for actor in (world.citizen, world.officer):
        with pytest.raises(PermissionDenied):
            act(actor, d, "withdraw", at(TUE, "09:00"), reason="Rút")


def test_missing_reason_is_refused(world):
    d = in_progress(world)
    for action in ("request_supplement", "refuse", "stop", "apologise"):
        actor = world.leader
        with pytest.raises(InvalidInput) as error:
            act(actor, d, action, at(TUE, "09:00"), reason="   ")
        assert error.value.code == "dossier.reason_required"
        assert "lý do" in error.value.message
    assert events_of(d) == ["submit", "receive", "assign"]
    assert len(refusals(d)) == 4


def test_assignment_outside_the_agency_is_refused(world):
    d = received(world)
    with pytest.raises(InvalidInput) as error:
        act(world.leader, d, "assign", at(MON, "10:00"), assignee=world.outsider.pk)
    assert error.value.code == "dossier.assignee_scope"
    with pytest.raises(InvalidInput) as error:
        act(world.leader, d, "assign", at(MON, "10:00"))
    assert error.value.code == "dossier.assignee"
    assert events_of(d) == ["submit", "receive"]


def test_unknown_action_is_refused(world):
    d = received(world)
    with pytest.raises(InvalidInput) as error:
        act(world.leader, d, "teleport", at(MON, "10:00"))
    assert error.value.code == "dossier.unknown_action"


def test_incomplete_intake_lists_missing_documents_and_creates_nothing(world):
    declaration = world.procedure.documents.get(name__startswith="Tờ khai")
    with pytest.raises(InvalidInput) as error:
        world.intake(components=components_for(world.procedure, skip=declaration.pk))
    assert error.value.code == "dossier.incomplete"
    assert declaration.name in error.value.message
    assert not Dossier.objects.exists() and not CodeCounter.objects.exists()
    # The desk form lists what is missing from `details["missing"]` (BUG: services passes
    # `details={...}` into DomainError's **details, so it lands under details["details"]).
    assert error.value.details.get("missing") == [f"Thiếu «{declaration.name}»."]


def test_bad_applicant_data_is_refused_field_by_field(world):
    with pytest.raises(InvalidInput) as error:
        world.intake(
            applicant=applicant(name=" ", id_number="12ab", phone="09-abc", email="khong-co")
        )
    assert error.value.code == "dossier.applicant"
    assert not Dossier.objects.exists()
    for words in ("họ tên", "Số định danh", "Số điện thoại", "thư điện tử"):
        assert words in error.value.message
    # Same bug as above: the per-field errors are nested under details["details"].
    assert set(error.value.details.get("fields", {})) == {"name", "id_number", "phone", "email"}


def test_illegal_transition_details_name_the_action_and_state(world):
    d = received(world)
    with pytest.raises(InvalidInput) as error:
        act(world.desk_officer, d, "return_result", at(TUE, "09:00"))
    # API clients read these from the error envelope's details (same nesting bug).
    assert error.value.as_dict()["details"] == {"action": "return_result", "state": "received"}


def test_desk_officer_of_another_desk_cannot_receive(world, make_user):
    from cchc.accounts.roles import Role

    other = make_user(Role.DESK_OFFICER, agency=world.org.construction)
    with pytest.raises(PermissionDenied):
        intake.receive_at_desk(
            other,
            desk=world.desk,
            procedure=world.procedure,
            applicant=applicant(),
            components=components_for(world.procedure),
            now=world.now,
        )


# -- pauses -----------------------------------------------------------------------------------


def test_supplement_pause_moves_due_by_the_paused_working_time(world):
    d = awaiting_supplement(world)  # paused Mon 10:00
    assert d.due == at(THU, "09:00") and d.paused_since == at(MON, "10:00")
    act(world.desk_officer, d, "supplement_received", at(TUE, "10:00"))
    assert d.state == State.IN_PROGRESS and d.paused_since is None
    assert d.paused_seconds == 8 * 3600  # one working day
    assert d.original_due == at(THU, "09:00")
    assert d.due == at(FRI, "09:00")


def test_pause_over_a_weekend_counts_only_working_time(world):
    d = in_progress(world)
    act(world.officer, d, "request_obligation", at(FRI, "16:00"), reason="Chờ nộp thuế")
    due_before = d.due
    act(world.desk_officer, d, "obligation_met", at(NEXT_MON, "08:30"))
    paused = legaltime.elapsed(cal(), at(FRI, "16:00"), at(NEXT_MON, "08:30"))
    assert paused == int(2.5 * 3600)  # Fri 16:00–17:30 and Mon 07:30–08:30
    assert d.paused_seconds == paused
    assert legaltime.elapsed(cal(), due_before, d.due) == paused
    assert_consistent(d)


def test_pause_before_the_clock_starts_counts_only_from_the_clock_start(world):
    # Received in the lunch break: the clock starts at 13:30. A supplement asked at 11:40
    # and brought back at 14:30 pauses one working hour, not three.
    d = world.intake(at=at(MON, "11:31"), procedure=world.quick)
    assert d.clock_start == at(MON, "13:30")
    act(world.officer, d, "request_supplement", at(MON, "11:40"), reason="Thiếu bản sao")
    act(world.desk_officer, d, "supplement_received", at(MON, "14:30"))
    assert d.paused_seconds == 3600
    assert d.due == at(TUE, "14:30")
    assert_consistent(d)


def test_second_supplement_request_is_allowed_and_counted(world):
    d = awaiting_supplement(world)
    act(world.desk_officer, d, "supplement_received", at(TUE, "10:00"))
    act(world.officer, d, "request_supplement", at(TUE, "14:00"), reason="Bản sao chưa rõ")
    assert d.state == State.AWAITING_SUPPLEMENT
    assert d.supplement_requests == 2
    act(world.desk_officer, d, "supplement_received", at(WED, "14:00"))
    # Both pauses count: Mon 10:00→Tue 10:00 and Tue 14:00→Wed 14:00, one working day each.
    assert d.paused_seconds == 16 * 3600
    assert d.due == at(NEXT_MON, "09:00")
    assert_consistent(d)


def test_resuming_a_dossier_that_is_not_paused_is_refused(world):
    d = awaiting_supplement(world)
    act(world.desk_officer, d, "supplement_received", at(TUE, "10:00"))
    with pytest.raises(InvalidInput) as error:
        act(world.desk_officer, d, "supplement_received", at(TUE, "11:00"))
    assert error.value.code == "dossier.illegal_transition"
    assert d.paused_seconds == 8 * 3600


# -- apology ----------------------------------------------------------------------------------


def test_apology_proposes_engine_appointment_signed_by_head_of_agency_at_fault(world):
    d = in_progress(world)
    proposed = services.propose_appointment(d, now=at(TUE, "10:00"))
    assert proposed > d.due
    event = act(
        world.officer, d, "apologise", at(TUE, "10:00"), reason="Cần xác minh", delivery="sms"
    )
    assert d.due == proposed and d.original_due == at(THU, "09:00")
    assert d.extensions == 1 and d.has_apology
    data = event.data
    assert data["agency_at_fault"] == world.org.justice.pk
    assert (data["signer_name"], data["signer_title"]) == ("Nguyễn Văn A", "Giám đốc")
    assert data["delivery"] == "sms"
    assert data["previous_due"] == at(THU, "09:00").isoformat()
    assert data["late"] is False and data["warnings"] == []
    # The remaining step budgets (16 h + 2 h + 2 h) from the current due.
    assert legaltime.elapsed(cal(), at(THU, "09:00"), proposed) == 20 * 3600
    assert_consistent(d)


def test_second_reappointment_is_refused(world):
    d = in_progress(world)
    act(world.officer, d, "apologise", at(TUE, "10:00"), reason="Cần xác minh")
    due = d.due
    with pytest.raises(InvalidInput) as error:
        act(world.officer, d, "apologise", at(WED, "10:00"), reason="Lần nữa")
    assert_refused(d, "apologise", "dossier.apology_refused", error)
    assert "1 lần" in error.value.message
    assert d.due == due and d.extensions == 1
    assert events_of(d).count("apologise") == 1


def test_late_apology_warns_and_is_recorded(world):
    d = in_progress(world)
    event = act(world.officer, d, "apologise", at(WED, "14:00"), reason="Chậm xác minh")
    assert event.data["late"] is True
    assert event.data["warnings"] and "Nghị định 107/2021" in event.data["warnings"][0]
    assert d.has_apology


def test_late_apology_refused_when_configured(world, settings):
    settings.CCHC_LATE_APOLOGY = "refuse"
    d = in_progress(world)
    with pytest.raises(InvalidInput) as error:
        act(world.officer, d, "apologise", at(WED, "14:00"), reason="Chậm xác minh")
    assert error.value.code == "dossier.apology_refused"
    assert not d.has_apology


def test_apology_new_due_must_be_later(world):
    d = in_progress(world)
    with pytest.raises(InvalidInput):
        act(
            world.officer,
            d,
            "apologise",
            at(TUE, "10:00"),
            reason="x",
            new_due=at(WED, "09:00").isoformat(),
        )
    assert d.extensions == 0


def test_outcome_is_reported_against_the_extended_and_original_due(world):
    d = in_progress(world)
    act(world.officer, d, "apologise", at(TUE, "10:00"), reason="Cần xác minh")
    assert d.due == at(NEXT_MON, "15:00")  # Thu 09:00 + 20 working hours
    act(world.officer, d, "propose", at(NEXT_MON, "09:00"))
    act(world.leader, d, "approve", at(NEXT_MON, "14:00"))
    assert d.outcome == "on_time"  # within the new appointment
    assert d.outcome_original == "overdue"  # but after the original Thu 09:00


# -- outcome ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finished", "outcome"),
    [
        (at(MON, "15:00"), "early"),  # an earlier date than the due (Tue 09:00)
        (at(TUE, "08:00"), "on_time"),  # same date, before the due instant
        (at(TUE, "09:00"), "on_time"),  # exactly at the due instant
        (at(TUE, "10:00"), "overdue"),
    ],
)
def test_outcome(world, finished, outcome):
    d = world.intake(at=at(MON, "09:00"), procedure=world.quick)
    assert d.due == at(TUE, "09:00")
    act(world.leader, d, "assign", at(MON, "09:10"), assignee=world.officer.pk)
    act(world.officer, d, "propose", at(MON, "09:20"))
    act(world.leader, d, "approve", finished)
    assert (d.finished_at, d.outcome) == (finished, outcome)
    act(world.desk_officer, d, "return_result", finished + dt.timedelta(days=3))
    d.refresh_from_db()
    assert d.outcome == outcome  # finishing is the first terminal event, not the return


def test_refused_after_acceptance_finishes_the_clock(world):
    d = in_progress(world)
    act(world.leader, d, "refuse", at(TUE, "09:00"), reason="Không đủ điều kiện")
    assert d.finished_at == at(TUE, "09:00") and d.outcome == "early"


def test_refused_at_intake_has_no_clock(world):
    d = submitted(world)
    act(world.desk_officer, d, "refuse_intake", at(MON, "09:00"), reason="Sai thẩm quyền")
    assert d.state == State.REFUSED_AT_INTAKE
    assert d.due is None and d.finished_at is None and d.outcome == ""


def test_online_submission_clock_starts_at_receipt(world):
    d = submitted(world)
    assert d.due is None
    services.act(world.desk_officer, d, "receive", now=at(MON, "18:00"))
    d.refresh_from_db()
    assert d.received_at == at(MON, "18:00")
    assert d.clock_start == at(TUE, "07:30")
    assert d.due == at(FRI, "07:30") or d.due == legaltime.due(cal(), at(MON, "18:00"), "3wd")


# -- codes and rule sets ----------------------------------------------------------------------


def test_code_format_and_sequence_per_receiving_agency_per_day(world):
    prefix = world.desk.host_agency.code
    first = world.intake(at=at(MON, "09:00"))
    second = world.intake(at=at(MON, "10:00"))
    online = submitted(world)
    next_day = world.intake(at=at(TUE, "09:00"))
    assert re.fullmatch(rf"{re.escape(prefix)}-\d{{6}}-\d{{4}}", first.code)
    assert [first.code, second.code, online.code, next_day.code] == [
        f"{prefix}-240603-0001",
        f"{prefix}-240603-0002",
        f"{prefix}-240603-0003",
        f"{prefix}-240604-0001",
    ]
    assert first.receiving_agency_id == world.desk.host_agency_id
    assert first.competent_agency_id == world.org.justice.pk


def test_ruleset_in_force_at_receipt(world):
    d = received(world)
    assert d.ruleset == "tt01-2018"
    assert rules.ruleset_on(dt.date(2025, 6, 30)).code == "tt01-2018"
    assert rules.ruleset_on(dt.date(2025, 7, 1)).code == "tt03-2025"
    assert rules.ruleset("tt01-2018").form("apology").number == "04"
    assert rules.ruleset("tt03-2025").form("stop").number == "05"
    with pytest.raises(OverflowError):
        rules.TT01_2018.dossier_code("X", dt.date(2024, 6, 3), 10_000)


# -- append-only events and optimistic concurrency --------------------------------------------


def test_events_are_append_only_in_the_model(world):
    d = received(world)
    event = d.events.first()
    event.reason = "sửa"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
    assert d.events.first().reason == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE dossiers_dossierevent SET reason = 'sửa' WHERE dossier_id = %s",
        "DELETE FROM dossiers_dossierevent WHERE dossier_id = %s",
    ],
)
def test_events_are_append_only_in_the_database(world, sql):
    d = received(world)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [d.pk])
    assert DossierEvent.objects.filter(dossier=d).count() == 2
    assert not DossierEvent.objects.filter(dossier=d, reason="sửa").exists()


def test_stale_expected_version_is_a_conflict(world):
    d = received(world)
    seen = d.version
    act(world.leader, d, "assign", at(MON, "09:30"), assignee=world.officer.pk)
    with pytest.raises(Conflict) as error:
        services.act(
            world.officer,
            d,
            "propose",
            now=at(MON, "10:00"),
            expected_version=seen,
        )
    assert error.value.code == "dossier.conflict"
    assert "người khác cập nhật" in error.value.message
    assert_refused(d, "propose", "dossier.conflict", error)
    assert d.state == State.IN_PROGRESS and events_of(d)[-1] == "assign"
    # With the current version it goes through.
    services.act(world.officer, d, "propose", now=at(MON, "10:00"), expected_version=d.version)
    assert d.state == State.AWAITING_APPROVAL


def test_stale_dossier_object_does_not_lose_an_update(world):
    d = in_progress(world)
    stale = Dossier.objects.get(pk=d.pk)
    act(world.officer, d, "propose", at(MON, "10:00"))
    # The stale copy still says in progress, but the service locks and re-reads the row.
    with pytest.raises(InvalidInput):
        act(world.officer, stale, "propose", at(MON, "10:05"))
    assert events_of(d).count("propose") == 1


# -- recompute after a calendar change --------------------------------------------------------


@pytest.fixture
def storm_day(world):
    """A new calendar version making Wednesday 5/6/2024 a day off."""
    yield legaltime.DayOverride(
        date=dt.date(2024, 6, 5),
        kind=legaltime.DayKind.OFF,
        name="Nghỉ do bão (minh họa)",
        source="Công điện minh họa",
        layer=legaltime.Layer.LOCAL,
    )
    calendars.forget_built_calendars()


def test_recompute_open_dossiers_after_a_new_calendar_version(world, storm_day):
    open_one = in_progress(world)
    closed = world.intake(at=at(MON, "09:00"), procedure=world.quick)
    act(world.leader, closed, "assign", at(MON, "09:10"), assignee=world.officer.pk)
    act(world.officer, closed, "propose", at(MON, "09:20"))
    act(world.leader, closed, "approve", at(TUE, "09:00"))
    act(world.desk_officer, closed, "return_result", at(TUE, "10:00"))
    closed_before = (closed.due, closed.outcome, closed.calendar_version, closed.version)
    assert open_one.due == at(THU, "09:00") and open_one.calendar_version.endswith("@v1")

    calendars.add_version(
        SYSTEM,
        calendars.get_calendar("vn-civil-service"),
        title="Nghỉ do bão",
        source=storm_day.source,
        effective_from=dt.date(2024, 6, 4),
        days=[storm_day],
        now=at(TUE, "12:00"),
    )
    changed = services.recompute_open("vn-civil-service", actor=SYSTEM, now=at(TUE, "13:00"))
    assert changed == 1
    open_one.refresh_from_db()
    closed.refresh_from_db()
    assert open_one.due == at(FRI, "09:00")
    assert open_one.original_due == at(FRI, "09:00")
    assert open_one.calendar_version.endswith("@v2")
    event = open_one.events.order_by("-seq").first()
    assert event.action == "recompute"
    assert dt.datetime.fromisoformat(event.data["due_before"]) == at(THU, "09:00")
    assert (closed.due, closed.outcome, closed.calendar_version, closed.version) == closed_before
    assert "recompute" not in events_of(closed)
    # Running it again changes nothing; both dossiers still replay to what is stored.
    assert services.recompute_open("vn-civil-service", actor=SYSTEM, now=at(TUE, "14:00")) == 0
    assert verify.verify().clean


def test_a_new_calendar_version_recomputes_open_dossiers_once_committed(
    world, storm_day, django_capture_on_commit_callbacks
):
    open_one = in_progress(world)
    assert open_one.due == at(THU, "09:00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        calendars.add_version(
            SYSTEM,
            calendars.get_calendar("vn-civil-service"),
            title="Nghỉ do bão",
            source=storm_day.source,
            effective_from=dt.date(2024, 6, 4),
            days=[storm_day],
            now=at(TUE, "12:00"),
        )
    assert len(callbacks) == 1
    open_one.refresh_from_db()
    assert open_one.due == at(FRI, "09:00") and open_one.calendar_version.endswith("@v2")
    assert open_one.events.order_by("-seq").first().action == "recompute"
    assert verify.verify().clean


# -- verify -----------------------------------------------------------------------------------


def test_verify_is_clean_after_service_writes(world):
    returned(world)
    awaiting_supplement(world)
    submitted(world)
    report = verify.verify(batch=2)
    assert report.checked == 3 and report.clean and report.fixed == []


def test_verify_reports_each_mismatch_and_fix_repairs_with_audit(world):
    d = in_progress(world)
    good = received(world)
    true_due = d.due
    Dossier.objects.filter(pk=d.pk).update(
        due=at(NEXT_MON, "09:00"), state=State.RETURNED, supplement_requests=3
    )
    report = verify.verify()
    assert not report.clean
    found = {(m.code, m.field): (m.stored, m.derived) for m in report.mismatches}
    assert found == {
        (d.code, "due"): (at(NEXT_MON, "09:00"), true_due),
        (d.code, "state"): (State.RETURNED, State.IN_PROGRESS),
        (d.code, "supplement_requests"): (3, 0),
    }
    assert good.code not in report.dossiers_with_mismatches
    assert report.as_dict()["mismatches"][0]["code"] == d.code

    fixed = verify.verify(fix=True, now=at(TUE, "08:00"))
    assert fixed.fixed == [d.code]
    entry = AuditEntry.objects.get(action="dossier.projection_repaired")
    assert entry.object_id == str(d.pk)
    assert set(entry.data["changes"]) == {"due", "state", "supplement_requests"}
    assert verify.verify().clean
    d.refresh_from_db()
    assert d.due == true_due and d.state == State.IN_PROGRESS
    assert DossierEvent.objects.filter(dossier=d).count() == 3  # no event written


def test_verify_checks_the_version_against_the_events(world):
    d = received(world)
    Dossier.objects.filter(pk=d.pk).update(version=7)
    report = verify.verify()
    assert [(m.field, m.stored, m.derived) for m in report.mismatches] == [("version", 7, 2)]
    verify.verify(fix=True)
    d.refresh_from_db()
    assert d.version == 2
    # The next action gets the right sequence number again.
    act(world.leader, d, "assign", at(MON, "10:00"), assignee=world.officer.pk)
    assert list(d.events.values_list("seq", flat=True)) == [1, 2, 3]


def test_payments_and_rating_update_the_projection(world):
    d = paid(world)
    assert (d.paid_amount, d.payment_channel) == (50000, "cash")
    act(world.desk_officer, d, "refund", at(MON, "10:00"), reason="Thu thừa", amount=50000)
    assert (d.paid_amount, d.payment_channel) == (0, "")
    act(SYSTEM, d, "pay", at(MON, "11:00"), amount=30000, channel="2")
    act(world.desk_officer, d, "pay", at(MON, "11:30"), amount=20000, channel="cash")
    assert (d.paid_amount, d.payment_channel) == (50000, "2")  # online is what counts
    assert_consistent(d)


def test_only_the_applicant_rates_and_only_after_return(world):
    d = returned_online(world)
    with pytest.raises(PermissionDenied):
        act(world.desk_officer, d, "rate", at(TUE, "09:00"), rating="satisfied")
    act(world.citizen, d, "rate", at(TUE, "09:00"), rating="dissatisfied", comment="Chờ lâu")
    assert d.rating == "dissatisfied"
    other = in_progress(world)
    with pytest.raises(PermissionDenied):
        act(world.citizen, other, "rate", at(TUE, "09:00"), rating="satisfied")


def test_completion_request_returns_an_online_submission_to_the_citizen(world):
    d = awaiting_completion(world)
    assert d.state == State.AWAITING_COMPLETION and d.is_open and d.due is None
    with pytest.raises(PermissionDenied):
        act(world.outsider, d, "resubmit", at(MON, "09:00"))
    act(world.citizen, d, "resubmit", at(MON, "10:00"))
    assert d.state == State.SUBMITTED
    act(world.desk_officer, d, "receive", at(MON, "10:30"))
    assert d.received_at == at(MON, "10:30")
    assert_consistent(d)
