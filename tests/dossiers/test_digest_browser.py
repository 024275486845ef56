"""The agency leader reads the morning digest in the inbox and opens the agency's queue from
it (issue 18, item 5) — in a real browser, at 1366 px and 375 px wide, with axe-core finding
no serious or critical violation. Screenshots: var/test-artifacts/screenshots/."""

from __future__ import annotations

import pytest

from tests.browser.fixtures import check_page, login
from tests.conftest import NOW

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-bantin-2026!"


@pytest.fixture
def leader_with_digest(page, monkeypatch):
    from django.utils import timezone

    from cchc.dossiers import digest
    from tests.dossiers.conftest import at, build_world

    monkeypatch.setattr(timezone, "now", lambda: NOW)
    world = build_world(NOW)
    world.leader.set_password(PASSWORD)
    world.leader.save()
    late = world.intake(at=at("2024-05-27", "09:00"))  # due 30/05: overdue on 03/06
    soon = world.intake(at=at("2024-05-31", "10:00"), procedure=world.quick)  # due 03/06 10:00
    digest.send(now=at("2024-06-03", "07:10"))
    return world, late, soon


def test_leader_reads_the_digest_and_opens_the_queue(page, leader_with_digest):
    world, late, soon = leader_with_digest
    pg = page
    pg.set_viewport_size({"width": 1366, "height": 900})
    login(pg, world.leader.username, PASSWORD)
    pg.goto("/thong-bao/")
    item = pg.locator(".inbox li", has_text="Bản tin hồ sơ ngày 03/06/2024")
    assert item.count() == 1
    text = item.inner_text()
    assert "1 sắp đến hạn, 1 quá hạn chưa xin lỗi" in text
    assert late.code in text and soon.code in text
    assert "Nguyễn Thị Hoà" not in text and "0912345678" not in text
    check_page(pg, "digest-inbox")

    item.get_by_role("button", name="Mở").click()
    pg.wait_for_load_state()
    assert "/ho-so/" in pg.url and "pham_vi=co_quan" in pg.url
    assert pg.get_by_text(late.code).count() >= 1
    check_page(pg, "digest-queue")
