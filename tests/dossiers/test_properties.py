"""Property: any random valid sequence of transitions, at random increasing instants, leaves
stored columns that `verify` reproduces from the events, and replay is deterministic."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc.accounts.policy import SYSTEM
from cchc.dossiers import intake, services, verify
from cchc.dossiers.models import Dossier
from tests.dossiers.factories import applicant, components_for

pytestmark = pytest.mark.django_db

DESK = {
    "receive",
    "refuse_intake",
    "request_completion",
    "supplement_received",
    "obligation_met",
    "return_result",
    "pay",
    "refund",
}
CITIZEN = {"resubmit", "citizen_upload", "rate"}
LEADER = {"assign", "send_back", "approve", "refuse", "stop"}
ORDER = sorted(services.TRANSITIONS)


def actor_for(world, action):
    if action in DESK or action == "withdraw":
        return world.desk_officer
    if action in LEADER:
        return world.leader
    if action in ("recompute", "complaint"):
        return SYSTEM
    if action in CITIZEN:
        return world.citizen
    return world.officer


def data_for(world, action):
    if action == "assign":
        return {"assignee": world.officer.pk}
    if action == "forward":
        return {"assignee": world.officer2.pk}
    if action == "note":
        return {"note": "Ghi chú"}
    if action == "pay":
        return {"amount": 25000, "channel": "2"}
    if action == "refund":
        return {"amount": 10000}
    if action == "rate":
        return {"rating": "neutral"}
    if action == "complaint":
        return {"feedback": "PAKN-1"}
    return {}


def legal_actions(dossier) -> list[str]:
    out = []
    for action in ORDER:
        allowed, _ = services.TRANSITIONS[action]
        if dossier.state not in allowed:
            continue
        if action == "apologise" and dossier.extensions:
            continue  # a second re-appointment is (rightly) refused: not a valid step
        if action in CITIZEN and dossier.applicant_user_id is None:
            continue  # desk intakes have no applicant account
        out.append(action)
    return out


steps = st.lists(
    st.tuples(st.integers(0, 1000), st.integers(1, 3 * 24 * 60)), min_size=1, max_size=14
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    online=st.booleans(),
    quick=st.booleans(),
    offset=st.integers(0, 30 * 24 * 60),
    moves=steps,
)
def test_random_valid_sequences_replay_to_what_is_stored(world, online, quick, offset, moves):
    procedure = world.quick if quick else world.procedure
    t = world.now + dt.timedelta(minutes=offset)
    if online:
        dossier = intake.submit_online(
            world.citizen,
            desk=world.desk,
            procedure=procedure,
            applicant=applicant(),
            components=components_for(procedure),
            now=t,
        )
    else:
        dossier = world.intake(at=t, procedure=procedure)
    taken = []
    for choice, gap in moves:
        t += dt.timedelta(minutes=gap)
        legal = legal_actions(dossier)
        if not legal:
            break
        action = legal[choice % len(legal)]
        if action == "receive":
            services.act(world.desk_officer, dossier, "receive", now=t)
        else:
            services.act(
                actor_for(world, action),
                dossier,
                action,
                now=t,
                reason="Lý do" if action in services.NEEDS_REASON else "",
                data=data_for(world, action),
            )
        dossier.refresh_from_db()
        taken.append(action)

    report = verify.verify(queryset=Dossier.objects.filter(pk=dossier.pk))
    assert report.clean, (taken, [str(m) for m in report.mismatches], report.errors)
    events = list(dossier.events.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert dossier.version == len(events)
    # The projection of the events is what the row stores, field by field, and replaying
    # freshly loaded events (new objects) gives it again: nothing hangs on object identity
    # or on state kept from an earlier replay.
    first = services.project(dossier, events)
    assert first.stored() == {name: getattr(dossier, name) for name in first.STORED}
    assert services.project(dossier, list(dossier.events.order_by("seq"))) == first
    # A terminal dossier stays terminal, and only finishing events set the finish instant.
    if dossier.finished_at is not None:
        assert dossier.outcome in ("early", "on_time", "overdue")
