"""The dashboard in a real browser (headless Chromium against the live server): it loads,
changing a filter changes the numbers, a drill-down lists exactly the dossiers counted in
the numerator shown, an agency leader lands on their agency, and a 375 px phone screen has
no page-level horizontal scroll. Screenshots land in var/test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import login, logout
from tests.dashboard.conftest import PASSWORD, build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(page, world, make_user):
    from cchc.accounts.roles import Role

    dash = build(world, make_user)
    supervisor = make_user(
        Role.PROVINCIAL_SUPERVISOR, unit=world.org.province_2024, password=PASSWORD
    )
    leader = make_user(Role.AGENCY_LEADER, agency=world.org.justice, password=PASSWORD)
    return {"dash": dash, "supervisor": supervisor, "leader": leader}


def fraction(pg, code: str) -> tuple[str, str]:
    row = pg.locator(f'table.targets tr[data-code="{code}"]')
    return row.get_attribute("data-numerator"), row.get_attribute("data-denominator")


def no_horizontal_overflow(pg) -> bool:
    return pg.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_dashboard_filters_drill_down_and_phone(page, people):
    pg = page
    login(pg, people["supervisor"].username, PASSWORD)
    pg.goto("/chi-so/?period=2024-06")
    assert pg.locator("h1").inner_text().startswith("Chỉ số, đánh giá")
    assert fraction(pg, "T4") == ("4", "6")
    t4 = pg.locator('table.targets tr[data-code="T4"]')
    assert "Chưa đạt" in t4.inner_text()  # text, not colour alone
    assert pg.locator("svg.chart").count() == 1
    pg.shot("tong-quan")

    # A filter changes the numbers: in-person submissions only (the filters are folded into
    # one line saying what is shown; it opens the form).
    assert not pg.locator("form.filters").is_visible()
    pg.click("details.filter-box > summary")
    pg.select_option("select[name=channel]", "1")
    pg.click("form.filters button[type=submit]")
    pg.wait_for_load_state()
    assert "channel=1" in pg.url
    assert fraction(pg, "T4") == ("3", "5")
    assert "Trực tiếp" in pg.locator("[data-filter-summary]").inner_text()
    pg.shot("loc-truc-tiep")

    # The drill-down lists exactly the dossiers counted in the numerator shown.
    numerator = int(fraction(pg, "T4")[0])
    pg.click('table.targets tr[data-code="T4"] a[data-part="numerator"]')
    pg.wait_for_load_state()
    assert "/chi-so/chi-tiet/T4/" in pg.url
    links = pg.locator('table.drill a[href^="/ho-so/"]')
    shown = {links.nth(i).inner_text().strip() for i in range(links.count())}
    expected = {d.code for d in people["dash"].june_early[:3]}  # the in-person early ones
    assert len(shown) == numerator and shown == expected
    assert pg.locator("[data-count]").inner_text() == str(numerator)
    pg.shot("chi-tiet-tu-so")

    # The index, expanded: every sub-indicator's formula with its inputs.
    pg.goto("/chi-so/?period=2024-06")
    pg.locator("details.group summary").first.click()
    assert pg.locator("details.group .formula").first.is_visible()
    pg.shot("chi-so-766")

    # A 375 px phone: no page-level horizontal scroll (wide tables scroll in their box).
    pg.set_viewport_size({"width": 375, "height": 800})
    pg.goto("/chi-so/?period=2024-06")
    assert no_horizontal_overflow(pg)
    pg.shot("dien-thoai-tong-quan")
    pg.goto("/chi-so/chi-tiet/T4/?period=2024-06&part=denominator")
    assert no_horizontal_overflow(pg)
    pg.shot("dien-thoai-chi-tiet")


def test_agency_leader_lands_on_their_agency(page, people):
    pg = page
    login(pg, people["leader"].username, PASSWORD)
    pg.goto("/chi-so/?period=2024-06")
    assert "/chi-so/co-quan/" in pg.url
    assert "Sở Tư pháp tỉnh Bắc Giang" in pg.locator("h1").inner_text()
    assert fraction(pg, "T4") == ("4", "5")
    assert pg.locator("text=Xếp hạng cơ quan").count() == 0
    pg.shot("lanh-dao-co-quan")
    logout(pg)
