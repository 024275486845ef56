"""Issue 17, items 8 and 9 in a real browser: the auditor filters the log by a date range and
a dossier code and downloads the filtered list as CSV; staff pages on a phone keep their
chrome (header and menu) within 120 px, the menu folds behind «Menu» and works without
JavaScript; the favicon is served; required-field asterisks sit on their label's line and
fields of a row line up. Screenshots at 1366 and 375 px; axe-core on every page checked."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from tests.browser.fixtures import ARTEFACTS, login
from tests.browser.fixtures import assert_accessible as axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mat-khau-kiem-tra-2026"
CHROME_BUDGET = 120  # px of header and menu before the content, at 375 × 812


def chrome_height(pg) -> float:
    return pg.evaluate("document.querySelector('main').getBoundingClientRect().top")


@pytest.fixture
def clock(monkeypatch):
    """The suite's day (3 June 2024, when the small structure's desks are open), for the
    test and the live server alike (same process)."""
    from django.utils import timezone

    from tests.conftest import NOW

    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(dt.UTC))
    return NOW


@pytest.fixture
def log_world(settings, tmp_path, clock):
    from django.utils import timezone

    from cchc.accounts.roles import Role
    from cchc.dossiers import services
    from cchc.errors import DomainError
    from tests.dossiers.conftest import build_world
    from tests.factories import make_user

    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_2FA_REQUIRED_ROLES = []
    now = timezone.now()
    world = build_world(now)
    old = world.intake(at=now - dt.timedelta(days=20))
    recent = world.intake(at=now - dt.timedelta(days=3))
    # Refused (not awaiting approval): the only trace is the audit entry `dossier.refused`.
    with contextlib.suppress(DomainError):
        services.act(world.officer, recent, "approve", now=now - dt.timedelta(days=2))
    auditor = make_user(Role.AUDITOR, now=now, password=PASSWORD)
    return world, old, recent, auditor, now


def test_auditor_filters_by_dates_and_dossier_then_exports_csv(page, log_world):
    from cchc.audit.models import AuditEntry

    _world, old, recent, auditor, now = log_world
    pg = page
    pg.set_viewport_size({"width": 1366, "height": 900})
    login(pg, auditor.username, PASSWORD)
    pg.goto("/nhat-ky/")
    assert pg.locator("h1").inner_text() == "Nhật ký hệ thống"
    pg.shot("nhat-ky-1366")
    axe(pg, "nhật ký")

    start = (now - dt.timedelta(days=5)).astimezone(dt.UTC).date()
    pg.fill("input[name=tu_ngay]", f"{start:%d/%m/%Y}")
    pg.fill("input[name=den_ngay]", f"{now.date():%d/%m/%Y}")
    pg.fill("input[name=ma_ho_so]", recent.code)
    pg.click("form.audit-filters button[type=submit]")
    pg.wait_for_load_state()
    table = pg.locator("table.audit-log tbody").inner_text()
    assert "Hồ sơ: Tiếp nhận hồ sơ" in table and recent.code in table
    assert "Thao tác bị từ chối (hồ sơ)" in table and old.code not in table
    assert pg.locator("tr.refused .tag.bad").count() >= 1
    pg.shot("nhat-ky-loc-1366")
    axe(pg, "nhật ký đã lọc")

    with pg.expect_download() as info:
        pg.click("a.button:has-text('CSV')")
    download = info.value
    assert download.suggested_filename.startswith("nhat-ky-")
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][3] == "Hành động"
    assert {r[7] for r in rows[1:]} == {recent.code}
    assert any(r[3] == "Thao tác bị từ chối (hồ sơ)" for r in rows[1:])
    exported = AuditEntry.objects.get(action="export.audit")
    assert exported.data["filters"]["ma_ho_so"] == recent.code
    assert exported.data["rows"] == len(rows) - 1

    # The same page on a phone: compact chrome, nothing wider than the screen.
    pg.set_viewport_size({"width": 375, "height": 812})
    pg.reload()
    assert chrome_height(pg) <= CHROME_BUDGET
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    pg.shot("nhat-ky-loc-375")
    axe(pg, "nhật ký 375")


def test_staff_chrome_on_a_phone_folds_and_works_without_script(page, browser, live_server):
    from django.utils import timezone

    from cchc.accounts.roles import Role
    from tests.factories import make_user, small_structure

    now = timezone.now()
    org = small_structure(now)
    # The longest menu: a leader (dossiers, PAKN, catalogue, plans, indicators …).
    leader = make_user(Role.AGENCY_LEADER, now=now, agency=org.justice, password=PASSWORD)
    pg = page
    pg.set_viewport_size({"width": 375, "height": 812})
    login(pg, leader.username, PASSWORD)
    pg.goto("/")
    toggle = pg.locator("button.menu-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not pg.locator("nav.menu").is_visible()
    assert pg.locator(".inbox-link").is_visible()  # the inbox stays in the bar
    height = chrome_height(pg)
    assert height <= CHROME_BUDGET, f"chrome {height}px"
    pg.shot("trang-chu-375")
    axe(pg, "trang chủ 375")

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert pg.locator("nav.menu a", has_text="Hồ sơ").first.is_visible()
    assert pg.locator("form[action='/dang-xuat/'] button").is_visible()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    pg.shot("menu-mo-375")
    axe(pg, "menu mở 375")
    pg.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not pg.locator("nav.menu").is_visible()

    # Wide screens: no button, the menu as a bar.
    pg.set_viewport_size({"width": 1366, "height": 900})
    assert not toggle.is_visible() and pg.locator("nav.menu").is_visible()
    pg.shot("trang-chu-1366")

    # Without JavaScript the button never shows and everything stays reachable.
    cookies = pg.context.cookies()
    plain = browser.new_context(
        base_url=live_server.url, viewport={"width": 375, "height": 812}, java_script_enabled=False
    )
    try:
        plain.add_cookies(cookies)
        nojs = plain.new_page()
        nojs.goto("/")
        assert not nojs.locator("button.menu-toggle").is_visible()
        assert nojs.locator("nav.menu a", has_text="Hồ sơ").first.is_visible()
        assert nojs.evaluate("document.documentElement.scrollWidth") <= 375
        assert chrome_height(nojs) <= 200, "the compact chrome without script"
        nojs.screenshot(path=str(ARTEFACTS / "test_staff_chrome_khong-js-375.png"), full_page=True)
    finally:
        plain.close()


def test_favicon_is_linked_and_served(page):
    pg = page
    pg.goto("/dang-nhap/")
    href = pg.locator("link[rel=icon]").get_attribute("href")
    assert href.endswith("cchc/favicon.svg")
    icon = pg.request.get(href)
    assert icon.status == 200 and "svg" in icon.headers["content-type"]
    legacy = pg.request.get("/favicon.ico", max_redirects=0)
    assert legacy.status == 301 and legacy.headers["location"] == href
    assert pg.request.get("/favicon.ico").status == 200


def test_required_markers_sit_on_the_label_line_and_fields_align(page, settings, tmp_path, clock):
    from django.utils import timezone

    from cchc.org.models import Desk
    from tests.dossiers.conftest import build_world

    settings.MEDIA_ROOT = tmp_path / "files"
    world = build_world(timezone.now())
    world.desk_officer.set_password(PASSWORD)
    world.desk_officer.save()
    desk = Desk.objects.get(code="ttpvhcc-bg")
    pg = page
    login(pg, world.desk_officer.username, PASSWORD)
    for width in (1366, 375):
        pg.set_viewport_size({"width": width, "height": 900})
        pg.goto(f"/ho-so/tiep-nhan/?desk={desk.pk}&procedure={world.procedure.pk}")
        labels = pg.locator(".form-grid > label:has(span[aria-hidden='true'])")
        assert labels.count() >= 1
        for i in range(labels.count()):
            label = labels.nth(i)
            marker = label.locator("span[aria-hidden='true']").bounding_box()
            top = label.bounding_box()["y"]
            assert marker["y"] - top < 12, "the asterisk is on the label's first line"
        # Fields of one grid row end on the same line, whatever the length of their labels.
        boxes = pg.evaluate(
            """() => Array.from(document.querySelectorAll('.form-grid > label')).map(l => {
                const f = l.querySelector(':scope > input:not([type=checkbox]), :scope > select');
                if (!f) return null;
                const b = f.getBoundingClientRect();
                return [l.getBoundingClientRect().x, b.bottom];
            }).filter(Boolean)"""
        )
        rows: list[list[float]] = []
        last_x = None
        for x, bottom in boxes:
            if last_x is None or x <= last_x:
                rows.append([])
            rows[-1].append(bottom)
            last_x = x
        assert rows and all(max(r) - min(r) < 2 for r in rows), rows
        pg.shot(f"tiep-nhan-{width}")
