"""`RequiredDocument.signature_required` carried everywhere a procedure's documents are copied
or loaded (issue 21 leftovers, item 4): new versions through the services, the catalogue
importer's column "Yêu cầu ký số" (Có/Không; empty keeps the local value; a bad value is a
precise row error), the national catalogue sync (no national field for it: the local value
survives the sync), the admin's new-version form and the REST API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from cchc.accounts.policy import SYSTEM
from cchc.accounts.roles import Role
from cchc.catalog.models import Procedure, ProcedureVersion, RequiredDocument
from cchc.catalog.services import DocumentData, ProcedureData, save_procedure
from tests.test_catalog_import import GOOD, csv_bytes, run
from tests.test_national_catalogue import admin, national, procedures, sim  # noqa: F401

pytestmark = pytest.mark.django_db


def data(**changes) -> ProcedureData:
    base = {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "field_name": "Hộ tịch",
        "levels": ("province",),
        "agency_type": "so-tu-phap",
        "processing_time": Decimal(1),
        "documents": (
            DocumentData("Tờ khai", originals=1, signature_required=True),
            DocumentData("Giấy chứng sinh", copies=1),
        ),
    }
    return ProcedureData(**{**base, **changes})


def flags(terms) -> list[tuple[str, bool]]:
    return [(d.name, d.signature_required) for d in terms.documents.all()]


def test_new_versions_keep_the_requirement_unless_told(org, now) -> None:
    p, outcome = save_procedure(SYSTEM, data(), now=now)
    assert outcome == "created"
    assert flags(p) == [("Tờ khai", True), ("Giấy chứng sinh", False)]
    # A change that does not say (None): the document of the same name keeps its flag, in
    # the new version and then in the procedure row.
    unsaid = (DocumentData("Tờ khai", originals=1), DocumentData("Giấy chứng sinh", copies=1))
    p, outcome = save_procedure(SYSTEM, data(processing_time=Decimal(2), documents=unsaid), now=now)
    assert outcome == "updated"
    assert flags(p.versions.get(number=2)) == [("Tờ khai", True), ("Giấy chứng sinh", False)]
    assert flags(Procedure.objects.get(pk=p.pk)) == flags(p.versions.get(number=2))
    # Saying nothing again is no change at all (imports stay idempotent).
    assert (
        save_procedure(SYSTEM, data(processing_time=Decimal(2), documents=unsaid), now=now)[1]
        == "unchanged"
    )
    # Turning it off is a change: a new version.
    off = (DocumentData("Tờ khai", originals=1, signature_required=False),)
    p, outcome = save_procedure(SYSTEM, data(processing_time=Decimal(2), documents=off), now=now)
    assert outcome == "updated" and flags(p.versions.get(number=3)) == [("Tờ khai", False)]
    # The earlier versions' rows are untouched (dossiers point at them).
    assert flags(p.versions.get(number=1))[0] == ("Tờ khai", True)


def test_the_importer_column(org, now) -> None:
    row = {**GOOD, "Yêu cầu ký số": "Có"}
    report = run(csv_bytes([row]), now)
    assert (report.created, report.rejected) == (1, [])
    birth = Procedure.objects.get(code=GOOD["Mã TTHC"])
    assert {flag for _, flag in flags(birth)} == {True}
    # Empty: unchanged (the local value stays), a re-import is a no-op.
    report = run(csv_bytes([{**GOOD, "Yêu cầu ký số": ""}]), now)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 1)
    assert {flag for _, flag in flags(Procedure.objects.get(pk=birth.pk))} == {True}
    # "Không": a new version without the requirement.
    report = run(csv_bytes([{**GOOD, "Yêu cầu ký số": "không"}]), now)
    assert report.updated == 1
    assert {flag for _, flag in flags(Procedure.objects.get(pk=birth.pk))} == {False}
    # A bad value: the row is refused with the column, the value and what is expected.
    report = run(csv_bytes([{**GOOD, "Yêu cầu ký số": "bắt buộc"}]), now)
    (refused,) = report.rejected
    assert refused.line == 2
    assert refused.reason == (
        "cột 'Yêu cầu ký số': giá trị 'bắt buộc' không hợp lệ, cần 'Có' (mọi giấy tờ của thủ "
        "tục phải ký số) hoặc 'Không', hoặc để trống để giữ nguyên"
    )


def test_the_national_sync_keeps_the_local_requirement(national, now) -> None:  # noqa: F811
    from cchc.catalog.services import apply_versions_due
    from cchc.national import catalogue

    local = Procedure.objects.get(code="1.000001")
    RequiredDocument.objects.filter(procedure=local, name="Tờ khai").update(signature_required=True)
    RequiredDocument.objects.filter(version__procedure=local, name="Tờ khai").update(
        signature_required=True
    )
    sync = catalogue.fetch(now)
    # The national payload has no such field: no difference is reported for it.
    changed = {c["code"]: c for c in sync.diff["changed"]}
    assert {c["field"] for c in changed["1.000001"]["changes"]} >= {"fees"}
    assert "documents" not in {c["field"] for c in changed["1.000001"]["changes"]}
    catalogue.apply(SYSTEM, sync.pk, now)
    version = ProcedureVersion.objects.get(procedure=local, number=2)
    assert flags(version) == [("Tờ khai", True)]
    apply_versions_due(now=now + dt.timedelta(days=1), actor=SYSTEM)
    assert flags(Procedure.objects.get(pk=local.pk)) == [("Tờ khai", True)]
    # A procedure the sync creates starts without the requirement.
    from cchc.nationalsim import seeding

    new = Procedure.objects.get(code=seeding.NEW_PROCEDURE)
    assert {flag for _, flag in flags(new)} == {False}


def test_the_admin_new_version_form_carries_it(org, now, make_user) -> None:
    p, _ = save_procedure(SYSTEM, data(), now=now)
    web = Client()
    web.force_login(make_user(Role.ADMINISTRATOR))
    html = web.get(f"/admin/catalog/procedureversion/add/?procedure={p.pk}").content.decode()
    # Row 0 (Tờ khai) starts checked, row 1 (Giấy chứng sinh) unchecked.
    import re

    boxes = dict(
        re.findall(r'<input type="checkbox" name="documents-(\d)-signature_required"([^>]*)>', html)
    )
    assert "checked" in boxes["0"] and "checked" not in boxes["1"]


def test_the_api_reads_and_writes_it(org, now, make_user) -> None:
    p, _ = save_procedure(SYSTEM, data(), now=now)
    web = Client()
    web.force_login(make_user(Role.ADMINISTRATOR))
    answer = web.get(f"/api/catalog/procedures/{p.code}")
    assert answer.status_code == 200, answer.content[:300]
    docs = answer.json()["documents"]
    assert [(d["name"], d["signature_required"]) for d in docs] == [
        ("Tờ khai", True),
        ("Giấy chứng sinh", False),
    ]
