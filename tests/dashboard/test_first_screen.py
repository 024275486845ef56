"""The dashboard's first screen answers a leader's three questions (issue 18, item 1), in a
real browser on the demo data set with a generated year of dossiers (many agencies):

- at 1366×768, without scrolling: the 766 score on the 100-point scale with its one line of
  what is measured and the figure comparable with the national portal's, the plan's targets
  T1–T11 each with a light that carries a word, and the table of late agencies (sorted by
  open overdue dossiers) — asserted with the elements' bounding boxes;
- at 375 px: all three within the first two screens, and no sideways scrolling;
- the filters folded into one line that opens the form on demand; no axe-core violation.

Screenshots: /tmp/shots/first-1366.png and first-375.png (what the viewport shows), and the
suite's artefacts under var/test-artifacts/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.fixtures import assert_accessible, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mat-khau-man-hinh-dau-2024"
SHOTS = Path("/tmp/shots")
WIDE = {"width": 1366, "height": 768}
PHONE = {"width": 375, "height": 812}
BLOCKS = {
    "score": "#diem-766",
    "targets": "#chi-tieu-tom-tat",
    "agencies": "#co-quan-tre-han table.late",
}


@pytest.fixture
def demo(settings):
    from django.utils import timezone

    from cchc.demo import scale
    from cchc.demo.loader import load_demo

    settings.CCHC_2FA_REQUIRED_ROLES = []
    now = timezone.now()
    load_demo(now=now, password=PASSWORD)
    scale.generate_year(400, year=2024, seed=18, now=now)


def box(pg, selector: str) -> dict[str, float]:
    found = pg.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def save(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
    pg.shot(name)


def test_first_screen_answers_the_three_questions(page, demo):
    pg = page
    login(pg, "giamsat", PASSWORD)
    pg.set_viewport_size(WIDE)
    pg.goto("/chi-so/?period=2024")
    assert pg.evaluate("window.scrollY") == 0

    # How the province stands: one score on the 100-point scale, what is measured, the
    # figure comparable with the national portal's.
    score = pg.locator("#diem-766")
    assert "/100" in score.inner_text()
    assert pg.locator("[data-score]").inner_text().strip()[0].isdigit()
    assert "Đo được" in pg.locator("[data-measured]").inner_text()
    assert "Cổng DVC quốc gia" in pg.locator("[data-comparable]").inner_text()
    assert "điểm có dữ liệu ·" not in pg.content()  # the old double display is gone

    # Which targets are met: T1–T11, each light with a word, not colour alone.
    goals = pg.locator("#chi-tieu-tom-tat li[data-target]")
    assert goals.count() == 11
    words = {"ok": "Đạt", "bad": "Chưa đạt", "nodata": "Không có dữ liệu", "open": "Chưa so sánh"}
    for i in range(goals.count()):
        item = goals.nth(i)
        assert words[item.get_attribute("data-status")] in item.inner_text()

    # Which agencies are late: sorted by open overdue dossiers, several of them.
    rows = pg.locator("#co-quan-tre-han table.late tbody tr[data-late-agency]")
    assert rows.count() >= 3
    overdue = [int(rows.nth(i).get_attribute("data-overdue")) for i in range(rows.count())]
    assert overdue == sorted(overdue, reverse=True) and overdue[0] > 0

    # All three inside the first viewport at 1366×768.
    for name, selector in BLOCKS.items():
        b = box(pg, selector)
        assert b["y"] >= 0 and b["y"] + b["height"] <= WIDE["height"], (name, b)
    save(pg, "first-1366")

    # The filters: one line saying what is shown; the form opens on demand.
    summary = pg.locator("[data-filter-summary]")
    assert "Kỳ: Năm 2024" in summary.inner_text()
    assert not pg.locator("form.filters").is_visible()
    pg.click("details.filter-box > summary")
    assert pg.locator("form.filters select[name=period]").is_visible()
    assert_accessible(pg, "chi-so-man-hinh-dau")

    # A phone: the three answers within the first two screens, no sideways scrolling.
    pg.set_viewport_size(PHONE)
    pg.goto("/chi-so/?period=2024")
    two_screens = 2 * PHONE["height"]
    for name in ("score", "targets"):
        b = box(pg, BLOCKS[name])
        assert b["y"] + b["height"] <= two_screens, (name, b)
    first_agency = box(pg, "#co-quan-tre-han table.late tbody tr")
    assert first_agency["y"] + first_agency["height"] <= two_screens, first_agency
    assert pg.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    save(pg, "first-375")
    pg.set_viewport_size({"width": 375, "height": two_screens})
    save(pg, "first-375-two-screens")
    assert_accessible(pg, "chi-so-man-hinh-dau-dien-thoai")


def test_default_period_and_the_agency_page(page, demo):
    """Without a chosen period the page opens on the reporting period being reported on;
    the agency page keeps the same first screen for its own agency."""
    from django.utils import timezone

    from cchc.indicators import periods

    pg = page
    login(pg, "giamsat", PASSWORD)
    pg.set_viewport_size(WIDE)
    pg.goto("/chi-so/")
    due = periods.report_due(timezone.localdate())
    assert f"Kỳ: {due.label}" in pg.locator("[data-filter-summary]").inner_text()
    for selector in BLOCKS.values():
        b = box(pg, selector)
        assert b["y"] + b["height"] <= WIDE["height"], (selector, b)
    first = pg.locator("#co-quan-tre-han table.late tbody tr[data-late-agency] th a").first
    name = first.inner_text()
    first.click()
    pg.wait_for_load_state()
    assert "/chi-so/co-quan/" in pg.url and name in pg.locator("h1").inner_text()
    for name_, selector in BLOCKS.items():
        b = box(pg, selector)
        assert b["y"] + b["height"] <= WIDE["height"], (name_, b)
    save(pg, "first-agency-1366")
    assert_accessible(pg, "chi-so-co-quan")
