"""The counter in a real browser (issue 17, part "counter"): an intake sent with a missing
field comes back with everything kept (fields, ticks, counts, the attached file), is fixed
and received; the success banner offers form 01, which opens as a PDF. axe-core (no serious
or critical violation) on the intake and dossier pages; screenshots at 1366 and 375 px.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.fixtures import check_page as check
from tests.browser.fixtures import login
from tests.conftest import VN

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Mk-motcua-2026!"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def counter(page, monkeypatch):
    """The demo organisation and catalogue, a desk officer, Monday 23/11/2026 09:00."""
    from django.utils import timezone

    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import ProcedureImporter
    from cchc.catalog.models import Procedure
    from cchc.demo.loader import DATA_DIR
    from cchc.org.models import Desk
    from cchc.org.structure import load_structure
    from tests.factories import make_user

    now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=VN)
    monkeypatch.setattr(timezone, "now", lambda: now.astimezone(dt.UTC))
    load_structure(SYSTEM, DATA_DIR / "org.json", now=now, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=now)
    desk = Desk.objects.valid_on(now.date()).get(code="TTPVHCC-BN")
    officer = make_user(
        "desk_officer", now=now, password=PASSWORD, agency=desk.host_agency, desk=desk
    )
    procedure = Procedure.objects.get(code="2.000488")
    return {"desk": desk, "officer": officer, "procedure": procedure}


def test_intake_error_keeps_everything_then_receipt_prints(page, counter, tmp_path):
    pg = page
    procedure = counter["procedure"]
    docs = list(procedure.documents.order_by("pk"))
    first = docs[0]
    login(pg, counter["officer"].username, PASSWORD)
    pg.goto(f"/ho-so/tiep-nhan/?desk={counter['desk'].pk}&procedure={procedure.pk}")
    check(pg, "intake-empty")

    # A wrong ID number and a mandatory document left unticked (the browser's own checks
    # pass: the server finds them); a count changed, re-use ticked, a file attached.
    missing = next(d for d in docs if d.mandatory and d.pk != first.pk)
    pg.fill("input[name=name]", "Nguyễn Thị Hoà")
    pg.fill("input[name=id_number]", "02419")
    pg.uncheck(f"input[name=doc_{missing.pk}_given]")
    pg.fill("input[name=phone]", "0912345678")
    pg.fill("input[name=address]", "Số 5 Ngô Gia Tự, phường Bắc Giang")
    pg.fill(f"input[name=doc_{first.pk}_originals]", "2")
    attachment = tmp_path / "to-khai.pdf"
    attachment.write_bytes(PDF)
    pg.set_input_files(f"input[name=doc_{first.pk}_file]", str(attachment))
    ticked = {
        d.pk: pg.is_checked(f"input[name=doc_{d.pk}_given]") for d in docs
    }  # what the officer left ticked
    pg.click("button:has-text('Tiếp nhận và cấp giấy hẹn')")
    pg.wait_for_load_state()

    problems = pg.inner_text("#problems")
    assert "Số định danh" in problems
    assert f"Thiếu «{missing.name}»" in problems
    assert "vẫn được giữ nguyên" in pg.inner_text(".messages")
    for d in docs:
        assert pg.is_checked(f"input[name=doc_{d.pk}_given]") == ticked[d.pk]
    assert pg.input_value(f"input[name=doc_{first.pk}_originals]") == "2"
    assert pg.input_value("input[name=address]") == "Số 5 Ngô Gia Tự, phường Bắc Giang"
    assert pg.input_value("input[name=name]") == "Nguyễn Thị Hoà"
    assert "Đã tải lên: to-khai.pdf" in pg.inner_text(".pending-file")
    check(pg, "intake-error-kept")

    # Fixed: received once, with the file the officer attached the first time.
    pg.fill("input[name=id_number]", "024190001234")
    pg.check(f"input[name=doc_{missing.pk}_given]")
    pg.click("button:has-text('Tiếp nhận và cấp giấy hẹn')")
    pg.wait_for_load_state()
    banner = pg.inner_text(".messages")
    assert "Đã tiếp nhận hồ sơ" in banner
    code = pg.locator("h1").inner_text().split()[2]
    assert "to-khai.pdf" in pg.inner_text("#docs-h + ul")
    button = pg.locator(".messages a.button", has_text="In giấy tiếp nhận hồ sơ và hẹn trả")
    assert button.is_visible()
    # Nothing dangerous is open; the first action is not a destructive one.
    first_action = pg.locator("details.action").first
    assert "danger" not in (first_action.locator("summary").get_attribute("class") or "")
    for box in pg.locator("details.action:has(summary.danger)").all():
        assert box.get_attribute("open") is None
    check(pg, "received-banner")

    response = pg.context.request.get(button.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    # Back on the page later: the print button is at the top.
    pg.goto(f"/ho-so/{code}/")
    assert pg.locator(".print-first a.button", has_text="In giấy tiếp nhận").is_visible()
    check(pg, "received-page")
