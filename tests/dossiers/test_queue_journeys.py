"""Home card to filtered queue in a real browser, per role (issue 17, item 5): the desk
officer opens "chờ tiếp nhận", the handler "sắp đến hạn" of their own dossiers, the leader
"chờ phê duyệt". Each page: axe-core (no serious or critical violation), screenshots at
1366 px and 375 px, no horizontal scrolling at 375 px, compact rows at 1366 px.
Screenshots: var/test-artifacts/screenshots/.
"""

from __future__ import annotations

import pytest

from tests.browser.fixtures import check_page as check
from tests.browser.fixtures import login
from tests.conftest import NOW
from tests.dossiers.desk_mix import WHEN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-ban-lam-viec-2026!"


@pytest.fixture
def people(page, monkeypatch, settings):
    from django.utils import timezone

    from tests.dossiers.conftest import build_world
    from tests.dossiers.desk_mix import build

    monkeypatch.setattr(timezone, "now", lambda: WHEN)
    # The clock is in 2024: a session cookie without an expiry date, so the browser (on
    # today's clock) keeps it.
    settings.SESSION_EXPIRE_AT_BROWSER_CLOSE = True
    world = build_world(NOW)
    mix = build(world)
    build(world)  # 22 dossiers in all: a page of more than 21 rows for the leader
    for user in (world.desk_officer, world.officer, world.leader):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return world, mix


def card(pg, label: str):
    return pg.locator("a.work-card", has=pg.locator(".label", has_text=label)).first


def listed(pg) -> set[str]:
    return set(pg.locator("table.queue:not(.risk-list) td.code > a").all_inner_texts())


def open_card(pg, label: str) -> int:
    """Click the home card `label`; return the number it showed."""
    box = card(pg, label)
    count = int(box.locator(".num").inner_text())
    box.click()
    pg.wait_for_load_state()
    return count


def test_desk_officer_from_home_to_waiting_submissions(page, people):
    world, mix = people
    pg = page
    login(pg, world.desk_officer.username, PASSWORD)
    check(pg, "desk-home")
    count = open_card(pg, "Chờ tiếp nhận")
    assert "trang_thai=submitted" in pg.url
    assert count == 4 and len(listed(pg)) == 4  # two online submissions per mix
    assert {d.code for d in mix.submitted} <= listed(pg)
    assert "Trạng thái: Chờ tiếp nhận" in pg.inner_text("p.chips")
    check(pg, "desk-queue")


def test_handler_from_home_to_own_dossiers_due_soon(page, people):
    world, mix = people
    pg = page
    login(pg, world.officer.username, PASSWORD)
    check(pg, "handler-home")
    count = open_card(pg, "Sắp đến hạn")
    assert "pham_vi=toi" in pg.url and "sap_han=1" in pg.url
    assert count == len(listed(pg)) == 4
    assert mix.mine_soon.code in listed(pg) and mix.other.code not in listed(pg)
    check(pg, "handler-queue")
    # The switch to the whole agency keeps the filter.
    pg.click("nav.scope-switch >> text=Cả cơ quan")
    pg.wait_for_load_state()
    assert "pham_vi=co_quan" in pg.url and mix.other.code in listed(pg)
    # The queue's own default: "của tôi".
    pg.goto("/ho-so/")
    assert pg.locator("nav.scope-switch a.current").inner_text() == "Của tôi"
    assert mix.other.code not in listed(pg)


def test_leader_from_home_to_approvals_and_compact_rows(page, people):
    world, mix = people
    pg = page
    login(pg, world.leader.username, PASSWORD)
    check(pg, "leader-home")
    count = open_card(pg, "Chờ phê duyệt")
    assert count == len(listed(pg)) == 2
    assert mix.approval.code in listed(pg)
    check(pg, "leader-queue")
    # Compact rows at 1366 px: the whole agency's list, 21 rows or more, each at most two
    # lines high (the procedure's full name in the title).
    pg.goto("/ho-so/?pham_vi=co_quan&trang_thai=all")
    rows = pg.locator("table.queue:not(.risk-list) tbody tr")
    assert rows.count() >= 21
    heights = pg.evaluate(
        "() => [...document.querySelectorAll('table.queue:not(.risk-list) tbody tr')]"
        ".slice(0, 21).map(r => r.getBoundingClientRect().height)"
    )
    assert max(heights) <= 60, heights
    title = pg.locator("td.procedure .clamp").first.get_attribute("title")
    assert title == world.procedure.name
    # The step select offers names, and choosing one filters the list.
    pg.select_option("select[name=buoc_ten]", "Lãnh đạo phê duyệt")
    pg.click("form.filters button[type=submit]")
    pg.wait_for_load_state()
    assert mix.approval.code in listed(pg) and len(listed(pg)) == 2
    assert all(
        "Lãnh đạo phê duyệt" in t for t in pg.locator("td.state-cell .sub").all_inner_texts()
    )
    check(pg, "leader-step")
