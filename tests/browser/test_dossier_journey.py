"""The one-stop journey in a real browser: the desk receives a dossier and prints form 01,
the processing officer asks for a supplement, the desk records it, the officer proposes,
the leader approves and the desk returns the result. At each step the dossier page must
show the right clocks. Screenshots land in var/test-artifacts/screenshots/.

The live server runs in this process, so the test drives a controllable clock: legal time
is checked against instants chosen here, not the moment the suite happens to run.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.fixtures import login, logout
from tests.conftest import VN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-motcua-2026!"


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current.astimezone(dt.UTC)

    def set(self, day: str, hm: str) -> None:
        self.current = dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=VN)


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    fake = Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=VN))
    monkeypatch.setattr(timezone, "now", fake)
    return fake


@pytest.fixture
def people(page, clock):
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.models import Agency, Desk
    from cchc.org.structure import load_structure
    from tests.factories import make_user

    now = clock.current
    load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=now)
    day = dt.date(2026, 11, 23)
    desk = Desk.objects.valid_on(day).get(code="TTPVHCC-BN")
    justice = Agency.objects.valid_on(day).get(short_name="Sở Tư pháp", agency_type__level__rank=1)

    def user(role, **scope):
        return make_user(role, now=now, password=PASSWORD, **scope)

    return {
        "desk": user("desk_officer", agency=desk.host_agency, desk=desk),
        "officer": user("processing_officer", agency=justice),
        "leader": user("agency_leader", agency=justice),
    }


def clocks(pg) -> dict[str, str]:
    return {
        name: pg.locator(f'[data-clock="{name}"]').inner_text().strip()
        for name in ("original", "due", "paused")
    }


def act(pg, label: str, reason: str | None = None) -> None:
    box = pg.locator("details.action", has=pg.locator("summary", has_text=label)).first
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    form = box.locator("form")
    if reason is not None:
        form.locator("textarea[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    pg.wait_for_load_state()


def test_desk_to_return_with_a_supplement(page, people, clock):
    pg = page
    desk, officer, leader = people["desk"], people["officer"], people["leader"]

    # 1. The desk officer receives a complete dossier on Monday 23/11/2026 at 09:00.
    login(pg, desk.username, PASSWORD)
    pg.click("text=Hồ sơ")
    pg.click("text=+ Tiếp nhận hồ sơ")
    pg.fill("input[name=q]", "ly lich tu phap cho cong dan")
    pg.click("button:has-text('Tìm')")
    pg.locator("tr", has_text="2.000488").locator("a:has-text('Chọn')").click()
    pg.fill("input[name=name]", "Nguyễn Thị Hoà")
    pg.fill("input[name=id_number]", "024190001234")
    pg.fill("input[name=phone]", "0912345678")
    pg.fill("input[name=address]", "Số 5 Ngô Gia Tự, phường Bắc Giang")
    pg.shot("intake-form")
    pg.click("button:has-text('Tiếp nhận và cấp giấy hẹn')")
    pg.wait_for_load_state()
    assert "Đã tiếp nhận hồ sơ" in pg.inner_text(".messages")
    code = pg.locator("h1").inner_text().split()[2]
    assert code.startswith("000.00.16.H05-261123-")
    # 10 working days from Monday 09:00, skipping Tuesday 24/11 (Ngày Văn hóa Việt Nam in
    # the shipped 2026 schedule) → Tuesday 08/12 09:00.
    assert clocks(pg) == {
        "original": "09:00 08/12/2026",
        "due": "09:00 08/12/2026",
        "paused": "Không",
    }
    pg.shot("received")

    # Form 01 opens as a PDF.
    link = pg.locator("a", has_text="Mẫu 01")
    response = pg.context.request.get(link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
    logout(pg)

    # 2. The processing officer asks for a supplement at 11:00.
    clock.set("2026-11-23", "11:00")
    login(pg, officer.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    act(pg, "Yêu cầu bổ sung hồ sơ", "Bổ sung bản sao giấy khai sinh có chứng thực.")
    assert "Chờ bổ sung hồ sơ" in pg.inner_text(".state.big")
    assert "đang tạm dừng từ 11:00 23/11/2026" in clocks(pg)["paused"]
    pg.shot("awaiting-supplement")
    logout(pg)

    # 3. The citizen brings it on Wednesday at 11:00: paused Monday 11:00–17:30 (4.5 h) and
    # Wednesday 07:30–11:00 (3.5 h), Tuesday being a day off: one working day.
    clock.set("2026-11-25", "11:00")
    login(pg, desk.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    act(pg, "Nhận hồ sơ bổ sung")
    assert clocks(pg) == {
        "original": "09:00 08/12/2026",
        "due": "09:00 09/12/2026",
        "paused": "1 ngày làm việc",
    }
    pg.shot("supplement-received")
    logout(pg)

    # 4. The officer proposes the result on Thursday 09:00.
    clock.set("2026-11-26", "09:00")
    login(pg, officer.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    act(pg, "Trình lãnh đạo phê duyệt")
    assert "Chờ lãnh đạo phê duyệt" in pg.inner_text(".state.big")
    logout(pg)

    # 5. The leader approves at 10:00; the result gets its electronic code.
    clock.set("2026-11-26", "10:00")
    login(pg, leader.username, PASSWORD)
    pg.goto("/ho-so/")
    assert code in pg.inner_text("table.queue")
    pg.goto(f"/ho-so/{code}/")
    act(pg, "Phê duyệt kết quả")
    assert "Đã xử lý xong" in pg.inner_text(".state.big")
    assert f"{code}-KQ1" in pg.inner_text("body")
    pg.shot("approved")
    logout(pg)

    # 6. The desk returns the result at 14:00: finished early (before the due date).
    clock.set("2026-11-26", "14:00")
    login(pg, desk.username, PASSWORD)
    pg.goto(f"/ho-so/{code}/")
    act(pg, "Trả kết quả")
    assert "Đã trả kết quả" in pg.inner_text(".state.big")
    assert "Trước hạn" in pg.inner_text("h1 + p, .heading-row")
    assert clocks(pg)["due"] == "09:00 09/12/2026"
    timeline = pg.inner_text("ol.timeline")
    for label in ("Tiếp nhận hồ sơ", "Yêu cầu bổ sung hồ sơ", "Nhận hồ sơ bổ sung", "Trả kết quả"):
        assert label in timeline
    pg.shot("returned")
