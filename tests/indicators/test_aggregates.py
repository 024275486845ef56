"""The cells maintained with every dossier event equal a full recomputation, whatever the
sequence of events (property test), and after the bulk generator."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc.accounts.policy import SYSTEM
from cchc.dossiers import intake, services
from cchc.errors import DomainError, InvalidInput
from cchc.indicators import aggregates, progress
from cchc.indicators.models import Cell
from tests.dossiers.factories import applicant, components_for
from tests.dossiers.test_properties import actor_for, legal_actions
from tests.indicators.conftest import at, make

pytestmark = pytest.mark.django_db


def test_cells_follow_each_event_and_match_a_rebuild(world, online_procedure):
    d = make(
        world,
        at("2024-06-03"),
        approve=at("2024-06-03", "15:00"),
        returned=at("2024-06-03", "16:00"),
    )
    cells = {c.kind: c for c in Cell.objects.all()}
    assert cells["r"].received == 1 and cells["r"].fee_bearing == 1
    assert cells["f"].finished == 1 and cells["f"].early == 1 and cells["f"].returned == 1
    assert cells["f"].day == dt.date(2024, 6, 3)
    assert cells["f"].processing_seconds == 6 * 3600
    assert aggregates.verify().clean
    make(world, at("2024-06-04"), procedure=online_procedure, online=True, pay="1")
    report = aggregates.verify()
    assert report.clean, [str(x) for x in report.differences]
    before = sorted(Cell.objects.values_list("kind", "day", "received", "finished", "paid_online"))
    assert aggregates.rebuild() == 3
    after = sorted(Cell.objects.values_list("kind", "day", "received", "finished", "paid_online"))
    assert before == after
    assert d.outcome == "early"


def test_verify_lists_a_tampered_cell(world):
    make(world, at("2024-06-03"), approve=at("2024-06-04"))
    Cell.objects.filter(kind="f").update(early=5)
    report = aggregates.verify()
    assert not report.clean
    assert report.differences[0].measure == "early"
    assert "early lưu 5, tính lại 1" in str(report.differences[0])
    aggregates.rebuild()
    assert aggregates.verify().clean


def test_repairing_a_projection_keeps_the_cells_in_step(world):
    from cchc.dossiers import verify as dossier_verify
    from cchc.dossiers.models import Dossier

    d = make(world, at("2024-06-03"), approve=at("2024-06-04"))
    # A stored projection gone wrong (e.g. a hand edit): the row and the cells agree with
    # each other but not with the events.
    Dossier.objects.filter(pk=d.pk).update(outcome="overdue")
    aggregates.rebuild()
    assert Cell.objects.get(kind="f").overdue == 1
    assert dossier_verify.repair(SYSTEM, d)
    assert Cell.objects.get(kind="f").overdue == 0 and Cell.objects.get(kind="f").early == 1
    assert aggregates.verify().clean


def test_dossiers_in_progress_at_a_past_instant_are_counted_once_and_kept(world):
    from cchc.indicators.models import Progress, ProgressInstant

    june = at("2024-06-10", "00:00")
    early = make(world, at("2024-06-03"), approve=at("2024-06-04"))  # finished before
    spanning = make(world, at("2024-06-07"))  # received before, still open
    make(world, at("2024-06-11"))  # received after
    first = progress.totals(june, lambda qs: qs)
    assert first == {"in_progress": 1, "in_progress_on_time": 1}
    assert ProgressInstant.objects.count() == 1
    # A second read is served from the stored rows, even if the dossiers are gone from view.
    assert progress.totals(june, lambda qs: qs.none()) == {
        "in_progress": 0,
        "in_progress_on_time": 0,
    }
    # A later event on the spanning dossier (a second supplement request makes it overdue
    # for 766 at every instant it was in progress) updates the stored count.
    for day in ("2024-06-12", "2024-06-13"):
        services.act(
            world.officer, spanning, "request_supplement", now=at(day), reason="Thiếu giấy tờ"
        )
        services.act(world.desk_officer, spanning, "supplement_received", now=at(day, "10:00"))
    assert progress.totals(june, lambda qs: qs) == {"in_progress": 1, "in_progress_on_time": 0}
    assert aggregates.verify().clean
    # Tampering is found; a rebuild forgets the stored instants (counted again on use).
    Progress.objects.update(in_progress=7)
    report = aggregates.verify()
    assert not report.clean and "đếm lại (1, 0)" in report.progress[0]
    aggregates.rebuild()
    assert not ProgressInstant.objects.exists()
    assert progress.totals(june, lambda qs: qs) == {"in_progress": 1, "in_progress_on_time": 0}
    assert early.finished_at < june


def test_a_failed_event_leaves_the_cells_untouched(world):
    d = make(world, at("2024-06-03"))
    cells = list(Cell.objects.values_list("received", flat=True))
    # a dossier just received has no result to return: the transition is refused
    with pytest.raises(InvalidInput) as refused:
        services.act(world.desk_officer, d, "return_result", now=at("2024-06-03", "10:00"))
    assert refused.value.code == "dossier.illegal_transition"
    assert list(Cell.objects.values_list("received", flat=True)) == cells
    assert aggregates.verify().clean


def data_for(world, action, dossier):
    if action == "assign":
        return {"assignee": world.officer.pk}
    if action == "forward":
        return {"assignee": world.officer2.pk}
    if action == "note":
        return {"note": "Ghi chú"}
    if action == "pay":
        return {"amount": 200_000, "channel": "1" if dossier.channel == 2 else "cash"}
    if action == "refund":
        return {"amount": 50_000}
    if action == "rate":
        return {"rating": "dissatisfied"}
    if action == "complaint":
        return {"feedback": "PAKN-1"}
    return {}


ACTORS = {"pay": SYSTEM, "refund": SYSTEM, "complaint": SYSTEM}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    dossiers=st.lists(
        st.tuples(
            st.booleans(),
            st.booleans(),
            st.integers(0, 20 * 24 * 60),
            st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 3 * 24 * 60)), max_size=12),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_random_event_sequences_keep_cells_equal_to_a_recomputation(world, dossiers):
    # Report instants counted before the events: the events must keep them up to date.
    for days in (1, 2, 4, 8, 16):
        progress.counted(world.now + dt.timedelta(days=days, hours=3))
    for online, quick, offset, moves in dossiers:
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
        for choice, gap in moves:
            t += dt.timedelta(minutes=gap)
            legal = [a for a in legal_actions(dossier) if a != "citizen_upload"]
            if dossier.paid_amount == 0:
                legal = [a for a in legal if a != "refund"]
            if dossier.applicant_user_id is None:
                legal = [a for a in legal if a not in ("rate", "resubmit")]
            if not legal:
                break
            action = legal[choice % len(legal)]
            if action in ("rate", "resubmit", "withdraw") and dossier.applicant_user_id:
                actor = world.citizen
            else:
                actor = ACTORS.get(action) or actor_for(world, action)
            try:
                services.act(
                    actor,
                    dossier,
                    action,
                    now=t,
                    reason="Lý do" if action in services.NEEDS_REASON else "",
                    data=data_for(world, action, dossier),
                )
            except DomainError:  # a refused step is not a step; keep going
                continue
            finally:
                dossier.refresh_from_db()
    report = aggregates.verify()
    assert report.clean, [str(x) for x in report.differences]


def test_bulk_generation_leaves_verified_aggregates(world, make_user, online_procedure):
    from cchc.accounts.roles import Role
    from cchc.demo import generator as bulk
    from cchc.dossiers.models import Dossier
    from tests.conftest import VN

    org = world.org
    staff = bulk.Staff(
        desk_officers=[world.desk_officer],
        officers={org.justice.pk: [world.officer], org.construction.pk: [world.outsider]},
        leaders={
            org.justice.pk: [world.leader],
            org.construction.pk: [make_user(Role.AGENCY_LEADER, agency=org.construction)],
        },
        citizens=[world.citizen],
    )
    bulk.generate(
        200,
        seed=3,
        start=dt.datetime(2024, 1, 2, 8, 0, tzinfo=VN),
        end=dt.datetime(2024, 6, 1, 8, 0, tzinfo=VN),
        desk=world.desk,
        procedures=[world.procedure, world.quick, online_procedure],
        agencies=[org.justice, org.construction],
        users=staff,
        now=dt.datetime(2024, 6, 20, 10, 0, tzinfo=VN),
    )
    assert Dossier.objects.filter(fee_total=200_000).exists()
    assert Dossier.objects.filter(digitised=True).exists()
    for d in Dossier.objects.filter(channel=2).exclude(procedure=world.quick)[:5]:
        assert d.digitised
    report = aggregates.verify()
    assert report.clean, [str(x) for x in report.differences][:5]
    assert Cell.objects.filter(kind="f").exists()


def test_snapshot_counts_each_passed_report_instant_once(world, capsys):
    from django.core.management import call_command

    from cchc.indicators.models import ProgressInstant

    make(world, at("2024-05-28"))  # open across the June instants
    make(world, at("2024-05-30"), approve=at("2024-06-03"))  # finished after 1/6
    call_command("indicators", "snapshot", "--now", "2024-06-20T09:00")
    instants = sorted(
        timezone_local(i) for i in ProgressInstant.objects.values_list("instant", flat=True)
    )
    # Every month start of 2023 and 2024 up to now, the PAR cut-offs (15/3, 15/6, 15/9,
    # 15/12 of 2023; 15/3, 15/6 of 2024) and 1/1/2024.
    assert instants[0] == "2023-01-01 00:00" and instants[-1] == "2024-06-15 00:00"
    assert "2024-06-01 00:00" in instants and "2023-12-15 00:00" in instants
    assert len(instants) == 12 + 4 + 6 + 2
    assert "Thời điểm báo cáo mới được đếm: 24." in capsys.readouterr().out
    june = at("2024-06-01", "00:00")
    assert progress.totals(june, lambda qs: qs)["in_progress"] == 2
    assert progress.totals(at("2024-06-15", "00:00"), lambda qs: qs)["in_progress"] == 1
    call_command("indicators", "snapshot", "--now", "2024-06-20T10:00")
    assert "Thời điểm báo cáo mới được đếm: 0." in capsys.readouterr().out
    assert aggregates.verify().clean


def timezone_local(instant):
    from cchc import legaltime

    return instant.astimezone(legaltime.VN_TZ).strftime("%Y-%m-%d %H:%M")
