"""Weekly ranking snapshots (issue 18): a snapshot is exactly the engine's ranking over the
year to date at the instant the week ended, taken once (a re-run is a no-op) and audited;
the change in rank is read against the previous snapshot; the command refuses a malformed,
impossible or unfinished week with exit code 2; the scheduler runs it every Monday 06:00;
the page /chi-so/xep-hang-tuan/ checks `indicator.view` and the viewer's reach, downloads
its table, and issues the same queries whatever the number of weeks and rows.

The data: the dashboard's `dash` world (Sở Tư pháp and Sở Xây dựng, May–June 2024), plus
dossiers in the week of 10–16 June 2024 that turn the order of the two round."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.dashboard.conftest import PASSWORD, finish
from tests.dossiers.conftest import at

pytestmark = pytest.mark.django_db

W22, W23, W24 = "2024-W22", "2024-W23", "2024-W24"  # 27/5–2/6, 3/6–9/6, 10/6–16/6 2024
URL = "/chi-so/xep-hang-tuan/"
TP, XD = "Sở Tư pháp tỉnh Bắc Giang", "Sở Xây dựng tỉnh Bắc Giang"


def week(code: str):
    from cchc.indicators import weekly

    return weekly.parse_week(code)


def take(code: str, **kw):
    from cchc.accounts.policy import SYSTEM
    from cchc.indicators import weekly

    return {t.kind: t for t in weekly.take(week(code), actor=SYSTEM, **kw)}


def turn_round(dash) -> None:
    """In the week of 10 June: Sở Xây dựng decides eight permits early, Sở Tư pháp lets
    three dossiers go overdue — Xây dựng moves up, Tư pháp down."""
    w = dash.world
    permit = dash.june_overdue[1].procedure
    for n in range(8):
        finish(
            w,
            at("2024-06-10", f"09:{n:02d}"),
            at("2024-06-10", "15:00"),
            procedure=permit,
            leader=dash.construction_leader,
            officer=w.outsider,
        )
    for n in range(3):
        finish(w, at("2024-06-11", f"09:{n:02d}"), at("2024-06-14", "10:00"))


def rows_of(snapshot) -> list[tuple]:
    return list(
        snapshot.rows.order_by("position").values_list(
            "rank",
            "agency_id",
            "name",
            "score_100",
            "points",
            "max_points",
            "on_time",
            "received",
            "finished",
        )
    )


# -- the snapshot ---------------------------------------------------------------------------------


def test_a_snapshot_is_the_ranking_of_the_year_to_date_at_the_end_of_the_week(dash):
    from cchc.audit.models import AuditEntry
    from cchc.indicators import services, weekly
    from cchc.indicators.figures import Filters, q2

    now = timezone.now()
    taken = take(W23, now=now)
    snap = taken["agency"].snapshot
    assert taken["agency"].outcome == "created"
    assert (snap.week, snap.monday, snap.period_start, snap.period_end) == (
        W23,
        dt.date(2024, 6, 3),
        dt.date(2024, 1, 1),
        dt.date(2024, 6, 9),
    )
    assert snap.instant == dt.datetime(2024, 6, 10, tzinfo=weekly.VN)
    assert snap.definition_version.startswith("766")
    assert "@" in snap.definition_version

    ranked = services.ranking(week(W23).period, Filters(level="province"), now=now)
    assert [r.name for r in ranked] == [TP, XD]
    expected = [
        (
            n,
            r.agency_id,
            r.name,
            q2(r.total_100),
            q2(r.total),
            q2(r.max_total),
            q2(r.t4),
            r.received,
            r.finished,
        )
        for n, r in enumerate(ranked, start=1)
    ]
    assert rows_of(snap) == expected
    assert snap.ranked == 2
    # Tư pháp: 7 received and finished by 9 June (6 early, 1 overdue); Xây dựng: 1 overdue.
    assert rows_of(snap)[0][6:] == (q2(Decimal(600) / 7), 7, 7)
    assert rows_of(snap)[1][6:] == (Decimal("0.00"), 1, 1)

    # The year to date at the week's end, not at the moment it is taken: weeks later (with
    # dossiers received since) the same week computes the same rows.
    turn_round(dash)
    later = weekly.compute(week(W23), "agency", now=now + dt.timedelta(days=30))
    assert [
        (r.rank, r.agency_id, r.score_100, r.on_time, r.received, r.finished) for r in later
    ] == [(e[0], e[1], e[3], e[6], e[7], e[8]) for e in expected]

    # The commune board is its own snapshot: no commune People's Committee had dossiers.
    assert taken["commune"].outcome == "created" and taken["commune"].snapshot.ranked == 0
    audits = AuditEntry.objects.filter(action="indicators.ranking.snapshot")
    assert sorted(a.data["kind"] for a in audits) == ["agency", "commune"]
    assert {a.data["week"] for a in audits} == {W23}
    assert next(a for a in audits if a.data["kind"] == "agency").data["ranked"] == 2


def test_a_week_is_taken_once_and_never_changed(dash):
    from cchc.audit.models import AuditEntry
    from cchc.indicators.models import RankingEntry, RankingSnapshot

    first = take(W23)
    before = rows_of(first["agency"].snapshot)
    turn_round(dash)  # the data move on; the snapshot of W23 must not
    again = take(W23)
    assert {t.outcome for t in again.values()} == {"exists"}
    assert again["agency"].snapshot.pk == first["agency"].snapshot.pk
    assert rows_of(again["agency"].snapshot) == before
    assert RankingSnapshot.objects.count() == 2
    assert AuditEntry.objects.filter(action="indicators.ranking.snapshot").count() == 2
    snap = RankingSnapshot.objects.get(kind="agency")
    snap.ranked = 99
    with pytest.raises(ValueError):
        snap.save()
    row = RankingEntry.objects.filter(snapshot=snap).first()
    row.rank = 9
    with pytest.raises(ValueError):
        row.save()
    # A dry run computes and writes nothing.
    dry = take(W24, dry_run=True)
    assert dry["agency"].outcome == "dry-run" and len(dry["agency"].rows) == 2
    assert not RankingSnapshot.objects.filter(week=W24).exists()


def test_the_change_in_rank_is_read_against_the_previous_snapshot(dash, client):
    from cchc.dashboard import weekly as page
    from cchc.indicators import weekly

    turn_round(dash)
    for code in (W22, W23, W24):
        take(code)
    client.force_login(dash.admin)

    def board(code: str) -> dict[str, tuple[int | None, str]]:
        found = page.board(dash.admin, "agency", week(code))
        return {line.row.name: (line.row.rank, line.change.symbol) for line in found.lines}

    # W22: only Sở Tư pháp had dossiers (May); nothing earlier to compare with.
    assert board(W22) == {TP: (1, "—")}
    # W23: Sở Xây dựng enters the board behind Sở Tư pháp.
    assert board(W23) == {TP: (1, "="), XD: (2, "mới")}
    # W24: eight early permits against three overdue dossiers turn the order round.
    assert board(W24) == {XD: (1, "▲1"), TP: (2, "▼1")}

    # The page says it in words too, for a screen reader.
    html = client.get(URL, {"week": W24}).content.decode()
    assert "tăng 1 bậc" in html and "giảm 1 bậc" in html
    assert 'data-change="up"' in html and 'data-change="down"' in html
    # The latest snapshot is the default.
    assert "Tuần 24/2024 (10/06–16/06/2024)" in client.get(URL).content.decode()

    # The previous snapshot is the latest earlier one, even across a missed week.
    assert weekly.changes([], None) == []
    assert weekly.change(3, 5, compared=True).symbol == "▲2"
    assert weekly.change(None, 5, compared=True).kind == "none"
    assert weekly.ranks([90, 90, 80, None]) == [1, 1, 3, None]


# -- the command and the scheduler -------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("rankings", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def test_the_command_takes_a_week_and_refuses_bad_weeks_with_exit_code_2(dash):
    from cchc.indicators.models import RankingSnapshot

    # Monday 10 June 2024, 06:00: by default the week just ended (W23).
    code, out = run("snapshot", "--now", "2024-06-10T06:00:00+07:00", "--json")
    report = json.loads(out)
    assert code == 0 and report["week"] == W23 and report["created"] == 2
    code, out = run("snapshot", "--now", "2024-06-10T06:00:00+07:00", "--json")
    assert code == 0 and json.loads(out)["already"] == 2 and json.loads(out)["created"] == 0
    code, out = run("snapshot", "--week", W23)
    assert code == 0 and "đã có từ trước, giữ nguyên" in out

    for bad, words in (
        ("2024-W54", "không có tuần 54"),
        ("2025-W53", "không có tuần 53"),
        ("tuần 23", "Tuần không hợp lệ"),
        ("2024-06-03", "Tuần không hợp lệ"),
    ):
        code, message = run("snapshot", "--week", bad)
        assert code == 2 and words in message, (bad, message)
    # A week that has not ended at the given instant (Sunday 9 June, 23:59).
    code, message = run("snapshot", "--week", W23, "--now", "2024-06-09T23:59:00+07:00")
    assert code == 2 and "chưa kết thúc" in message
    future = timezone.localdate() + dt.timedelta(days=14)
    iso = future.isocalendar()
    code, message = run("snapshot", "--week", f"{iso.year}-W{iso.week:02d}")
    assert code == 2 and "chưa kết thúc" in message

    code, out = run("snapshot", "--week", W22, "--dry-run")
    assert code == 0 and "đã tính thử" in out and TP in out
    assert not RankingSnapshot.objects.filter(week=W22).exists()
    code, out = run("show", "--week", W23)
    assert code == 0 and "1.    — Sở Tư pháp" in out
    code, message = run("show", "--week", W22, "--kind", "commune")
    assert code == 4 and "Chưa có ảnh chụp" in message


def test_the_scheduler_takes_the_snapshot_every_monday_at_six(dash):
    from cchc.indicators.models import RankingSnapshot
    from cchc.jobs import runner, schedule
    from tests.conftest import VN

    job = schedule.find("indicators-weekly-ranking", schedule.effective({}))
    assert job is not None and job.every == "weekly@mon@06:00"
    assert job.command == "cchc rankings snapshot --json"
    wednesday = dt.datetime(2026, 12, 2, 10, 0, tzinfo=VN)
    assert job.next_run(wednesday) == dt.datetime(2026, 12, 7, 6, 0, tzinfo=VN)
    assert job.next_run(dt.datetime(2026, 12, 7, 5, 59, tzinfo=VN)) == dt.datetime(
        2026, 12, 7, 6, 0, tzinfo=VN
    )
    assert job.next_run(dt.datetime(2026, 12, 7, 6, 0, tzinfo=VN)) == dt.datetime(
        2026, 12, 14, 6, 0, tzinfo=VN
    )
    over = schedule.parse_overrides("indicators-weekly-ranking=weekly@sun@23:30")
    moved = schedule.find("indicators-weekly-ranking", schedule.effective(over))
    assert moved.every == "weekly@sun@23:30" and moved.weekday == 6
    for bad in ("indicators-weekly-ranking=weekly@xyz@06:00", "backup=weekly@mon@25:00"):
        with pytest.raises(Exception, match="CCHC_SCHEDULE"):
            schedule.parse_overrides(bad)

    record = runner.run(job)
    assert record.outcome == "ok", record.message
    assert record.counts["created"] == 2
    again = runner.run(job)
    assert again.outcome == "ok" and again.counts["already"] == 2 and again.counts["created"] == 0
    assert RankingSnapshot.objects.count() == 2


# -- the page -----------------------------------------------------------------------------------


def test_the_page_checks_the_permission_and_the_viewers_reach(dash, client):
    w = dash.world
    assert client.get(URL).status_code == 302  # to the login page
    client.force_login(w.citizen)
    assert client.get(URL).status_code == 403
    client.force_login(w.desk_officer)
    assert client.get(URL).status_code == 403

    client.force_login(w.supervisor)
    empty = client.get(URL).content.decode()
    assert "Chưa có ảnh chụp xếp hạng tuần nào" in empty and "thứ Hai 06:00" in empty

    take(W23)
    html = client.get(URL).content.decode()
    assert TP in html and XD in html
    assert "thuộc phạm vi bạn được xem" not in html

    # An agency leader sees their own line, with its rank among all ranked.
    client.force_login(dash.construction_leader)
    html = client.get(URL).content.decode()
    assert XD in html and TP not in html
    assert "hạng là hạng trong toàn bộ 2 cơ quan" in html
    csv = client.get(URL, {"week": W23, "table": "xep-hang-tuan", "format": "csv"})
    text = csv.content.decode("utf-8-sig")
    assert csv.status_code == 200 and TP not in text
    assert text.splitlines()[1].startswith(f"2,— (không so sánh được),{XD},")

    # The provincial supervisor downloads the whole board; XLSX too.
    client.force_login(w.supervisor)
    text = client.get(URL, {"week": W23, "format": "csv"}).content.decode("utf-8-sig")
    assert [line.split(",")[2] for line in text.splitlines()[1:]] == [TP, XD]
    xlsx = client.get(URL, {"week": W23, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith(
        'xep-hang-tuan-agency-2024-W23.xlsx"'
    )
    assert client.get(URL, {"format": "pdf"}).status_code == 404

    # Bad input: a message and the page without it, never an error page.
    for query, words in (
        ({"week": "2024-W99"}, "không có tuần 99"),
        ({"week": "abc"}, "Tuần không hợp lệ"),
        ({"week": "2024-W10"}, "Chưa có ảnh chụp xếp hạng Tuần 10/2024"),
        ({"kind": "district"}, "Đối tượng xếp hạng không hợp lệ"),
    ):
        response = client.get(URL, query, follow=True)
        assert response.status_code == 200 and words in response.content.decode(), query
    commune = client.get(URL, {"kind": "commune"}).content.decode()
    assert "không có UBND cấp xã nào có hồ sơ" in commune


@pytest.mark.parametrize("who", ["supervisor", "construction_leader"])
def test_the_page_issues_the_same_queries_for_one_week_and_for_many(dash, who):
    """One snapshot of one week with one line, then 12 weeks of both boards with more lines:
    the same number of queries on every view of the page."""
    from cchc.indicators.models import RankingSnapshot

    user = dash.world.supervisor if who == "supervisor" else dash.construction_leader
    client = Client()
    client.force_login(user)
    views = [
        {},
        {"kind": "commune"},
        {"week": W22},
        {"week": W22, "format": "csv"},
    ]

    def measure() -> list[int]:
        out = []
        for query in views:
            client.get(URL, query)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL, query).status_code == 200
            out.append(len(queries.captured_queries))
        return out

    take(W22)
    small = measure()
    turn_round(dash)
    for n in range(12, 30):
        if n != 22:
            take(f"2024-W{n:02d}")
    assert RankingSnapshot.objects.count() == 36
    big = measure()
    assert small == big, (small, big)
    assert max(big) <= 20
    print(who, big)


# -- in a browser ---------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_page_in_a_browser_at_1366_and_375(page, world, make_user):
    """Three weeks of the agency board with the order turned round, seen by the provincial
    supervisor: the week chooser, the change in words, no serious accessibility violation,
    no sideways scroll on a phone (screenshots also under /tmp/shots/weekly-*.png)."""
    from pathlib import Path

    from cchc.accounts.roles import Role
    from tests.browser.fixtures import DESKTOP, PHONE, check_page, login
    from tests.dashboard.conftest import build

    dash = build(world, make_user)
    supervisor = make_user(
        Role.PROVINCIAL_SUPERVISOR, unit=world.org.province_2024, password=PASSWORD
    )
    turn_round(dash)
    for code in (W22, W23, W24):
        take(code)
    shots = Path("/tmp/shots")
    shots.mkdir(parents=True, exist_ok=True)
    pg = page
    login(pg, supervisor.username, PASSWORD)
    pg.goto(URL)
    assert pg.locator("h1").inner_text() == "Xếp hạng theo tuần"
    rows = pg.locator("table.weekly-ranking tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-change") == "up"
    assert "tăng 1 bậc" in rows.nth(0).inner_text()  # the words, not the colour alone
    check_page(pg, "xep-hang-tuan")
    for size, name in ((DESKTOP, "1366"), (PHONE, "375")):
        pg.set_viewport_size(size)
        pg.screenshot(path=str(shots / f"weekly-agency-{name}.png"), full_page=True)

    # Another week through the chooser, then the commune board (empty: said so).
    pg.set_viewport_size(DESKTOP)
    pg.select_option("select[name=week]", W23)
    pg.click("form.filters button[type=submit]")
    pg.wait_for_load_state()
    assert "week=2024-W23" in pg.url
    assert pg.locator('tr[data-change="new"]').count() == 1
    pg.screenshot(path=str(shots / "weekly-w23-1366.png"), full_page=True)
    pg.click("nav.kinds >> text=Cấp xã")
    pg.wait_for_load_state()
    assert "không có UBND cấp xã nào có hồ sơ" in pg.locator("table").inner_text()
    pg.set_viewport_size(PHONE)
    pg.screenshot(path=str(shots / "weekly-commune-375.png"), full_page=True)
