"""The dashboard's pages issue a bounded number of SQL queries that does not grow with the
data: the overview (/chi-so/), the ranking (/chi-so/xep-hang/), an agency
(/chi-so/co-quan/<pk>/) and a drill-down
(/chi-so/chi-tiet/<code>/), for the provincial supervisor (sees everything) and an agency
leader, on the demo set with a few generated dossiers of 2024 and then with many more across
every agency. The grouped reads that make this so give exactly the figures one context per
agency (or per month) gives."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import built_once

pytestmark = pytest.mark.django_db

SMALL, BIG = 60, 1500  # generated dossiers of 2024 on top of the demo set
SEED = 18
PASSWORD = "mat-khau-thu-nghiem-2024"
PERIODS = ("2024", "2024-06")
# The most queries any of these pages may issue. The page reads a fixed set of figures
# (targets, their previous period and year to date, the 766 index, the ranking, a chart of
# up to twelve months, the filter choices): about 110 at most today, none per row.
BOUND = 120
SHAPES: dict[tuple[str, str], list[Counter[str]]] = {}


def _pages(leader_agency: int) -> list[tuple[str, str]]:
    """(user, url) of every page measured."""
    out = []
    for period in PERIODS:
        q = f"?period={period}"
        out += [
            ("giamsat", f"/chi-so/{q}"),
            ("giamsat", f"/chi-so/xep-hang/{q}"),
            ("giamsat", f"/chi-so/co-quan/{leader_agency}/{q}"),
            ("giamsat", f"/chi-so/chi-tiet/T4/{q}"),
            ("giamsat", f"/chi-so/chi-tiet/2a/{q}&part=denominator"),
            ("lanhdao", f"/chi-so/co-quan/{leader_agency}/{q}"),
            ("lanhdao", f"/chi-so/chi-tiet/T4/{q}"),
        ]
    return out


def _shape(sql: str) -> str:
    """A query without its literal values, to tell which kind of query differs."""
    return re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:160]


def _measure(pages: list[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, float, int]]:
    """{(user, url): (queries, milliseconds, status)}; each page once warm, then measured
    (the shapes of its queries are kept in SHAPES for a failure's message)."""
    from cchc.accounts.models import User

    out = {}
    clients: dict[str, Client] = {}
    for user, url in pages:
        if user not in clients:
            clients[user] = Client()
            clients[user].force_login(User.objects.get(username=user))
        client = clients[user]
        client.get(url)
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        took = (time.perf_counter() - began) * 1000
        out[(user, url)] = (len(queries.captured_queries), took, response.status_code)
        SHAPES.setdefault((user, url), []).append(
            Counter(_shape(q["sql"]) for q in queries.captured_queries)
        )
    return out


@pytest.fixture(scope="module")
def sizes(django_db_setup, django_db_blocker) -> Iterator[dict[str, Any]]:
    """The demo set plus SMALL generated dossiers of 2024, measured; then (the small set
    rolled back) plus BIG, measured and kept for the module's tests."""
    from cchc.accounts.models import User
    from cchc.dashboard import selection
    from cchc.demo import scale
    from cchc.demo.loader import load_demo

    with built_once(django_db_blocker):
        now = timezone.now()
        load_demo(now=now, password=PASSWORD)
        agency = selection.reach(User.objects.get(username="lanhdao")).home_agency_id
        assert agency is not None
        pages = _pages(agency)
        with transaction.atomic():
            scale.generate_year(SMALL, year=2024, seed=SEED, now=now)
            small = _measure(pages)
            transaction.set_rollback(True)
        scale.generate_year(BIG, year=2024, seed=SEED, now=now)
        big = _measure(pages)
        yield {"pages": pages, "small": small, "big": big, "agency": agency}


def test_every_page_issues_the_same_bounded_queries_at_both_sizes(sizes):
    report = []
    for page in sizes["pages"]:
        (n_small, ms_small, st_small), (n_big, ms_big, st_big) = (
            sizes["small"][page],
            sizes["big"][page],
        )
        report.append(f"{page}: {n_small}/{n_big} queries, {ms_small:.0f}/{ms_big:.0f} ms")
        assert st_small == st_big == 200, page
        small, big = SHAPES[page]
        assert n_small == n_big, (report[-1], big - small, small - big)
        assert n_big <= BOUND, report[-1]
    print("\n".join(report))  # shown with -s: the figures of the handoff


@pytest.mark.parametrize("who", ["giamsat", "lanhdao"])
def test_pages_under_the_bound_on_the_bigger_set(sizes, who, client, django_assert_max_num_queries):
    from cchc.accounts.models import User

    client.force_login(User.objects.get(username=who))
    for user, url in sizes["pages"]:
        if user != who:
            continue
        client.get(url)  # the session and its user, as on any later page
        with django_assert_max_num_queries(BOUND):
            assert client.get(url).status_code == 200


def test_the_ranking_reads_exactly_what_one_context_per_agency_reads(sizes):
    """The grouped reads of the ranking against each agency's own context, for every
    agency (with data or not) and a few filters: every 766 figure and formula identical."""
    from cchc.indicators import definitions, grouped, periods, services
    from cchc.indicators.figures import EVERYTHING, Filters
    from cchc.indicators.measures import Context
    from cchc.indicators.score766 import index766
    from cchc.org.models import Agency

    now = timezone.now()
    agencies = list(Agency.objects.values_list("pk", flat=True))
    for code in PERIODS:
        period = periods.parse(code)
        plan = definitions.current("plan", services.DEFAULT_PLAN, on=period.end)
        t4 = next(i for i in plan.indicators if i.code == "T4")
        variants = [EVERYTHING, Filters(units="historic"), Filters(channel=2)]
        for filters in variants if code == "2024" else variants[:1]:
            base = Context(period, filters, now=now)
            pairs = []
            for pk in agencies:
                f = Filters(agency_id=pk, channel=filters.channel, units=filters.units)
                pairs.append(
                    (
                        f,
                        Context(period, f, now=now, places=base.places),
                        Context(period, f, now=now),
                    )
                )
            grouped.preload(base, [b for _, b, _ in pairs])
            for f, batched, alone in pairs:
                assert index766(period, f, ctx=batched).as_dict() == (
                    index766(period, f, ctx=alone).as_dict()
                ), (code, f)
                assert services._value(batched, t4, plan) == services._value(alone, t4, plan)
            ranked = services.ranking(period, filters, now=now)
            assert len(ranked) > 5  # the generated year spreads over many agencies
            # The ranking scores without formula strings: the same points as the page's.
            for r in ranked[:8]:
                f = Filters(agency_id=r.agency_id, channel=filters.channel, units=filters.units)
                full = index766(period, f, now=now)
                quick = index766(period, f, now=now, explain=False)
                assert (r.total, r.max_total, r.total_100) == (
                    full.total,
                    full.max_total,
                    full.total_100,
                )
                assert [(s.code, s.points, s.rate) for g in quick.groups for s in g.subs] == [
                    (s.code, s.points, s.rate) for g in full.groups for s in g.subs
                ]


def test_the_months_of_the_chart_read_exactly_what_one_context_per_month_reads(sizes):
    from cchc.indicators import services
    from cchc.indicators.periods import parse

    months = [parse(f"2024-{m:02d}") for m in range(1, 13)]
    now = dt.datetime(2026, 1, 5, 9, 0, tzinfo=timezone.get_current_timezone())
    contexts = services.month_contexts(months, now=now)
    for code in ("T4", "T5", "T8", "T9", "2a", "4a", "index766"):
        assert services.series(code, months, now=now, contexts=contexts) == services.series(
            code, months, now=now
        ), code
