"""Cell reads cached by the cells' version (`cchc.indicators.cellcache`): a page loaded
again reads no cell, and any change of the cells — a new dossier through the services, a
rebuild, a procedure saved — shows on the next page load."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.dashboard.conftest import dash, finish, world  # noqa: F401  (fixtures)
from tests.dashboard.test_views import OVERVIEW, get, row
from tests.dossiers.conftest import at

pytestmark = pytest.mark.django_db


def _cell_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"indicators_cell"' in q["sql"]]


def _t4(client, user) -> tuple[str, str]:
    page = get(client, user, OVERVIEW, period="2024-06").content.decode()
    t4 = row(page, "T4")
    return t4["numerator"], t4["denominator"]


def test_a_page_loaded_again_reads_no_cell_and_a_new_dossier_shows_at_once(client, dash):  # noqa: F811
    w = dash.world
    with CaptureQueriesContext(connection) as first:
        assert _t4(client, w.supervisor) == ("4", "6")
    assert len(_cell_reads(first)) > 5
    with CaptureQueriesContext(connection) as again:
        assert _t4(client, w.supervisor) == ("4", "6")
    assert _cell_reads(again) == [], "cell sums read again without any change"
    assert len(again.captured_queries) < len(first.captured_queries)

    # One more dossier finished early in June: the cells change in the event's transaction,
    # and with them the version the cached reads are filed under.
    finish(w, at("2024-06-04", "10:00"), at("2024-06-04", "15:00"))
    with CaptureQueriesContext(connection) as after:
        assert _t4(client, w.supervisor) == ("5", "7")
    assert len(_cell_reads(after)) > 5
    # And one finished late (due 1 working day): the numerator stays, the denominator grows.
    finish(w, at("2024-06-05", "09:00"), at("2024-06-07", "16:00"))
    assert _t4(client, w.supervisor) == ("5", "8")


def test_a_rebuild_or_a_saved_procedure_is_a_new_version(dash):  # noqa: F811
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.services import ProcedureData, save_procedure
    from cchc.indicators import aggregates, cellcache

    first = cellcache.current()
    aggregates.rebuild()
    rebuilt = cellcache.current()
    assert rebuilt != first
    p = dash.world.quick
    save_procedure(
        SYSTEM,
        ProcedureData(
            code=p.code,
            name=p.name,
            field_name=p.field.name,
            levels=("province",),
            agency_type=p.competent_agency_type.code,
            processing_time=p.processing_time,
            online_level="full",
        ),
        now=dash.world.now,
    )
    assert cellcache.current() not in (first, rebuilt)


def test_reads_outside_a_page_are_never_cached(dash):  # noqa: F811
    from cchc.indicators import periods
    from cchc.indicators.figures import EVERYTHING
    from cchc.indicators.measures import Context

    june = periods.parse("2024-06")
    now = dash.world.now
    assert Context(june, EVERYTHING, now=now).values("dossiers")["finished"] == 6
    with CaptureQueriesContext(connection) as again:
        assert Context(june, EVERYTHING, now=now).values("dossiers")["finished"] == 6
    assert len(_cell_reads(again)) == 2  # received and finished sums, both from the database


def test_an_unreachable_cache_server_is_a_miss_not_an_error(settings):
    """CCHC_CACHE_URL names a Redis server that refuses connections: the sums are read from
    the database, the same figures, and nothing is raised to the page."""
    from django.db.models import Sum

    from cchc.indicators import cellcache, memo
    from cchc.indicators.models import Cell

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    qs = Cell.objects.filter(kind="r")
    with memo.reading():
        got = cellcache.aggregate(qs, n=Sum("received"))
    assert got == qs.aggregate(n=Sum("received"))


def test_the_ranking_is_computed_once_per_version_and_minute_and_a_new_dossier_reranks(dash):  # noqa: F811
    """The ranking (every agency's 766) is cached whole under the cells' version and the
    minute: the agency leader's page does not score the province again on every load."""
    from cchc.indicators import memo, periods, services

    w = dash.world
    june = periods.parse("2024-06")
    now = at("2024-06-28", "10:00")
    first_run = services.ranking(june, now=now)
    with memo.reading(), CaptureQueriesContext(connection) as again:
        assert services.ranking(june, now=now) == first_run
    # the version only (and the result from the cache): no cell, no dossier read
    assert len(again.captured_queries) <= 1, [q["sql"] for q in again.captured_queries]
    with memo.reading(), CaptureQueriesContext(connection) as next_minute:
        services.ranking(june, now=at("2024-06-28", "10:01"))
    # a minute later it is scored again (in-progress dossiers turn overdue by the minute)
    assert len(next_minute.captured_queries) > 1

    before = {r.agency_id: r.finished for r in first_run}
    finish(w, at("2024-06-04", "10:00"), at("2024-06-04", "15:00"))
    with memo.reading():
        after = {r.agency_id: r.finished for r in services.ranking(june, now=now)}
    assert sum(after.values()) == sum(before.values()) + 1
