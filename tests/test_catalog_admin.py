"""The catalogue in the admin (issue 19 item 7): a procedure's terms change only through
a new effective-dated version, pre-filled with the version in force; adding a procedure
records its version 1."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.audit.models import AuditEntry
from cchc.catalog.models import Procedure, ProcedureVersion
from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure

pytestmark = pytest.mark.django_db

ADD = "/admin/catalog/procedureversion/add/"


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(Role.ADMINISTRATOR))
    return client


@pytest.fixture
def procedure(org, now):
    p, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.001193",
            name="Đăng ký khai sinh",
            field_name="Hộ tịch",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(1),
            fees=(("Lệ phí", 8_000),),
            documents=(DocumentData("Tờ khai", originals=1),),
            steps=(StepData("Tiếp nhận", Decimal(2)), StepData("Xử lý", Decimal(6))),
        ),
        now=now,
    )
    return p


def _post_data(page_initial: dict, procedure: Procedure, **changes) -> dict:
    data = {
        "procedure": procedure.pk,
        "effective_from": "2027-03-01",
        "basis": "Luật Hộ tịch 2026",
        "name": procedure.name,
        "field": procedure.field_id,
        "competent_agency_type": procedure.competent_agency_type_id,
        "processing_time": "2",
        "processing_time_unit": "wd",
        "result_type": "paper",
        "online_level": "none",
        "active": "on",
        "levels": ["province"],
        "cutoff": "",
        "cutoff_source": "",
        "cutoff_note": "",
        "decision_number": "",
        "decision_date": "",
    }
    for prefix, rows in page_initial.items():
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = 0
        data[f"{prefix}-MIN_NUM_FORMS"] = 0
        data[f"{prefix}-MAX_NUM_FORMS"] = 1000
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = value
    data.update(changes)
    return data


ROWS = {
    "fees": [{"position": 0, "name": "Lệ phí", "amount": 8000}],
    "documents": [{"position": 0, "name": "Tờ khai (mẫu mới)", "originals": 1, "copies": 0,
                   "mandatory": "on"}],
    "steps": [
        {"position": 0, "name": "Tiếp nhận", "budget": "4", "budget_unit": "wh"},
        {"position": 1, "name": "Xử lý", "budget": "12", "budget_unit": "wh"},
    ],
}  # fmt: skip


def test_the_new_version_form_starts_from_the_version_in_force(admin_client, procedure):
    page = admin_client.get(f"/admin/catalog/procedure/{procedure.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tạo phiên bản mới" in html and f"{ADD}?procedure={procedure.pk}" in html
    form = admin_client.get(f"{ADD}?procedure={procedure.pk}")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'value="Đăng ký khai sinh"' in html and 'value="Tờ khai"' in html
    assert 'value="Xử lý"' in html


def test_a_dated_version_from_the_admin_waits_for_its_date(admin_client, procedure):
    response = admin_client.post(ADD, _post_data(_prefixes(admin_client, procedure), procedure))
    assert response.status_code == 302, response.content.decode()[:3000]
    version = ProcedureVersion.objects.get(procedure=procedure, number=2)
    assert version.effective_from == dt.date(2027, 3, 1) and version.duration_spec == "2wd"
    assert [d.name for d in version.documents.all()] == ["Tờ khai (mẫu mới)"]
    procedure.refresh_from_db()
    assert procedure.version == 1 and procedure.duration_spec == "1wd"
    entry = AuditEntry.objects.get(action="catalog.procedure.version_added")
    assert entry.data["applied"] is False and entry.data["number"] == 2
    # Written versions are not edited: the page is read-only.
    page = admin_client.get(f"/admin/catalog/procedureversion/{version.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_a_version_in_force_today_becomes_the_row(admin_client, procedure, now):
    today = now.date().isoformat()
    data = _post_data(_prefixes(admin_client, procedure), procedure, effective_from=today)
    assert admin_client.post(ADD, data).status_code == 302
    procedure.refresh_from_db()
    assert procedure.version == 2 and procedure.duration_spec == "2wd"
    assert [d.name for d in procedure.documents.all()] == ["Tờ khai (mẫu mới)"]


def test_bad_versions_are_refused_with_a_message(admin_client, procedure):
    prefixes = _prefixes(admin_client, procedure)
    data = _post_data(prefixes, procedure, processing_time="3")
    html = admin_client.post(ADD, data).content.decode()
    assert "Tổng thời gian các bước (16 giờ làm việc) khác thời hạn giải quyết" in html
    data = _post_data(prefixes, procedure, cutoff="15:00")
    html = admin_client.post(ADD, data).content.decode()
    assert "cần ghi căn cứ pháp lý" in html
    assert ProcedureVersion.objects.filter(procedure=procedure).count() == 1


def _prefixes(client, procedure) -> dict:
    """The inline formset prefixes of the version form, with the rows to post."""
    html = client.get(f"{ADD}?procedure={procedure.pk}").content.decode()
    out = {}
    for key, rows in ROWS.items():
        for prefix in (f"{key}", f"{key}-2", "procedurefee_set", "requireddocument_set"):
            if f'name="{prefix}-TOTAL_FORMS"' in html:
                out[prefix] = rows
                break
        else:  # pragma: no cover - the test would be wrong, say so
            raise AssertionError(f"no formset for {key}")
    return out
