"""The agency leader's section in a real browser: a leader lands on their agency page and sees
the comparison, the late dossiers, the bottleneck and the officers; a bottleneck number opens
the list of exactly the passages counted; at 1366 px and 375 px there is no page-level
horizontal scroll and no serious accessibility violation. Screenshots are also copied to
/tmp/shots/leader-*.png for a human look."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser.fixtures import DESKTOP, PHONE, assert_accessible, login
from tests.dashboard.conftest import PASSWORD
from tests.dashboard.test_leader import scenario

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")


def _keep(path: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / f"leader-{name}.png")


def test_leader_section_and_drill_in_the_browser(page, world):
    built = scenario(world)
    world.leader.set_password(PASSWORD)
    world.leader.save(update_fields=["password"])
    pg = page
    login(pg, world.leader.username, PASSWORD)
    pg.goto("/chi-so/?period=2024-06")
    assert f"/chi-so/co-quan/{world.org.justice.pk}/" in pg.url
    section = pg.locator("section#lanh-dao")
    assert section.is_visible()
    rows = pg.locator('table[data-table="bottlenecks"] tbody tr')
    assert rows.count() == 3
    assert rows.nth(0).get_attribute("data-step") == "3"
    officers = pg.locator('table[data-table="officers"] tbody tr')
    assert officers.count() == 3
    assert built["c"].code in section.inner_text()
    for name, size in (("1366", DESKTOP), ("375", PHONE)):
        pg.set_viewport_size(size)
        section.scroll_into_view_if_needed()
        width = pg.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"trang rộng {width}px ở màn hình {size['width']}px"
        shot = SHOTS / f"leader-section-{name}.png"
        SHOTS.mkdir(parents=True, exist_ok=True)
        section.screenshot(path=str(shot))
        _keep(pg.shot(f"trang-{name}"), f"page-{name}")
    pg.set_viewport_size(DESKTOP)
    assert_accessible(pg, "leader-section")

    # The bottleneck's late count opens exactly the passages counted.
    late = rows.nth(0).locator("a[data-late]")
    assert late.inner_text() == "2"
    late.click()
    pg.wait_for_load_state()
    assert "/cham/" in pg.url
    codes = {a.inner_text().strip() for a in pg.locator("table.drill a").all()}
    assert codes == {built["a"].code, built["b"].code}
    assert pg.locator("[data-count]").inner_text() == "2"
    _keep(pg.shot("cham-1366"), "drill-1366")
    pg.set_viewport_size(PHONE)
    assert pg.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _keep(pg.shot("cham-375"), "drill-375")
    pg.set_viewport_size(DESKTOP)
    assert_accessible(pg, "leader-drill")
