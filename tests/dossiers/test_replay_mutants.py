"""The projection of a dossier's events (`cchc.dossiers.replay.project`), without the
database: tests written against mutants that survived `make mutate` (scripts/mutate.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from cchc import legaltime
from cchc.dossiers.models import State
from cchc.dossiers.replay import Projection, project

VN = legaltime.VN_TZ


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, month, day, hour, minute, tzinfo=VN)


@dataclass
class Event:
    seq: int
    action: str
    to_state: str
    at: dt.datetime
    data: dict[str, Any] = field(default_factory=dict)
    actor_label: str = "Cán bộ một cửa"


@pytest.fixture(scope="module")
def cal() -> legaltime.Calendar:
    return legaltime.default_calendar()


def replay(cal: legaltime.Calendar, *moves: tuple[str, str, dt.datetime, dict[str, Any]]):
    events = [
        Event(seq, action, state, instant, data)
        for seq, (action, state, instant, data) in enumerate(moves, start=1)
    ]
    return project(
        duration_spec="3wd",
        step_plan=[],
        competent_agency_id=7,
        events=events,
        calendar=lambda version: cal,
    )


RECEIVE = ("receive", State.RECEIVED, at(3, 4, 9), {})  # Monday; due Thursday 7/3 9:00


def test_received_dossier_runs_its_clock(cal: legaltime.Calendar) -> None:
    p = replay(cal, RECEIVE)
    assert p.due == at(3, 7, 9)
    assert p.is_open and p.finished_at is None and p.outcome == ""
    assert p.current_agency_id == 7 and p.queue_at == p.due


def test_withdrawal_finishes_the_clock(cal: legaltime.Calendar) -> None:
    p = replay(cal, RECEIVE, ("withdraw", State.WITHDRAWN, at(3, 5, 10), {}))
    assert p.finished_at == at(3, 5, 10)
    assert not p.is_open
    assert p.outcome == legaltime.Outcome.EARLY
    assert p.returned_at is None


def test_paused_since_is_the_open_pause_not_a_closed_one(cal: legaltime.Calendar) -> None:
    p = replay(
        cal,
        RECEIVE,
        ("request_supplement", State.AWAITING_SUPPLEMENT, at(3, 5, 9), {}),
        ("supplement_received", State.IN_PROGRESS, at(3, 5, 10), {}),
        ("request_supplement", State.AWAITING_SUPPLEMENT, at(3, 6, 9), {}),
    )
    assert p.paused_since == at(3, 6, 9)
    assert p.supplement_requests == 2
    # only the closed hour counts so far
    assert p.paused_seconds == 3600
    assert p.due == at(3, 7, 10)


def test_no_paused_since_once_resumed(cal: legaltime.Calendar) -> None:
    p = replay(
        cal,
        RECEIVE,
        ("request_supplement", State.AWAITING_SUPPLEMENT, at(3, 5, 9), {}),
        ("supplement_received", State.IN_PROGRESS, at(3, 5, 10), {}),
    )
    assert p.paused_since is None
    assert p.closed_pauses == [(at(3, 5, 9), at(3, 5, 10))]


def test_pauses_after_an_apology_move_the_reappointed_due(cal: legaltime.Calendar) -> None:
    new_due = at(3, 12, 9)
    p = replay(
        cal,
        RECEIVE,
        # a pause before the apology is part of the new appointment already
        ("request_supplement", State.AWAITING_SUPPLEMENT, at(3, 5, 9), {}),
        ("supplement_received", State.IN_PROGRESS, at(3, 5, 10), {}),
        ("apologise", State.IN_PROGRESS, at(3, 6, 9), {"new_due": new_due.isoformat()}),
        # two working hours of pause after it push the new appointment later
        ("request_supplement", State.AWAITING_SUPPLEMENT, at(3, 8, 9), {}),
        ("supplement_received", State.IN_PROGRESS, at(3, 8, 11), {}),
    )
    assert p.extensions == 1 and p.has_apology
    assert p.due == at(3, 12, 11)
    assert p.original_due == at(3, 7, 9)
    assert p.paused_seconds == 3 * 3600


def test_reappointed_due_without_later_pauses_is_the_new_appointment(
    cal: legaltime.Calendar,
) -> None:
    new_due = at(3, 12, 9)
    p = replay(
        cal,
        RECEIVE,
        ("apologise", State.IN_PROGRESS, at(3, 6, 9), {"new_due": new_due.isoformat()}),
        ("return_result", State.RETURNED, at(3, 11, 9), {}),
    )
    assert p.due == new_due
    # finished before the new appointment: on time against it, late against the law's due
    assert p.outcome == legaltime.Outcome.EARLY
    assert p.outcome_original == legaltime.Outcome.OVERDUE
    assert p.returned_at == at(3, 11, 9)


def test_stored_fields_are_the_projection_values() -> None:
    p = Projection(paused_seconds=5)
    stored = p.stored()
    assert stored["paused_seconds"] == 5
    assert stored["state"] == State.SUBMITTED
    assert set(stored) == set(Projection.STORED)


def test_a_stop_after_acceptance_finishes_the_clock(cal: legaltime.Calendar) -> None:
    p = replay(cal, RECEIVE, ("stop", State.STOPPED, at(3, 8, 9), {}))
    assert p.finished_at == at(3, 8, 9)
    assert p.outcome == legaltime.Outcome.OVERDUE
    assert not p.is_open


def test_a_submission_not_yet_received_stores_the_defaults(cal: legaltime.Calendar) -> None:
    p = replay(cal, ("submit", State.SUBMITTED, at(3, 4, 8), {}))
    assert p.stored() == {
        "state": State.SUBMITTED,
        "is_open": True,
        "queue_at": at(3, 4, 8),
        "received_at": None,
        "clock_start": None,
        "original_due": None,
        "due": None,
        "paused_seconds": 0,
        "paused_since": None,
        "calendar_version": "",
        "extensions": 0,
        "supplement_requests": 0,
        "step_index": 0,
        "step_due": None,
        "current_agency_id": 7,
        "assignee_id": None,
        "finished_at": None,
        "returned_at": None,
        "outcome": "",
        "outcome_original": "",
        "has_apology": False,
        "paid_amount": 0,
        "payment_channel": "",
        "rating": "",
        "has_complaint": False,
    }
    assert Projection().is_open is True


def test_an_imported_dossier_keeps_the_source_systems_appointment(
    cal: legaltime.Calendar,
) -> None:
    data = {
        "received_at": at(3, 4, 9).isoformat(),
        "due": at(3, 20, 17).isoformat(),
        "finished_at": at(3, 21, 9).isoformat(),
        "returned_at": at(3, 21, 10).isoformat(),
        "supplements": 1,
    }
    p = replay(cal, ("import", State.RETURNED, at(4, 1, 9), data))
    assert p.due == p.original_due == at(3, 20, 17)
    assert p.clock_start == at(3, 4, 9)
    assert p.outcome == p.outcome_original == legaltime.Outcome.OVERDUE
    assert p.supplement_requests == 1 and p.queue_at == at(3, 20, 17)
    assert p.calendar_version == ""  # not recomputed on our calendar


def test_handoffs_are_named_and_judged_per_step(cal: legaltime.Calendar) -> None:
    events = [
        Event(1, "receive", State.RECEIVED, at(3, 4, 9)),
        Event(2, "forward", State.IN_PROGRESS, at(3, 4, 10), {"step": 1}),
        Event(3, "forward", State.IN_PROGRESS, at(3, 8, 10), {"step": 2}),
        Event(4, "forward", State.IN_PROGRESS, at(3, 8, 11), {"step": 3}),
    ]
    p = project(
        duration_spec="3wd",
        step_plan=[{"name": "Tiếp nhận", "budget": "2wh"}, {"name": "Thẩm định", "budget": "1wd"}],
        competent_agency_id=7,
        events=events,
        calendar=lambda version: cal,
    )
    assert [(h.step, h.step_name) for h in p.handoffs] == [
        (0, "Tiếp nhận"),
        (1, "Thẩm định"),
        (2, "Bước 3"),  # a step beyond the plan keeps a name
    ]
    assert [h.step_due for h in p.handoffs] == [at(3, 4, 11), at(3, 5, 11), None]
    assert [h.outcome for h in p.handoffs] == ["on_time", "overdue", ""]
    assert p.step_dues == [at(3, 4, 11), at(3, 5, 11)]
    assert p.step_index == 3 and p.step_due is None


@pytest.mark.parametrize("action,state", [("refuse", State.REFUSED), ("stop", State.STOPPED)])
def test_refusal_and_stop_finish_the_clock_and_close_the_step(
    cal: legaltime.Calendar, action: str, state: str
) -> None:
    p = replay(cal, RECEIVE, (action, state, at(3, 5, 10), {"note": "thiếu căn cứ"}))
    assert p.finished_at == at(3, 5, 10)
    assert [(h.giver, h.receiver, h.note) for h in p.handoffs] == [
        ("Cán bộ một cửa", "", "thiếu căn cứ")
    ]


def test_the_control_slip_names_giver_and_receiver(cal: legaltime.Calendar) -> None:
    p = replay(
        cal,
        RECEIVE,
        (
            "assign",
            State.IN_PROGRESS,
            at(3, 4, 10),
            {"assignee": 5, "receiver_label": "Chuyên viên B", "handoff": True, "step": 0},
        ),
        ("forward", State.IN_PROGRESS, at(3, 5, 9), {"step": 1}),
        ("return_result", State.RETURNED, at(3, 6, 9), {}),
    )
    # the desk's hand-over is given by whoever received the dossier; a hand-off without a
    # named receiver leaves the holder as it was; the result goes back to the applicant
    assert [(h.giver, h.receiver) for h in p.handoffs] == [
        ("Cán bộ một cửa", "Chuyên viên B"),
        ("Cán bộ một cửa", ""),
        ("Cán bộ một cửa", "Người nộp hồ sơ"),
    ]
    assert p.assignee_id == 5
    assert p.returned_at == at(3, 6, 9)


def test_an_online_payment_is_kept_over_cash_in_either_order(cal: legaltime.Calendar) -> None:
    cash = {"amount": 50_000, "channel": "cash", "receipt": "R1"}
    online = {"amount": 150_000, "channel": "vnpay", "order": "T1", "receipt": "R2"}
    first_cash = replay(
        cal,
        RECEIVE,
        ("pay", State.RECEIVED, at(3, 4, 10), cash),
        ("pay", State.RECEIVED, at(3, 4, 11), online),
    )
    first_online = replay(
        cal,
        RECEIVE,
        ("pay", State.RECEIVED, at(3, 4, 10), online),
        ("pay", State.RECEIVED, at(3, 4, 11), cash),
    )
    assert (first_cash.payment_channel, first_cash.paid_amount) == ("vnpay", 200_000)
    assert (first_online.payment_channel, first_online.paid_amount) == ("vnpay", 200_000)
    only_cash = replay(cal, RECEIVE, ("pay", State.RECEIVED, at(3, 4, 10), cash))
    assert only_cash.payment_channel == "cash"


def test_a_complaint_marks_the_dossier(cal: legaltime.Calendar) -> None:
    assert not replay(cal, RECEIVE).has_complaint
    p = replay(cal, RECEIVE, ("complaint", State.RECEIVED, at(3, 5, 9), {"feedback": "PAKN-1"}))
    assert p.has_complaint


IMPORT_FACTS = {
    "received_at": "2024-03-04T09:00:00+07:00",
    "finished_at": "2024-03-06T09:00:00+07:00",
    "returned_at": "2024-03-07T09:00:00+07:00",
    "due": "2024-03-07T09:00:00+07:00",
    "supplements": 1,
    "paid_amount": 200_000,
    "payment_channel": "vnpay",
    "rating": "satisfied",
    "complaint": True,
}


def test_an_import_update_replaces_every_fact_of_the_import(cal: legaltime.Calendar) -> None:
    p = replay(
        cal,
        ("import", State.RETURNED, at(3, 7, 9), {}),
        ("import_update", State.RETURNED, at(3, 8, 9), IMPORT_FACTS),
    )
    assert (p.received_at, p.finished_at, p.returned_at) == (
        at(3, 4, 9),
        at(3, 6, 9),
        at(3, 7, 9),
    )
    assert (p.supplement_requests, p.paid_amount, p.payment_channel) == (1, 200_000, "vnpay")
    assert (p.rating, p.has_complaint) == ("satisfied", True)
    assert p.due == at(3, 7, 9) and p.outcome == legaltime.Outcome.EARLY
    # a later import without those facts clears them (the source system is the record)
    q = replay(
        cal,
        ("import", State.RETURNED, at(3, 7, 9), IMPORT_FACTS),
        ("import_update", State.IN_PROGRESS, at(3, 8, 9), {"due": IMPORT_FACTS["due"]}),
    )
    assert (q.finished_at, q.returned_at, q.supplement_requests) == (None, None, 0)
    assert (q.paid_amount, q.payment_channel, q.rating, q.has_complaint) == (0, "", "", False)
    assert q.outcome == ""


def test_an_imported_clock_without_a_finish_has_no_outcome(cal: legaltime.Calendar) -> None:
    facts = {k: v for k, v in IMPORT_FACTS.items() if k != "finished_at"}
    p = replay(cal, ("import", State.IN_PROGRESS, at(3, 7, 9), facts))
    assert p.finished_at is None and p.due == at(3, 7, 9) and p.outcome == ""


def test_the_desk_hand_over_is_given_by_the_receiver_and_holders_carry_on(
    cal: legaltime.Calendar,
) -> None:
    """An assignment is handed over by whoever holds the dossier (the desk officer who
    received it, then the last named receiver), not by the leader who assigns."""
    events = [
        Event(1, "receive", State.RECEIVED, at(3, 4, 9), {}, "Cán bộ một cửa"),
        Event(
            2,
            "assign",
            State.IN_PROGRESS,
            at(3, 4, 10),
            {"assignee": 5, "receiver_label": "Chuyên viên B", "handoff": True, "step": 0},
            "Lãnh đạo Sở",
        ),
        Event(3, "forward", State.IN_PROGRESS, at(3, 5, 9), {"step": 1}, "Chuyên viên B"),
        Event(
            4,
            "assign",
            State.IN_PROGRESS,
            at(3, 5, 10),
            {"assignee": 6, "receiver_label": "Chuyên viên C", "handoff": True},
            "Lãnh đạo Sở",
        ),
    ]
    p = project(
        duration_spec="3wd",
        step_plan=[],
        competent_agency_id=7,
        events=events,
        calendar=lambda version: cal,
    )
    assert [(h.giver, h.receiver) for h in p.handoffs] == [
        ("Cán bộ một cửa", "Chuyên viên B"),
        ("Chuyên viên B", ""),
        ("Chuyên viên B", "Chuyên viên C"),
    ]
