"""The 766 index on the hand-computed June 2024 data set (see test_plan213.june)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cchc.indicators import periods, services
from cchc.indicators.score766 import score
from cchc.indicators.services import Filters
from tests.conftest import VN
from tests.indicators.conftest import at, make
from tests.indicators.test_plan213 import NOW

pytestmark = pytest.mark.django_db
JUNE = periods.parse("2024-06")
D = Decimal


def subs(idx):
    return {s.code: s for g in idx.groups for s in g.subs}


def test_scoring_rule():
    assert score(D(85), D(4), D(80)) == D(4)
    assert score(D(40), D(4), D(80)) == D(2)
    assert score(D(50), D(6), None) == D(3)
    assert score(None, D(6), None) is None


def test_index766_june(june):
    idx = services.index766(JUNE, now=NOW)
    s = subs(idx)
    # 1: three active procedures; none has a publication decision; only the first has
    # documents, steps and levels (all 7 parts)
    assert (s["1b"].numerator, s["1b"].denominator, s["1b"].points) == (0, 3, D("0.00"))
    assert (s["1c"].numerator, s["1c"].rate, s["1c"].points) == (1, D("33.33"), D("0.67"))
    assert s["1a"].points is None and s["1a"].no_data_reason and s["1a"].evidence == "S"
    assert s["1d"].points is None
    # 2a: finished 6, of which C, D (overdue) and E (2 supplements) count as overdue;
    # in progress at 1/7 00:00: G (due 3/7, on time), H, I, J (overdue) -> (3 + 1) ÷ (6 + 4)
    a2 = s["2a"]
    assert (a2.numerator, a2.denominator, a2.rate, a2.points) == (4, 10, D("40.00"), D("8.00"))
    assert a2.evidence == "V" and "÷" in a2.formula and "20" in a2.formula
    assert s["2b"].points is None and s["2b"].max_points == 0
    # 4 (online services): online services 1/3 (threshold 80 %), used 1/1, online dossiers
    # 1/9 (threshold 50 %), fee procedures paid online 1/2, dossiers paid online 1 of 8
    assert (s["4a"].rate, s["4a"].points) == (D("33.33"), D("1.67"))
    assert (s["4b"].rate, s["4b"].points) == (D("100.00"), D("2.00"))
    assert (s["4c"].numerator, s["4c"].denominator, s["4c"].points) == (1, 9, D("1.33"))
    assert s["4d"].points is None
    assert (s["4e"].numerator, s["4e"].denominator, s["4e"].points) == (1, 2, D("1.00"))
    assert (s["4f"].numerator, s["4f"].denominator, s["4f"].points) == (1, 8, D("0.75"))
    # 3 (digitisation): A was returned with a paper result; nothing digitised or reused
    assert (s["3a"].numerator, s["3a"].denominator, s["3a"].points) == (0, 1, D("0.00"))
    assert (s["3b"].denominator, s["3b"].points) == (9, D("0.00"))
    assert s["3c"].points is None and s["3e"].points is None and s["3f"].points is None
    # 5: no feedback -> no data; dossiers (6 − 3 overdue) ÷ 6 = 50 % against 90 %
    assert s["5a"].points is None and s["5b"].points is None
    assert (s["5c"].numerator, s["5c"].denominator, s["5c"].points) == (3, 6, D("3.33"))
    groups = {g.code: g for g in idx.groups}
    assert [groups[c].points for c in "12345"] == [
        D("0.67"),
        D("8.00"),
        D("0.00"),
        D("6.75"),
        D("3.33"),
    ]
    assert [groups[c].max_points for c in "12345"] == [D(6), D(20), D(14), D(20), D(6)]
    assert groups["3"].nominal_max == D(22)
    assert (idx.total, idx.max_total) == (D("18.75"), D(66))
    assert idx.total_100 == D("28.41")


def test_second_supplement_is_overdue_for_766_only(world):
    mon = "2024-06-03"
    make(world, at(mon), supplements=2, approve=at(mon, "15:00"))
    make(world, at(mon), supplements=1, approve=at(mon, "15:00"))
    now = dt.datetime(2024, 7, 10, tzinfo=VN)
    r = {x.code: x for x in services.plan_results("bac-giang-2024", JUNE, now=now)}
    assert (r["T4"].numerator, r["T4"].denominator) == (2, 2)
    s = subs(services.index766(JUNE, now=now))
    assert (s["2a"].numerator, s["2a"].denominator) == (1, 2)


def test_satisfaction_with_dossiers_5c(world, online_procedure):
    mon = "2024-06-03"
    make(
        world,
        at(mon),
        online=True,
        approve=at(mon, "15:00"),
        returned=at(mon, "16:00"),
        rating="dissatisfied",
    )
    make(
        world,
        at(mon),
        online=True,
        approve=at(mon, "15:00"),
        returned=at(mon, "16:00"),
        rating="satisfied",
    )
    make(world, at(mon), approve=at(mon, "15:00"), complaint=True)
    make(world, at(mon), approve=at("2024-06-20"))
    s = subs(services.index766(JUNE, now=dt.datetime(2024, 7, 10, tzinfo=VN)))
    assert (s["5c"].numerator, s["5c"].denominator, s["5c"].rate) == (1, 4, D("25.00"))
    assert s["5c"].points == D("1.67")  # 25 % × 6 ÷ 90 %


def test_no_dossiers_means_no_data_not_zero(world):
    idx = services.index766(JUNE, Filters(), now=dt.datetime(2024, 7, 10, tzinfo=VN))
    s = subs(idx)
    for code in ("2a", "4c", "4f", "3a", "3b", "5c"):
        assert s[code].points is None and s[code].rate is None, code
        assert "Không có dữ liệu" in s[code].formula


def test_feedback_handled_on_time_and_satisfaction_5a_5b(world):
    from cchc.feedback import services as pakn

    def file(sender=None):
        return pakn.submit(
            sender,
            pakn.Submission(
                name="Nguyễn Thị Hoà",
                phone="0912345678",
                email="hoa@example.vn",
                subject="Chậm trả kết quả",
                content="Hồ sơ của tôi đã quá hẹn mà chưa có kết quả.",
                agency_id=world.org.justice.pk,
            ),
            now=at("2024-06-07"),
        )

    f1 = file(world.citizen)  # on time, published in June, rated satisfied
    pakn.accept(world.leader, f1, now=at("2024-06-10"))
    pakn.answer(world.leader, f1, text="Trả lời.", now=at("2024-06-11"))
    pakn.publish(world.leader, f1, now=at("2024-06-12"))
    pakn.rate(world.citizen, f1, satisfaction="satisfied", now=at("2024-06-13"))
    f2 = file()  # rejected in time: handled on time
    pakn.reject(world.officer, f2, reason="Không thuộc thẩm quyền.", now=at("2024-06-10"))
    f3 = file()  # late, closed in July: not in June
    pakn.accept(world.leader, f3, now=at("2024-06-12"))
    pakn.answer(world.leader, f3, text="Trả lời muộn.", now=at("2024-07-01"))
    pakn.publish(world.leader, f3, now=at("2024-07-02"))
    f4 = file(world.citizen)  # late, closed in June, rated dissatisfied
    pakn.accept(world.leader, f4, now=at("2024-06-12"))
    pakn.answer(world.leader, f4, text="Trả lời.", now=at("2024-06-20"))
    pakn.publish(world.leader, f4, now=at("2024-06-21"))
    pakn.rate(
        world.citizen, f4, satisfaction="dissatisfied", reasons=["late"], now=at("2024-06-22")
    )
    s = subs(services.index766(JUNE, now=dt.datetime(2024, 7, 10, tzinfo=VN)))
    assert (s["5a"].numerator, s["5a"].denominator, s["5a"].points) == (2, 3, D("4.00"))
    assert (s["5b"].numerator, s["5b"].denominator, s["5b"].points) == (1, 2, D("3.00"))
    scope = Filters(unit_id=world.org.province_2024.pk)
    drill = services.drilldown("5a", JUNE, scope, "denominator", user=world.supervisor)
    assert {f.pk for f in drill.queryset} == {f1.pk, f2.pk, f4.pk}


def test_digitisation_group_3_and_processing_time_2b(world, online_procedure):
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.services import ProcedureData, save_procedure
    from cchc.dossiers import files
    from cchc.dossiers.intake import Component
    from cchc.dossiers.models import DigitisedComponent
    from tests.dossiers.factories import components_for

    mon = "2024-06-03"
    # an electronic result, returned (3a); its document reuses the applicant's scan made for
    # a dossier received in May (3b, 3d: digitised and reused are facts, issue 21)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    scanned = [
        Component(document_id=c.document_id, originals=c.originals, copies=c.copies,
                  uploads=[files.check("don.pdf", pdf)])
        for c in components_for(online_procedure)
    ]  # fmt: skip
    earlier = world.intake(at=at("2024-05-31"), procedure=online_procedure, components=scanned)
    scan = DigitisedComponent.objects.get(dossier=earlier)
    reusing = [
        Component(document_id=c.document_id, reuse=scan.pk)
        for c in components_for(online_procedure)
    ]
    d = world.intake(at=at(mon), procedure=online_procedure, components=reusing)
    assert d.digitised and d.reused_data
    make_returned = make(world, at(mon), approve=at(mon, "15:00"), returned=at(mon, "16:00"))
    assert not make_returned.digitised
    from cchc.accounts.roles import Role
    from tests.factories import make_user
    from tests.indicators.conftest import act

    leader = make_user(Role.AGENCY_LEADER, now=world.now, agency=world.org.construction)
    act(leader, d, "assign", at(mon, "09:10"), assignee=leader.pk)
    act(leader, d, "propose", at(mon, "10:30"))
    act(leader, d, "approve", at(mon, "11:00"))
    act(world.desk_officer, d, "return_result", at(mon, "11:30"))
    save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000003",
            name="Đăng ký khai sinh",
            field_name="Hộ tịch",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(1),
            population_data_connected=True,
        ),
        now=world.now,
    )
    s = subs(services.index766(JUNE, now=dt.datetime(2024, 7, 10, tzinfo=VN)))
    assert (s["3a"].numerator, s["3a"].denominator, s["3a"].points) == (1, 2, D("3.00"))
    # 3b: 1 of 2 digitised = 50 % against 80 % -> 4 × 50 ÷ 80
    assert (s["3b"].numerator, s["3b"].denominator, s["3b"].points) == (1, 2, D("2.50"))
    assert (s["3d"].numerator, s["3d"].points) == (1, D("1.25"))
    assert (s["3g"].numerator, s["3g"].denominator) == (1, 4)
    # 2b: (2 h + 6 h) ÷ 2 dossiers = 4 hours on average (monitored, no points)
    assert (s["2b"].rate, s["2b"].points, s["2b"].unit) == (D("4.00"), None, "giờ")
