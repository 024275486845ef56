"""The agencies' lateness table of the dashboard's first screen (`cchc.dashboard.lateness`):
exact counts against dossiers built through the real services, sorted by open overdue
dossiers, the viewer's reach respected, the on-time share's links listing exactly the
dossiers behind it, and a fixed number of queries whatever the number of dossiers.

On top of the dashboard's data set (June 2024: Sở Tư pháp 4 early + 1 overdue, Sở Xây dựng
1 overdue; May 2024: Sở Tư pháp 2 early), open dossiers received Monday 3 June 09:00 (due
Thursday 6 June 09:00 at Sở Tư pháp, Tuesday 4 June 09:00 for Sở Xây dựng's permit):

| agency | dossier | counted open overdue | without apology |
|---|---|---|---|
| Sở Tư pháp | clock running, past due | yes | yes |
| Sở Tư pháp | apologised after its due, new due passed too | yes | no |
| Sở Tư pháp | paused for a supplement after its due | yes | yes |
| Sở Tư pháp | paused for a supplement before its due | no | — |
| Sở Xây dựng | four, clock running, past due | yes | yes |
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cchc.dashboard import lateness
from cchc.dossiers import services
from cchc.indicators import periods
from cchc.indicators.figures import EVERYTHING, Filters
from tests.dashboard.conftest import build
from tests.dossiers.conftest import at

pytestmark = pytest.mark.django_db

MON, WED, THU = "2024-06-03", "2024-06-05", "2024-06-06"
LATER = at("2024-06-28", "17:00")  # the instant the table is read at
JUNE = periods.parse("2024-06")


def act(actor, dossier, action, when, **data):
    return services.act(actor, dossier, action, now=when, reason="Cần xác minh thêm", data=data)


def assigned(w, *, procedure=None, leader=None, officer=None):
    """Received Monday 09:00 and assigned at once: due Thursday 09:00."""
    d = w.intake(at=at(MON, "09:00"), **({"procedure": procedure} if procedure else {}))
    act(leader or w.leader, d, "assign", at(MON, "09:10"), assignee=(officer or w.officer).pk)
    return d


@pytest.fixture
def late(world, make_user):
    dash = build(world, make_user)
    w = dash.world
    running = assigned(w)
    excused = assigned(w)
    act(w.officer, excused, "apologise", at(THU, "10:00"))
    excused.refresh_from_db()
    assert excused.has_apology and excused.due < LATER  # the new due has passed too
    paused_late = assigned(w)
    act(w.officer, paused_late, "request_supplement", at(THU, "10:00"))
    paused_early = assigned(w)
    act(w.officer, paused_early, "request_supplement", at(WED, "10:00"))
    permit = dash.june_overdue[1].procedure
    construction = [
        assigned(w, procedure=permit, leader=dash.construction_leader, officer=w.outsider)
        for _ in range(4)
    ]
    return {
        "dash": dash,
        "justice_open": {running, excused, paused_late},
        "construction_open": set(construction),
    }


def by_agency(rows):
    return {r.agency_id: r for r in rows}


def test_counts_are_exact_and_sorted_by_open_overdue(late):
    w = late["dash"].world
    rows = lateness.lateness(w.supervisor, JUNE, EVERYTHING, now=LATER)
    assert [r.agency_id for r in rows] == [w.org.construction.pk, w.org.justice.pk]
    construction, justice = rows
    assert (justice.open_overdue, justice.without_apology) == (3, 2)
    assert (justice.finished, justice.finished_late, justice.on_time) == (5, 1, 4)
    assert justice.share == Decimal("80.00") and justice.share_before == Decimal(100)
    assert (justice.trend.key, justice.trend.icon, justice.trend.text) == ("down", "↓", "Xấu đi")
    assert (construction.open_overdue, construction.without_apology) == (4, 4)
    assert (construction.finished, construction.finished_late, construction.share) == (1, 1, 0)
    assert construction.share_before is None and construction.trend.text == "Chưa so sánh được"


def test_before_the_due_nothing_is_open_overdue(late):
    w = late["dash"].world
    rows = by_agency(lateness.lateness(w.supervisor, JUNE, EVERYTHING, now=at(MON, "12:00")))
    assert rows[w.org.justice.pk].open_overdue == 0
    assert rows[w.org.construction.pk].open_overdue == 0


def test_filters_apply_as_to_every_figure(late):
    w = late["dash"].world
    in_person = lateness.lateness(w.supervisor, JUNE, Filters(channel=1), now=LATER)
    justice = by_agency(in_person)[w.org.justice.pk]
    assert (justice.finished, justice.on_time) == (4, 3)  # the postal one left out
    only = lateness.lateness(w.supervisor, JUNE, Filters(agency_id=w.org.justice.pk), now=LATER)
    assert [r.agency_id for r in only] == [w.org.justice.pk]


def test_an_agency_user_sees_only_their_agency(late):
    dash = late["dash"]
    w = dash.world
    for user, agency in ((dash.construction_leader, w.org.construction), (w.leader, w.org.justice)):
        rows = lateness.lateness(user, JUNE, Filters(agency_id=agency.pk), now=LATER)
        assert [r.agency_id for r in rows] == [agency.pk]
        # Even unfiltered, nothing outside the reach comes back.
        assert {r.agency_id for r in lateness.lateness(user, JUNE, EVERYTHING, now=LATER)} <= {
            agency.pk
        }


def test_trend_words_and_the_steady_band():
    assert lateness.trend(Decimal(90), Decimal("89.6")).key == "flat"
    assert lateness.trend(Decimal(90), Decimal("89.5")).key == "up"
    assert lateness.trend(Decimal(89), Decimal(90)).text == "Xấu đi"
    assert lateness.trend(None, Decimal(90)).key == "none"


def test_the_same_queries_at_two_sizes(late):
    dash = late["dash"]
    w = dash.world
    lateness.lateness(w.supervisor, JUNE, EVERYTHING, now=LATER)  # the user's grants, warm

    def measure() -> tuple[int, list]:
        with CaptureQueriesContext(connection) as q:
            rows = lateness.lateness(w.supervisor, JUNE, EVERYTHING, now=LATER)
        return len(q.captured_queries), rows

    small, before = measure()
    permit = dash.june_overdue[1].procedure
    for _ in range(3):
        assigned(w)
        assigned(w, procedure=permit, leader=dash.construction_leader, officer=w.outsider)
    big, after = measure()
    assert small == big
    assert sum(r.open_overdue for r in after) == sum(r.open_overdue for r in before) + 6


def test_the_overview_shows_the_table_with_exact_links(late, client):
    w = late["dash"].world
    client.force_login(w.supervisor)
    page = client.get("/chi-so/", {"period": "2024-06"}).content.decode()
    rows = re.findall(
        r'<tr data-late-agency="(\d+)" data-overdue="(\d+)" data-no-apology="(\d+)"', page
    )
    # The page reads "now" (later than every due here): the same counts as at LATER.
    assert rows == [
        (str(w.org.construction.pk), "4", "4"),
        (str(w.org.justice.pk), "3", "2"),
    ]
    block = page[page.index(f'data-late-agency="{w.org.justice.pk}"') :]
    block = block[: block.index("</tr>")]
    on_time = re.search(r'href="([^"]*part=numerator)"', block)[1].replace("&amp;", "&")
    listed = client.get(on_time).content.decode()
    codes = set(re.findall(r'<a href="/ho-so/([^/"]+)/">', listed))
    assert codes == {d.code for d in late["dash"].june_early}
    assert "Xấu đi" in block and "80 %" in block
