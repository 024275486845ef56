"""Dashboard pages: who may open them, that filters change the numbers, that a drill-down
lists exactly the dossiers counted, that "no data" is never shown as 0 %, and that every
table downloads as CSV (UTF-8 with BOM) and XLSX with numbers as numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re

import pytest
from django.urls import reverse

from tests.conftest import fresh

pytestmark = pytest.mark.django_db

OVERVIEW = "/chi-so/"


@pytest.fixture
def dash(built_dash, db):
    """The dashboard's data set, built once for this module; each test gets its own copy
    and runs in its own savepoint."""
    return fresh(built_dash)


def agency_url(agency) -> str:
    return reverse("dashboard:agency", args=[agency.pk])


def row(html: str, code: str) -> dict[str, str]:
    """The attributes and text of the table row of indicator `code`."""
    match = re.search(rf'<tr data-code="{re.escape(code)}"([^>]*)>(.*?)</tr>', html, re.S)
    assert match, f"no row {code}"
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', match[1]))
    return {**attrs, "text": re.sub(r"<[^>]+>", " ", match[2])}


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


# -- permissions ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login_page(client, dash):
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and "/dang-nhap/" in response["Location"]


@pytest.mark.parametrize("who", ["citizen", "desk_officer", "officer"])
def test_users_without_indicator_view_get_403_everywhere(client, dash, who):
    user = getattr(dash.world, who)
    client.force_login(user)
    for url in (
        OVERVIEW,
        agency_url(dash.world.org.justice),
        reverse("dashboard:drill", args=["T4"]) + "?period=2024-06",
        reverse("dashboard:reconcile"),
    ):
        assert client.get(url).status_code == 403, url
    assert "Chỉ số, đánh giá" not in client.get("/").content.decode()


def test_agency_leader_lands_on_their_agency_and_sees_no_other(client, dash):
    w = dash.world
    client.force_login(w.leader)
    response = client.get(OVERVIEW, {"period": "2024-06"})
    assert response.status_code == 302
    assert response["Location"].startswith(agency_url(w.org.justice))
    page = client.get(response["Location"]).content.decode()
    assert "Chỉ số của Sở Tư pháp tỉnh Bắc Giang" in page
    assert row(page, "T4")["numerator"] == "4"  # only Sở Tư pháp's dossiers
    assert "Xếp hạng cơ quan" not in page
    assert client.get(agency_url(w.org.construction)).status_code == 403
    drill = reverse("dashboard:drill", args=["T4"])
    own = client.get(drill, {"period": "2024-06", "part": "denominator"}).content.decode()
    assert codes_in(own) == {d.code for d in dash.june_early + dash.june_overdue[:1]}
    other = {"period": "2024-06", "agency": w.org.construction.pk}
    assert client.get(drill, other).status_code == 403
    assert client.get(reverse("dashboard:reconcile")).status_code == 403
    assert "Chỉ số, đánh giá" in client.get("/").content.decode()  # menu entry


def test_unknown_agency_is_404(client, dash):
    assert get(client, dash.world.supervisor, "/chi-so/co-quan/999999/").status_code == 404


# -- numbers ----------------------------------------------------------------------------------


def test_province_overview_shows_targets_766_ranking_and_trend(client, dash):
    response = get(client, dash.world.supervisor, OVERVIEW, period="2024-06")
    assert response.status_code == 200
    page = response.content.decode()
    t4 = row(page, "T4")
    assert (t4["numerator"], t4["denominator"]) == ("4", "6")
    assert t4["status"] == "bad"  # 66,67 % is not > 90 %
    assert "Chưa đạt" in t4["text"] and "66,67" in t4["text"]
    assert "Bộ chỉ số 766" in page and "<details" in page
    assert "Xếp hạng cơ quan" in page and 'href="/chi-so/xep-hang-tuan/"' in page
    assert "Sở Xây dựng tỉnh Bắc Giang" in page
    assert '<svg class="chart"' in page


def test_ranking_page_scores_every_agency_with_dossiers_and_downloads(client, dash):
    """The ranking has its own page (the overview links it and no longer computes it): every
    agency with dossiers in the period, its 766 score and on-time share, linked to its page
    with the same filters; the same table downloads; a reader without the province's reach
    is sent to the overview (which sends them to their agency)."""
    w = dash.world
    url = reverse("dashboard:ranking")
    page = get(client, w.supervisor, url, period="2024-06").content.decode()
    ranked = re.findall(r'<tr data-agency="(\d+)">', page)
    assert set(ranked) == {str(w.org.justice.pk), str(w.org.construction.pk)}
    assert f'href="/chi-so/co-quan/{w.org.justice.pk}/?period=2024-06' in page
    overview = get(client, w.supervisor, OVERVIEW, period="2024-06").content.decode()
    assert 'href="/chi-so/xep-hang/?period=2024-06' in overview
    assert "data-agency=" not in overview
    sheet = load_xlsx(get(client, w.supervisor, url, period="2024-06", format="xlsx").content)
    names = [r[1] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert "Sở Xây dựng tỉnh Bắc Giang" in names
    assert get(client, w.supervisor, url, format="pdf").status_code == 404
    leader = get(client, w.leader, url, period="2024-06")
    assert leader.status_code == 302 and leader["Location"] == reverse("dashboard:overview")


def test_filters_change_the_numbers(client, dash):
    w = dash.world
    base = {"period": "2024-06"}
    in_person = get(client, w.supervisor, OVERVIEW, **base, channel=1).content.decode()
    assert (row(in_person, "T4")["numerator"], row(in_person, "T4")["denominator"]) == ("3", "5")
    justice = get(client, w.supervisor, OVERVIEW, **base, agency=w.org.justice.pk)
    page = justice.content.decode()
    assert (row(page, "T4")["numerator"], row(page, "T4")["denominator"]) == ("4", "5")
    may = get(client, w.supervisor, OVERVIEW, period="2024-05").content.decode()
    assert row(may, "T4")["status"] == "ok" and "Đạt" in row(may, "T4")["text"]


def test_zero_denominator_is_no_data_not_zero_percent(client, dash):
    page = get(client, dash.world.supervisor, OVERVIEW, period="2024-03").content.decode()
    t4 = row(page, "T4")
    assert t4["status"] == "nodata"
    assert "Không có dữ liệu" in t4["text"]
    assert " 0 %" not in t4["text"] and "100 %" not in t4["text"]


def test_a_bad_period_is_explained(client, dash):
    client.force_login(dash.world.supervisor)
    response = client.get(OVERVIEW, {"period": "2024-13"}, follow=True)
    assert "không hợp lệ" in response.content.decode()


# -- drill-down -------------------------------------------------------------------------------


def codes_in(html: str) -> set[str]:
    return set(re.findall(r'<a href="/ho-so/([^/"]+)/">', html))


def test_drill_down_lists_exactly_the_counted_dossiers(client, dash):
    url = reverse("dashboard:drill", args=["T4"])
    client.force_login(dash.world.supervisor)
    numerator = client.get(url, {"period": "2024-06", "part": "numerator"}).content.decode()
    assert codes_in(numerator) == {d.code for d in dash.june_early}
    assert re.search(r"data-count>4<", numerator)
    denominator = client.get(url, {"period": "2024-06", "part": "denominator"}).content.decode()
    assert codes_in(denominator) == {d.code for d in dash.june_early + dash.june_overdue}
    postal = client.get(url, {"period": "2024-06", "channel": 1}).content.decode()
    assert codes_in(postal) == {d.code for d in dash.june_early[:3]}


def test_drill_down_count_stops_at_the_cap_and_downloads_stay_whole(client, dash, monkeypatch):
    """Above the cap the page says "more than" (its count no longer scans every match) and
    pages to the cap; the download still carries every counted dossier."""
    from cchc.webkit import paging

    monkeypatch.setattr(paging, "CAP", 4)
    url = reverse("dashboard:drill", args=["T4"])
    params = {"period": "2024-06", "part": "denominator"}
    client.force_login(dash.world.supervisor)
    page = client.get(url, params).content.decode()
    assert re.search(r"data-count>Hơn 4<", page)
    assert "tải xuống để có đủ các dòng" not in page  # one page of 50 holds the 4 shown
    numerator = client.get(url, {**params, "part": "numerator"}).content.decode()
    assert re.search(r"data-count>4<", numerator)  # exactly the cap: exact
    csv_body = client.get(url, {**params, "format": "csv"}).content
    rows = list(csv.reader(io.StringIO(csv_body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 6


def test_drill_down_masks_personal_data_for_supervisors(client, dash):
    url = reverse("dashboard:drill", args=["T4"])
    params = {"period": "2024-06", "agency": dash.world.org.justice.pk}
    masked = get(client, dash.world.supervisor, url, **params).content.decode()
    assert "024190001234" not in masked and "*********234" in masked
    full = get(client, dash.world.leader, url, **params).content.decode()
    assert "024190001234" in full


# -- downloads --------------------------------------------------------------------------------


def test_csv_download_has_a_bom_and_vietnamese_headers(client, dash):
    response = get(
        client, dash.world.supervisor, OVERVIEW, period="2024-06", table="chi-tieu", format="csv"
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Mã", "Chỉ tiêu", "Đánh giá", "Giá trị"]
    t4 = next(r for r in rows if r[0] == "T4")
    assert (t4[5], t4[6]) == ("4", "6")


def load_xlsx(content: bytes):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(content)).active


@pytest.mark.parametrize("table", ["chi-tieu", "chi-so-766", "xep-hang", "tre-han", "xu-huong"])
def test_every_overview_table_downloads_as_xlsx_with_numbers(client, dash, table):
    response = get(
        client, dash.world.supervisor, OVERVIEW, period="2024-06", table=table, format="xlsx"
    )
    assert response.status_code == 200
    sheet = load_xlsx(response.content)
    values = [c.value for r in sheet.iter_rows() for c in r if c.value is not None]
    assert any(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def test_targets_xlsx_keeps_numbers_as_numbers(client, dash):
    response = get(
        client, dash.world.supervisor, OVERVIEW, period="2024-06", table="chi-tieu", format="xlsx"
    )
    sheet = load_xlsx(response.content)
    t4 = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "T4")
    assert t4[5] == 4 and t4[6] == 6
    assert isinstance(t4[3], float) and abs(t4[3] - 66.67) < 0.01


def test_drill_down_downloads(client, dash):
    url = reverse("dashboard:drill", args=["T4"])
    params = {"period": "2024-06", "part": "denominator"}
    csv_body = get(client, dash.world.supervisor, url, **params, format="csv").content
    rows = list(csv.reader(io.StringIO(csv_body.decode("utf-8-sig"))))
    assert rows[0][0] == "Mã hồ sơ" and len(rows) == 1 + 6
    sheet = load_xlsx(get(client, dash.world.supervisor, url, **params, format="xlsx").content)
    codes = {r[0] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert codes == {d.code for d in dash.june_early + dash.june_overdue}


def test_unknown_download_is_404(client, dash):
    response = get(client, dash.world.supervisor, OVERVIEW, table="khong-co", format="xlsx")
    assert response.status_code == 404


# -- reconciliation ---------------------------------------------------------------------------


def test_reconciliation_entry_and_differences(client, dash):
    w = dash.world
    url = reverse("dashboard:reconcile")
    params = f"?period=2024-06&unit={w.org.province_2024.pk}"
    client.force_login(w.supervisor)
    page = client.get(url + params).content.decode()
    assert 'name="pub_2a"' in page
    response = client.post(
        url + params, {"pub_2a": "10,5", "source": "Cổng DVC quốc gia"}, follow=True
    )
    page = response.content.decode()
    assert "Đã ghi" in page
    assert re.search(r'name="pub_2a"[^>]*value="10[,.]50?"', page)
    sheet = load_xlsx(client.get(url + params + "&format=xlsx").content)
    two_a = next(r for r in sheet.iter_rows(values_only=True) if r[0] == "2a")
    assert two_a[3] == 10.5


def test_reconciliation_entry_needs_indicator_manage(client, dash):
    client.force_login(dash.focal_point)
    url = reverse("dashboard:reconcile")
    assert client.post(url + "?period=2024-06", {"pub_2a": "1"}).status_code == 403


def test_par_reporting_period_uses_its_cut_off_window(client, dash):
    """2024-BC-H1 runs 15/12/2023–14/6/2024: May and the first days of June."""
    page = get(client, dash.world.supervisor, OVERVIEW, period="2024-BC-H1").content.decode()
    t4 = row(page, "T4")
    assert (t4["numerator"], t4["denominator"]) == ("6", "8")
    assert "Báo cáo 6 tháng" in page


def test_task_and_register_drill_downs_render(client, dash):
    client.force_login(dash.world.supervisor)
    for code in ("T1", "T3", "1b"):
        url = reverse("dashboard:drill", args=[code])
        response = client.get(url, {"period": "2024", "part": "denominator"})
        assert response.status_code == 200, code
        assert "Bộ lọc:" in response.content.decode()


def test_todays_supervisor_sees_2024_data_under_current_units_and_by_level(client, dash, make_user):
    from cchc.accounts.roles import Role

    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=dash.world.org.province_2025)
    page = get(client, supervisor, OVERVIEW, period="2024-06").content.decode()
    assert (row(page, "T4")["numerator"], row(page, "T4")["denominator"]) == ("4", "6")
    district = get(client, supervisor, OVERVIEW, period="2024-06", level="district")
    assert row(district.content.decode(), "T4")["status"] == "nodata"
    historic = get(client, supervisor, OVERVIEW, period="2024-06", units="historic")
    assert row(historic.content.decode(), "T4")["denominator"] == "6"


def test_chart_leaves_a_gap_for_missing_data_and_escapes_labels():
    from decimal import Decimal

    from cchc.dashboard.charts import Series, line_chart

    svg = str(
        line_chart(
            [Series("T4 <b>", [("thg 1", Decimal(80)), ("thg 2", None), ("thg 3", Decimal(90))])],
            title="Diễn biến",
        )
    )
    assert svg.count("<circle") == 2  # no point for the month without data
    assert "<polyline" not in svg  # and no line drawn across the gap
    assert "<b>" not in svg and "T4 &lt;b&gt;" in svg
    assert 'viewBox="0 0 720' in svg


def test_chart_month_labels_never_overlap():
    """Twelve months: "thg 11" and "thg 12" used to be written side by side; a label too
    close to the last one is left out, the first and the last are always written."""
    from cchc.dashboard.charts import WIDTH, label_positions

    for count in range(1, 25):
        chosen = label_positions(count)
        assert chosen[0] == 0 and chosen[-1] == count - 1 and len(chosen) <= 8
        step = (WIDTH - 64 - 44) / max(count - 1, 1)
        gaps = [(b - a) * step for a, b in itertools.pairwise(chosen)]
        assert all(g >= 70 for g in gaps), (count, chosen)  # "thg 12" is ~60 units wide
    assert label_positions(12) == [0, 2, 4, 6, 8, 11]


# -- the first screen (issue 18) ---------------------------------------------------------


def test_one_score_on_the_100_point_scale_and_the_comparable_figure(client, dash):
    page = get(client, dash.world.supervisor, OVERVIEW, period="2024-06").content.decode()
    assert "điểm có dữ liệu ·" not in page  # the old "x / y điểm có dữ liệu · z/100"
    assert re.search(r"data-score>[\d,]+<", page)
    measured = re.search(r"data-measured>(.*?)</p>", page, re.S)[1]
    assert re.match(r"Đo được [\d,]+/100 điểm", measured)
    assert "chỉ số thành phần chưa có dữ liệu" in measured
    assert "Để so với Cổng DVC quốc gia" in page


def test_the_published_score_is_shown_beside_ours_when_entered(client, dash):
    from decimal import Decimal

    from django.utils import timezone

    from cchc.indicators import published

    w = dash.world
    published.save_published(
        dash.admin,
        published.PublishedData(
            "2024-06", w.org.province_2024.code, "total", Decimal(71), "Cổng DVC"
        ),
        now=timezone.now(),
    )
    client.force_login(w.supervisor)
    page = client.get(OVERVIEW, {"period": "2024-06", "unit": w.org.province_2024.pk})
    assert re.search(r"data-published>71/100<", page.content.decode())
    page = client.get(OVERVIEW, {"period": "2024-06", "channel": 1}).content.decode()
    assert "data-published" not in page  # a channel is not what the portal published


def test_filters_fold_into_one_line_and_open_after_an_error(client, dash):
    client.force_login(dash.world.supervisor)
    page = client.get(OVERVIEW, {"period": "2024-06", "channel": 2}).content.decode()
    summary = re.search(r"data-filter-summary>(.*?)</span> <span", page, re.S)[1]
    text = re.sub(r"<[^>]+>", "", summary)
    assert "Kỳ: Tháng 6/2024" in text, text
    assert "Kênh nộp: Trực tuyến" in text and "mọi thủ tục" in text
    assert '<details class="filter-box">' in page  # closed
    bad = client.get(OVERVIEW, {"period": "2024-13"}, follow=True).content.decode()
    assert '<details class="filter-box" open>' in bad


def test_without_a_period_the_page_opens_on_the_period_being_reported_on(client, dash):
    from django.utils import timezone

    from cchc.dashboard.selection import dashboard_period_code
    from cchc.indicators import periods

    assert dashboard_period_code(dt.date(2026, 12, 7)) == "2026-BC-NAM"
    assert dashboard_period_code(dt.date(2026, 12, 20)) == "2026-BC-NAM"  # being written
    assert dashboard_period_code(dt.date(2027, 1, 5)) == "2027-BC-Q1"
    page = get(client, dash.world.supervisor, OVERVIEW).content.decode()
    due = periods.report_due(timezone.localdate())
    assert f"Kỳ: {due.label}" in page
