"""The agency leader's section of the agency page (issue 18, item 2) and its drill pages:
exact counts against hand-built dossiers whose step delays are worked out by hand from the
calendar (sessions 07:30–11:30 and 13:30–17:30, June 2024 without holidays), the bottleneck
ranking, scope (a leader of another agency is refused), masking of personal data in the page
and the downloads, and a number of queries that does not grow with the data."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.dashboard.conftest import PASSWORD
from tests.dossiers.conftest import World, at

pytestmark = pytest.mark.django_db

JUNE = "2024-06"
NOW = at("2024-06-20", "10:00")  # the reading instant: every open dossier below is overdue
HOUR = 3600


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def scenario(w: World) -> dict[str, Any]:
    """Procedure 1.000001 has four steps: 4 h, 16 h, 2 h, 2 h (3 working days in all).
    Received Monday 3/6 09:00, the cumulative step deadlines are: step 1 Mon 15:00,
    step 2 Wed 15:00, step 3 Wed 17:00.

    A: assigned Tue 10:00 (step 1 late by Mon 15:00–17:30 + Tue 07:30–10:00 = 5 h),
       proposed Wed 14:00 (step 2 on time), approved Thu 08:30 (step 3 late by
       Wed 17:00–17:30 + Thu 07:30–08:30 = 1.5 h).
    B: assigned Mon 10:00 (on time), proposed Thu 09:00 (step 2 late by Wed 15:00–17:30 +
       Thu 07:30–09:00 = 4 h), approved Thu 09:30 (step 3 late by 0.5 h + 2 h = 2.5 h).
    C: assigned Mon 09:30 to officer2 and left open: overdue now, and sitting at step 2
       past its deadline.
    D: a dossier of Sở Xây dựng (another agency), late at step 1: never counted here."""
    from cchc.dossiers import services
    from tests.dossiers.factories import applicant

    mon, tue, wed, thu = "2024-06-03", "2024-06-04", "2024-06-05", "2024-06-06"

    def run(d: Any, steps: list[tuple[Any, str, str, str, dict[str, Any] | None]]) -> Any:
        for actor, action, day, hm, data in steps:
            services.act(actor, d, action, now=at(day, hm), data=data)
        d.refresh_from_db()
        return d

    a = w.intake(at=at(mon, "09:00"), applicant=applicant(name="Trần Văn Ánh"))
    run(
        a,
        [
            (w.leader, "assign", tue, "10:00", {"assignee": w.officer.pk}),
            (w.officer, "propose", wed, "14:00", None),
            (w.leader, "approve", thu, "08:30", None),
        ],
    )
    b = w.intake(at=at(mon, "09:00"), applicant=applicant(name="Lê Thị Bích"))
    run(
        b,
        [
            (w.leader, "assign", mon, "10:00", {"assignee": w.officer.pk}),
            (w.officer, "propose", thu, "09:00", None),
            (w.leader, "approve", thu, "09:30", None),
        ],
    )
    c = w.intake(at=at(mon, "09:00"), applicant=applicant(name="Phạm Văn Cường"))
    run(c, [(w.leader, "assign", mon, "09:30", {"assignee": w.officer2.pk})])
    other = _construction(w)
    d = w.intake(at=at(mon, "09:00"), procedure=other["procedure"])
    run(d, [(other["leader"], "assign", tue, "10:00", {"assignee": w.outsider.pk})])
    # Open at Sở Xây dựng and not yet due at NOW: the province has two agencies with open
    # dossiers (C, D overdue; E not).
    e = w.intake(at=at("2024-06-20", "08:00"), procedure=other["procedure"])
    return {"a": a, "b": b, "c": c, "d": d, "e": e, **other}


def _construction(w: World) -> dict[str, Any]:
    from decimal import Decimal

    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.catalog.services import ProcedureData, StepData, save_procedure
    from tests.factories import make_user

    procedure, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000004",
            name="Cấp giấy phép xây dựng",
            field_name="Hoạt động xây dựng",
            levels=("province",),
            agency_type="so-xay-dung",
            processing_time=Decimal(2),
            steps=(StepData("Tiếp nhận", Decimal(4)), StepData("Thẩm định", Decimal(12))),
        ),
        now=w.now,
    )
    leader = make_user(Role.AGENCY_LEADER, now=w.now, agency=w.org.construction, password=PASSWORD)
    return {"procedure": procedure, "leader": leader}


def _sel(user: Any, agency: Any, period: str = JUNE) -> Any:
    from cchc.dashboard import selection

    return selection.parse(QueryDict(f"period={period}"), user, agency_id=agency.pk)


@pytest.fixture
def built(world) -> dict[str, Any]:
    return scenario(world)


def test_bottlenecks_counted_and_ranked_exactly(world, built):
    from cchc.dashboard import leader

    v = leader.view(world.leader, _sel(world.leader, world.org.justice), world.org.justice, now=NOW)
    assert v is not None
    got = [
        (b.procedure_code, b.number, b.step_name, b.passages, b.late, b.delay_seconds, b.late_now)
        for b in v.bottlenecks
    ]
    assert got == [
        # step 3: A 1.5 h and B 2.5 h late — most late passages, first
        ("1.000001", 3, "Lãnh đạo phê duyệt", 2, 2, 4 * HOUR, 0),
        # step 1: A 5 h late (B and C on time); ranked before step 2 by the longer delay
        ("1.000001", 1, "Tiếp nhận, chuyển hồ sơ", 3, 1, 5 * HOUR, 0),
        # step 2: B 4 h late; C sits at this step past its deadline now
        ("1.000001", 2, "Thẩm định, xử lý hồ sơ", 2, 1, 4 * HOUR, 1),
    ]
    assert v.bottlenecks[0].average_label == "2 giờ làm việc"
    assert v.bottlenecks[0].late_share == 100
    assert v.bottlenecks[1].late_share == Decimal("33.33")
    # The page's procedure filter narrows the section: the quick procedure has no steps
    narrowed = leader.view(
        world.leader,
        _sel(world.leader, world.org.justice, f"{JUNE}&procedure={world.quick.pk}"),
        world.org.justice,
        now=NOW,
    )
    assert narrowed is not None
    assert (narrowed.bottlenecks, narrowed.late_total) == ([], 0)
    # May has no passage at all: nothing late then, only C sitting late now
    may = leader.view(
        world.leader, _sel(world.leader, world.org.justice, "2024-05"), world.org.justice, now=NOW
    )
    assert may is not None
    assert [(b.number, b.passages, b.late, b.late_now) for b in may.bottlenecks] == [(2, 0, 0, 1)]


def test_late_dossiers_officers_and_comparison(world, built):
    from cchc.dashboard import leader
    from cchc.indicators import services
    from cchc.indicators.figures import Filters
    from cchc.indicators.periods import parse

    v = leader.view(world.leader, _sel(world.leader, world.org.justice), world.org.justice, now=NOW)
    assert v is not None
    assert v.late_total == 1
    assert [r.code for r in v.late] == [built["c"].code]
    assert v.late[0].applicant == "Phạm Văn Cường"  # the leader sees their agency's applicants
    # C was due Thu 6/6 09:00 (3 working days); to Thu 20/6 10:00: 10 working days + 1 h
    assert v.late[0].overdue_by == "10 ngày 1 giờ làm việc"
    team = {o.user_id: o for o in v.officers}
    assert set(team) == {world.officer.pk, world.officer2.pk, world.leader.pk}
    one, two = team[world.officer.pk], team[world.officer2.pk]
    # A was approved Thu 08:30 before its due (09:00), B at 09:30 after it
    assert (one.open, one.overdue, one.due_soon, one.finished, one.on_time) == (0, 0, 0, 2, 1)
    assert one.on_time_share == 50
    assert (two.open, two.overdue, two.due_soon, two.finished, two.on_time) == (1, 1, 0, 0, 0)
    assert v.officers[0].user_id == world.officer2.pk  # the most overdue first

    c = v.comparison
    assert (c.own_open, c.own_overdue, c.agencies_open) == (1, 1, 2)
    # Sở Xây dựng: D open and overdue (2 working days from Mon 3/6), E open and not yet due
    assert c.avg_overdue == Decimal("1.00")
    assert c.own_overdue_share == 100
    assert c.province_overdue_share == Decimal("66.67")
    ranked = services.ranking(parse(JUNE), Filters(), now=NOW)
    mine = next(r for r in ranked if r.agency_id == world.org.justice.pk)
    assert (c.own_100, c.own_t4) == (mine.total_100, mine.t4)
    assert c.own_t4 == 50  # A on time, B late
    scores = [r.total_100 for r in ranked if r.total_100 is not None]
    assert c.avg_100 == (sum(scores) / len(scores)).quantize(Decimal("0.01"))
    assert c.ranked == len(scores)


def test_the_drill_pages_list_exactly_the_counted_rows(world, built, settings):
    from cchc.dashboard import leader

    client = _client(world.leader)
    v = leader.view(world.leader, _sel(world.leader, world.org.justice), world.org.justice, now=NOW)
    assert v is not None
    pk = world.org.justice.pk
    proc = world.procedure.pk
    page = client.get(f"/chi-so/co-quan/{pk}/cham/?period={JUNE}&buoc=3&thu_tuc={proc}")
    assert page.status_code == 200
    html = page.content.decode()
    assert built["a"].code in html and built["b"].code in html
    assert built["c"].code not in html
    assert "2 giờ 30 phút làm việc" in html and "1 giờ 30 phút làm việc" in html
    assert v.bottlenecks[0].link.endswith(f"buoc=3&thu_tuc={proc}")
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(v.bottlenecks[0].link + "&format=csv").content.decode("utf-8-sig")
            )
        )
    )
    assert rows[0] == leader.STEP_HEADERS
    assert sorted(r[0] for r in rows[1:]) == sorted([built["a"].code, built["b"].code])
    # every late passage of the period when no step is given
    every = client.get(f"/chi-so/co-quan/{pk}/cham/?period={JUNE}&format=csv")
    assert len(every.content.decode("utf-8-sig").strip().splitlines()) == 1 + 4

    two = next(o for o in v.officers if o.user_id == world.officer2.pk)
    listed = client.get(two.links["dang_xu_ly"] + "&format=csv").content.decode("utf-8-sig")
    assert [r[0] for r in list(csv.reader(io.StringIO(listed)))[1:]] == [built["c"].code]
    one = next(o for o in v.officers if o.user_id == world.officer.pk)
    listed = client.get(one.links["dung_han"] + "&format=csv").content.decode("utf-8-sig")
    assert [r[0] for r in list(csv.reader(io.StringIO(listed)))[1:]] == [built["a"].code]
    late = client.get(v.late_link)
    assert late.status_code == 200 and built["c"].code in late.content.decode()
    # Sở Xây dựng's dossier D is late at its first step, but not Sở Tư pháp's
    assert built["d"].code not in every.content.decode("utf-8-sig")
    # an unknown list or an officer of another agency
    assert client.get(f"/chi-so/co-quan/{pk}/ho-so/?loai=khac").status_code == 404
    other = f"/chi-so/co-quan/{pk}/ho-so/?loai=dang-xu-ly&can_bo={world.outsider.pk}"
    assert client.get(other).status_code == 404


def test_other_agencies_and_focal_points_are_refused(world, built, make_user):
    from cchc.accounts.roles import Role
    from cchc.dashboard import leader

    justice, construction = world.org.justice.pk, world.org.construction.pk
    outsider = _client(built["leader"])  # leader of Sở Xây dựng
    for url in (
        f"/chi-so/co-quan/{justice}/",
        f"/chi-so/co-quan/{justice}/cham/?period={JUNE}",
        f"/chi-so/co-quan/{justice}/ho-so/?period={JUNE}&loai=qua-han",
    ):
        assert outsider.get(url).status_code == 403, url
    own = outsider.get(f"/chi-so/co-quan/{construction}/cham/?period={JUNE}&format=csv")
    assert own.status_code == 200
    text = own.content.decode("utf-8-sig")
    assert built["d"].code in text and built["a"].code not in text

    focal = make_user(Role.PAR_FOCAL_POINT, agency=world.org.justice, password=PASSWORD)
    assert leader.view(focal, _sel(focal, world.org.justice), world.org.justice) is None
    page = _client(focal).get(f"/chi-so/co-quan/{justice}/?period={JUNE}")
    assert page.status_code == 200 and 'id="lanh-dao"' not in page.content.decode()
    assert _client(focal).get(f"/chi-so/co-quan/{justice}/cham/").status_code == 403


def test_personal_data_masked_in_page_and_downloads(world, built):
    from openpyxl import load_workbook

    names = ["Phạm Văn Cường", "Trần Văn Ánh", "Lê Thị Bích"]
    pk = world.org.justice.pk
    own = _client(world.leader).get(f"/chi-so/co-quan/{pk}/?period={JUNE}")
    assert own.status_code == 200
    html = own.content.decode()
    assert 'id="lanh-dao"' in html and "Phạm Văn Cường" in html

    sup = _client(world.supervisor)  # no dossier.personal_data: names masked as in the queue
    page = sup.get(f"/chi-so/co-quan/{pk}/?period={JUNE}").content.decode()
    assert 'id="lanh-dao"' in page and built["c"].code in page
    urls = [
        f"/chi-so/co-quan/{pk}/cham/?period={JUNE}",
        f"/chi-so/co-quan/{pk}/ho-so/?period={JUNE}&loai=hoan-thanh",
        f"/chi-so/co-quan/{pk}/ho-so/?period={JUNE}&loai=qua-han",
    ]
    texts = [page]
    for url in urls:
        texts.append(sup.get(url).content.decode())
        texts.append(sup.get(url + "&format=csv").content.decode("utf-8-sig"))
        book = load_workbook(io.BytesIO(sup.get(url + "&format=xlsx").content))
        texts.append(" ".join(str(c.value) for row in book.active.iter_rows() for c in row))
    for text in texts:
        for name in names:
            assert name not in text
    assert built["a"].code in texts[2] and built["c"].code in texts[-1]  # rows are there


def test_csv_cells_are_neutralised(world, built):
    """A step name a spreadsheet would evaluate is written as text (cchc.csvsafe)."""
    from cchc.dossiers.models import Dossier

    d = built["b"]
    plan = list(d.step_plan)
    plan[2] = {**plan[2], "name": '=HYPERLINK("http://x")'}
    Dossier.objects.filter(pk=d.pk).update(step_plan=plan)
    url = f"/chi-so/co-quan/{world.org.justice.pk}/cham/?period={JUNE}&buoc=3&format=csv"
    text = _client(world.leader).get(url).content.decode("utf-8-sig")
    assert "=HYPERLINK" in text
    assert ",=HYPERLINK" not in text and '"=HYPERLINK' not in text


def _count(client: Client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_queries_do_not_grow_with_the_data(world, built):
    pk = world.org.justice.pk
    urls = [
        f"/chi-so/co-quan/{pk}/?period={JUNE}",
        f"/chi-so/co-quan/{pk}/cham/?period={JUNE}",
        f"/chi-so/co-quan/{pk}/cham/?period={JUNE}&buoc=3&thu_tuc={world.procedure.pk}",
        f"/chi-so/co-quan/{pk}/ho-so/?period={JUNE}&loai=qua-han",
        f"/chi-so/co-quan/{pk}/ho-so/?period={JUNE}&loai=hoan-thanh&can_bo={world.officer.pk}",
    ]
    client = _client(world.leader)
    small = [_count(client, u) for u in urls]
    for _ in range(3):
        scenario_more(world)
    big = [_count(client, u) for u in urls]
    assert small == big, list(zip(urls, small, big, strict=True))


def scenario_more(w: World) -> None:
    """Three more dossiers of Sở Tư pháp like A, B and C."""
    from cchc.dossiers import services

    mon, tue, thu = "2024-06-10", "2024-06-11", "2024-06-13"
    for assign_day, approve in ((tue, True), (mon, True), (mon, False)):
        d = w.intake(at=at(mon, "09:00"))
        services.act(
            w.leader, d, "assign", now=at(assign_day, "10:00"), data={"assignee": w.officer.pk}
        )
        if approve:
            services.act(w.officer, d, "propose", now=at(thu, "09:00"))
            services.act(w.leader, d, "approve", now=at(thu, "09:30"))


def test_the_lean_replay_judges_passages_as_the_full_replay(world, built):
    """The passages read from the events that matter (`passages.NOT_READ` left out) equal the
    control slip of the full replay (`dossiers.services.project`, every event), here with a
    supplement pause (which pushes the later step deadlines), a forward, a note, a payment
    and an apology among the events."""
    from cchc.dashboard import leader, passages
    from cchc.dossiers import services
    from cchc.dossiers.models import Dossier

    mon, tue = "2024-06-10", "2024-06-11"
    p = world.intake(at=at(mon, "09:00"))
    for actor, action, day, hm, data, reason in (
        (world.leader, "assign", mon, "09:30", {"assignee": world.officer.pk}, ""),
        (world.officer, "note", mon, "10:00", {"note": "Ghi chú"}, ""),
        (world.officer, "request_supplement", mon, "10:30", None, "Thiếu giấy tờ"),
        (world.desk_officer, "supplement_received", tue, "10:30", None, ""),
        (world.officer, "forward", tue, "11:00", {"assignee": world.officer2.pk}, ""),
        (world.desk_officer, "pay", tue, "14:00", {"amount": 25000, "channel": "2"}, ""),
        (world.officer2, "propose", "2024-06-14", "09:00", None, ""),
        (world.leader, "approve", "2024-06-17", "09:00", None, ""),
    ):
        services.act(actor, p, action, now=at(day, hm), data=data, reason=reason)
    start, end = leader.period_bounds(_sel(world.leader, world.org.justice).period)
    lean = sorted(
        (x.dossier_id, x.step, x.at, x.due, x.late, x.giver)
        for x in passages.passages(Dossier.objects.all(), start, end)
    )
    full = []
    for d in Dossier.objects.exclude(step_plan=[]):
        for h in services.project(d).handoffs:
            if h.step_due is not None and start <= h.at < end:
                full.append((d.pk, h.step, h.at, h.step_due, h.outcome == "overdue", h.giver))
    assert lean == sorted(full)
    assert len(lean) > 10 and any(x[0] == p.pk for x in lean)
    # the pause (Mon 10:30 – Tue 10:30, 8 working hours) moved step 2's deadline from
    # Wed 15:00 (received Mon 09:00 + 20 h) to Thu 15:00
    dues = {x[1]: x[3] for x in lean if x[0] == p.pk}
    assert dues[1] == at("2024-06-13", "15:00")


def test_stored_passages_follow_new_events(world, built):
    """The stored judgment of a dossier is replaced when its events move on: B's result
    returned a week late adds a late passage at step 4 (due Thu 6/6 09:00, cumulative 24 h;
    returned Thu 13/6 09:00: 5 working days = 40 h late)."""
    from cchc.dashboard import leader
    from cchc.dashboard.models import JudgedDossier, StepPassage
    from cchc.dossiers import services

    sel = _sel(world.leader, world.org.justice)
    before = leader.view(world.leader, sel, world.org.justice, now=NOW)
    assert before is not None
    b = built["b"]
    assert JudgedDossier.objects.get(dossier_id=b.pk).version == b.version
    services.act(world.desk_officer, b, "return_result", now=at("2024-06-13", "09:00"))
    b.refresh_from_db()
    after = leader.view(world.leader, sel, world.org.justice, now=NOW)
    assert after is not None
    assert JudgedDossier.objects.get(dossier_id=b.pk).version == b.version
    assert StepPassage.objects.filter(dossier_id=b.pk).count() == 4
    last = next(x for x in after.bottlenecks if x.number == 4)
    assert (last.passages, last.late, last.delay_seconds) == (1, 1, 40 * HOUR)
    # ranked after step 3 (two late passages) and before step 1 (one, 5 h)
    assert [x.number for x in after.bottlenecks] == [3, 4, 1, 2]


def test_the_scheduled_judge_stores_what_the_page_would_and_then_has_nothing_to_do(world, built):
    """`cchc dashboard judge` judges every received dossier with an internal process in
    batches (here 1 per transaction), storing the same passages the page computes itself;
    run again it finds nothing, and after a new event only that dossier."""
    import json as jsonlib
    from io import StringIO

    from django.core.management import call_command

    from cchc.dashboard import leader
    from cchc.dashboard.models import JudgedDossier, StepPassage
    from cchc.dossiers import services
    from cchc.dossiers.models import Dossier

    expected = Dossier.objects.filter(received_at__isnull=False).exclude(step_plan=[]).count()
    assert expected >= 3 and not JudgedDossier.objects.exists()

    def run() -> int:
        out = StringIO()
        call_command("dashboard", "judge", "--batch", "1", "--json", stdout=out)
        return jsonlib.loads(out.getvalue())["judged"]

    assert run() == expected
    stored = sorted(StepPassage.objects.values_list("dossier_id", "number", "due", "at", "late"))
    assert stored and JudgedDossier.objects.count() == expected
    assert run() == 0
    # the page finds everything judged and reads the same rows
    leader.view(world.leader, _sel(world.leader, world.org.justice), world.org.justice, now=NOW)
    assert (
        sorted(StepPassage.objects.values_list("dossier_id", "number", "due", "at", "late"))
        == stored
    )
    services.act(world.desk_officer, built["b"], "return_result", now=at("2024-06-13", "09:00"))
    assert run() == 1


def test_the_judge_command_refuses_a_bad_batch(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--batch"):
        call_command("dashboard", "judge", "--batch", "0")
