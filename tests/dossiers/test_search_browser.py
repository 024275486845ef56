"""The desk officer types a phone number, as the citizen says it at the counter, into the
queue's search box and finds the dossier (issue 17, item 4) — in a real browser, at 1366 px
and 375 px wide, with axe-core finding no serious or critical violation. Screenshots:
var/test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import assert_accessible as no_serious_violations
from tests.browser.fixtures import login
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-timkiem-2026!"


@pytest.fixture
def desk_and_dossiers(page, monkeypatch):
    from django.utils import timezone

    from tests.dossiers.conftest import at, build_world
    from tests.dossiers.factories import applicant

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    world = build_world(NOW)
    world.desk_officer.set_password(PASSWORD)
    world.desk_officer.save()
    wanted = world.intake(
        applicant=applicant(name="Trần Văn Đức", phone="0987654321", id_number="038095004321"),
        at=at("2024-06-03", "08:00"),
    )
    other = world.intake(applicant=applicant(), at=at("2024-06-03", "08:30"))
    return world, wanted, other


def search(pg, text: str) -> None:
    box = pg.get_by_role("searchbox", name="Tìm kiếm")
    box.fill(text)
    box.press("Enter")
    pg.wait_for_load_state()


def test_typing_a_phone_number_finds_the_dossier(page, desk_and_dossiers):
    world, wanted, other = desk_and_dossiers
    pg = page
    pg.set_viewport_size({"width": 1366, "height": 900})
    login(pg, world.desk_officer.username, PASSWORD)
    pg.goto("/ho-so/")
    assert pg.get_by_text(other.code).count() >= 1  # both listed before the search

    search(pg, "+84 987 654 321")
    rows = pg.locator("table.queue tbody tr")
    assert pg.get_by_text(wanted.code).count() >= 1
    assert pg.get_by_text(other.code).count() == 0
    assert rows.count() == 1
    assert pg.get_by_role("searchbox", name="Tìm kiếm").input_value() == "+84 987 654 321"
    no_serious_violations(pg, "search-phone-1366")
    pg.shot("phone-1366")

    pg.set_viewport_size({"width": 375, "height": 812})
    search(pg, "0987.654.321")
    assert pg.get_by_text(wanted.code).count() >= 1
    assert pg.get_by_text(other.code).count() == 0
    width = pg.evaluate("document.documentElement.scrollWidth")
    pg.shot("phone-375")
    no_serious_violations(pg, "search-phone-375")
    assert width <= 375, f"trang rộng {width}px ở màn hình 375px"

    # The tail of the code and a too-short text, as people also type them.
    search(pg, wanted.code.split("-", 1)[1])
    assert pg.get_by_text(wanted.code).count() >= 1
    search(pg, "09")
    assert pg.get_by_text("Nhập ít nhất 3 ký tự").count() >= 1
    pg.shot("too-short-375")
