"""Figures of `cchc.indicators.measures` that no other test pinned (found by `make mutate`,
scripts/mutate.py): online dossiers counted for a paper-result procedure, and the rows a
figure drills down to."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cchc.dossiers.models import ReturnChannel
from cchc.indicators import periods
from cchc.indicators.definitions import Expr
from cchc.indicators.measures import Context
from cchc.indicators.services import Filters
from tests.conftest import VN
from tests.indicators.conftest import act, at

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 7, 10, 9, 0, tzinfo=VN)
JUNE = periods.parse("2024-06")


@pytest.fixture
def paper_procedure(world):
    """A procedure with an online service whose result is a paper document."""
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.services import DocumentData, ProcedureData, save_procedure

    procedure, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.008888",
            name="Cấp bản sao trích lục hộ tịch",
            field_name="Hộ tịch",
            levels=("province",),
            agency_type="so-xay-dung",
            processing_time=Decimal(3),
            processing_time_unit="wd",
            documents=(DocumentData("Tờ khai cấp bản sao trích lục", originals=1),),
            result_type="paper",
            online_level="full",
        ),
        now=world.now,
    )
    return procedure


def submitted(world, procedure, *, return_channel: str, received: dt.datetime):
    from cchc.dossiers import intake
    from tests.dossiers.factories import applicant, components_for

    dossier = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=procedure,
        applicant=applicant(),
        components=components_for(procedure),
        return_channel=return_channel,
        now=received - dt.timedelta(minutes=5),
    )
    act(world.desk_officer, dossier, "receive", received)
    dossier.refresh_from_db()
    return dossier


def test_online_counted_leaves_out_paper_results_returned_on_paper(
    world, paper_procedure, online_procedure
):
    paper_at_desk = submitted(
        world, paper_procedure, return_channel=ReturnChannel.DESK, received=at("2024-06-04")
    )
    paper_by_post = submitted(
        world, paper_procedure, return_channel=ReturnChannel.POST, received=at("2024-06-05")
    )
    paper_online = submitted(
        world, paper_procedure, return_channel=ReturnChannel.ONLINE, received=at("2024-06-05")
    )
    electronic_at_desk = submitted(
        world, online_procedure, return_channel=ReturnChannel.DESK, received=at("2024-06-06")
    )
    context = Context(JUNE, Filters(), now=NOW)
    values = context.values("dossiers")
    assert values["online"] == 4
    assert values["online_paper_return"] == 3
    # a paper result fetched on paper is not an online service used end to end; an
    # electronic result (or a paper one sent online) is
    assert values["online_counted"] == 2
    rows = context.dossier_rows(Expr("online_counted", ((1, "online_counted"),)))
    assert set(rows.values_list("pk", flat=True)) == {paper_online.pk, electronic_at_desk.pk}
    assert paper_at_desk.pk not in set(rows.values_list("pk", flat=True))
    assert paper_by_post.channel == 2


def test_period_bounds_are_local_midnights(world):
    context = Context(JUNE, Filters(), now=NOW)
    assert context.start == dt.datetime(2024, 6, 1, 0, 0, tzinfo=VN)
    assert context.end == dt.datetime(2024, 7, 1, 0, 0, tzinfo=VN)
    assert context.instant == context.end  # a past period is looked at as at its end


def test_processing_hours_are_processing_seconds_over_3600(june):
    values = Context(JUNE, Filters(), now=NOW).values("dossiers")
    assert values["processing_seconds"] > 0
    assert values["processing_hours"] == Decimal(values["processing_seconds"]) / 3600


def test_in_progress_counts_only_when_asked_and_are_kept(june):
    in_progress = Expr("in_progress", ((1, "in_progress"),))
    context = Context(JUNE, Filters(), now=NOW)
    assert "in_progress" not in context.values("dossiers")
    assert "in_progress" not in context.values(
        "dossiers", None, Expr("received", ((1, "received"),))
    )
    past = context.values("dossiers", None, in_progress)
    # open at the end of June: G H I J (received in June, not finished); only G (received on
    # 28/6) is still within its due
    assert (past["in_progress"], past["in_progress_on_time"]) == (4, 1)
    assert context.progress() == {"in_progress": 4, "in_progress_on_time": 1}
    assert context.progress() is context.progress()
    rows = context.dossier_rows(in_progress)
    assert set(rows.values_list("pk", flat=True)) == {june[k].pk for k in "GHIJ"}
    # the same dossiers counted now, from the open queue (the period reaches today)
    today = Context(periods.parse("2024-07"), Filters(), now=NOW)
    now_counts = today.progress()
    assert now_counts == {
        "in_progress": 4,
        "in_progress_on_time": now_counts["in_progress_on_time"],
    }
    assert set(today.dossier_rows(in_progress).values_list("pk", flat=True)) == {
        june[k].pk for k in "GHIJ"
    }
    assert today.progress() is today.progress()


@pytest.fixture
def generated_year():
    """The demo's base set and 300 generated dossiers of 2024 (every state, channel, fee
    and outcome the generator makes), with ids as in a new database."""
    from django.db import connection

    from tests.demo import fingerprint

    if connection.vendor == "sqlite":
        fingerprint.restart_ids()
    fingerprint.load(300, seed=11)
    return fingerprint.YEAR_NOW


def test_every_dossier_figure_drills_down_to_exactly_its_dossiers(generated_year):
    """For every dossier measure, the rows its drill-down lists are as many as the figure
    counts (the figure sums the maintained cells, the drill-down queries the dossiers):
    the two cannot disagree on which family (received, finished, in progress) or which
    condition a measure has. Differences too: `finished - overdue_766`."""
    from cchc.indicators.definitions import SOURCES

    ctx = Context(periods.parse("2024"), Filters(), now=generated_year)
    per_second = {"processing_hours", "processing_seconds"}  # sums of time, not counts
    checked = 0
    for name in sorted(SOURCES["dossiers"] - per_second):
        expr = Expr(name, ((1, name),))
        value = ctx.values("dossiers", None, expr)[name]
        assert ctx.dossier_rows(expr).count() == value, name
        checked += value > 0
    assert checked >= 10  # the data set exercises most measures, not only zeros
    values = ctx.values("dossiers")
    finished = Expr("finished", ((1, "finished"),))
    for name in sorted(per_second):
        # their rows are the finished dossiers whose time is summed
        assert ctx.dossier_rows(Expr(name, ((1, name),))).count() == values["finished"]
    late = Expr("finished - overdue_766", ((1, "finished"), (-1, "overdue_766")))
    assert ctx.dossier_rows(late).count() == values["finished"] - values["overdue_766"]
    assert 0 < values["overdue_766"] < values["finished"]
    assert ctx.dossier_rows(finished).count() == values["finished"]


def test_work_records_count_each_agency_once_at_its_coarsest_period(world):
    """An agency that entered its year and also its halves, quarters or months is counted
    by the year only; one that entered only quarters (or only months) by those."""
    from cchc.org.models import Agency, UnitLevel
    from cchc.plans.models import WorkRecordStat

    level = UnitLevel.objects.first()
    first, second, third = list(Agency.objects.order_by("pk"))[:3]

    def stat(agency, period, start, end, total):
        WorkRecordStat.objects.create(
            agency=agency,
            level=level,
            period=period,
            period_start=dt.date(*start),
            period_end=dt.date(*end),
            total=total,
            online=0,
            updated_at=NOW,
        )

    stat(first, "2024", (2024, 1, 1), (2024, 12, 31), 100)
    stat(first, "2024-H1", (2024, 1, 1), (2024, 6, 30), 40)
    stat(first, "2024-Q1", (2024, 1, 1), (2024, 3, 31), 20)
    stat(first, "2024-03", (2024, 3, 1), (2024, 3, 31), 7)
    stat(second, "2024-Q1", (2024, 1, 1), (2024, 3, 31), 11)
    stat(second, "2024-Q2", (2024, 4, 1), (2024, 6, 30), 12)
    stat(second, "2024-05", (2024, 5, 1), (2024, 5, 31), 5)
    stat(third, "2024-H2", (2024, 7, 1), (2024, 12, 31), 30)
    stat(third, "2024-Q3", (2024, 7, 1), (2024, 9, 30), 9)
    ctx = Context(periods.parse("2024"), Filters(), now=NOW)
    kept = sorted((r.agency_id, r.period) for r in ctx.work_rows())
    assert kept == sorted(
        [
            (first.pk, "2024"),
            (second.pk, "2024-Q1"),
            (second.pk, "2024-Q2"),
            (third.pk, "2024-H2"),
        ]
    )
