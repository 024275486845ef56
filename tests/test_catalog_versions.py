"""Effective-dated procedure versions and the per-procedure reception cut-off (issue 19
items 6 and 7): the catalogue keeps every version, the procedure row is the one in force,
dossiers keep the version in force at receipt, imports and the API create versions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.template import Context, Template

from cchc import legaltime
from cchc.accounts.policy import SYSTEM
from cchc.audit.models import AuditEntry
from cchc.calendars.services import calendar_for
from cchc.catalog import services, versions
from cchc.catalog.models import Procedure, ProcedureVersion, RequiredDocument
from cchc.catalog.services import DocumentData, ProcedureData, StepData, save_procedure
from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import DossierComponent, DossierProcedureVersion
from cchc.errors import InvalidInput
from tests.conftest import VN
from tests.dossiers.conftest import build_world
from tests.dossiers.factories import components_for

pytestmark = pytest.mark.django_db

# Illustrative only: the new civil-status law's date is not verified here (see the README).
LAW_DATE = dt.date(2027, 3, 1)
NOTARY_RULE = "Nghị định 23/2015/NĐ-CP (thời hạn chứng thực; điều khoản chưa xác minh)"


def at(day: str, hm: str = "09:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=VN)


def birth(**changes) -> ProcedureData:
    base = {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        "field_name": "Hộ tịch",
        "levels": ("province",),
        "agency_type": "so-tu-phap",
        "processing_time": Decimal(1),
        "fees": (("Lệ phí", 8_000),),
        "documents": (DocumentData("Tờ khai đăng ký khai sinh", originals=1),),
        "steps": (StepData("Tiếp nhận", Decimal(2)), StepData("Xử lý", Decimal(6))),
    }
    return ProcedureData(**{**base, **changes})


NEW_LAW = {
    "processing_time": Decimal(2),
    "fees": (),
    "documents": (
        DocumentData("Tờ khai đăng ký khai sinh (mẫu mới)", originals=1),
        DocumentData("Giấy chứng sinh", copies=1),
    ),
    "steps": (StepData("Tiếp nhận", Decimal(4)), StepData("Xử lý", Decimal(12))),
    "effective_from": LAW_DATE,
    "basis": "Luật Hộ tịch 2026 (ngày hiệu lực chưa xác minh)",
}


def test_a_future_version_waits_for_its_date_then_becomes_the_row(org, now):
    p, outcome = save_procedure(SYSTEM, birth(), now=now)
    assert outcome == "created" and p.version == 1
    p, outcome = save_procedure(SYSTEM, birth(**NEW_LAW), now=now)
    assert outcome == "updated"
    p.refresh_from_db()
    # Not in force yet: the row (what pages, the portal and intake read) is version 1.
    assert (p.version, p.duration_spec, p.total_fee) == (1, "1wd", 8_000)
    assert [d.name for d in p.documents.all()] == ["Tờ khai đăng ký khai sinh"]
    assert [(v.number, v.effective_from) for v in versions.history(p)] == [
        (2, LAW_DATE),
        (1, now.date()),
    ]
    entry = AuditEntry.objects.filter(action="catalog.procedure.updated").get()
    assert entry.data["version"] == {
        "number": 2,
        "effective_from": "2027-03-01",
        "basis": NEW_LAW["basis"],
    }
    # The day before nothing is due; on the day the row takes version 2.
    assert services.apply_versions_due(now=at("2027-02-28", "23:59")) == []
    assert services.apply_versions_due(now=at("2027-03-01", "00:05")) == [("1.001193", 2)]
    p.refresh_from_db()
    assert (p.version, p.duration_spec, p.total_fee) == (2, "2wd", 0)
    assert [d.name for d in p.documents.all()] == [
        "Tờ khai đăng ký khai sinh (mẫu mới)",
        "Giấy chứng sinh",
    ]
    assert [s.duration_spec for s in p.steps.all()] == ["4wh", "12wh"]
    # Version 1's rows are kept (dossiers point at them), they just left the row.
    old = ProcedureVersion.objects.get(procedure=p, number=1)
    assert [d.name for d in old.documents.all()] == ["Tờ khai đăng ký khai sinh"]
    assert RequiredDocument.objects.filter(procedure__isnull=True, version=old).count() == 1
    assert AuditEntry.objects.filter(action="catalog.procedure.version_applied").count() == 1
    assert services.apply_versions_due(now=at("2027-03-02")) == []


def test_saving_again_is_a_no_op_for_the_version_in_force_on_its_date(org, now):
    save_procedure(SYSTEM, birth(), now=now)
    save_procedure(SYSTEM, birth(**NEW_LAW), now=now)
    audit = AuditEntry.objects.count()
    assert save_procedure(SYSTEM, birth(), now=now)[1] == "unchanged"
    assert save_procedure(SYSTEM, birth(**NEW_LAW), now=now)[1] == "unchanged"
    assert ProcedureVersion.objects.count() == 2 and AuditEntry.objects.count() == audit
    # A correction in force today is a new version that becomes the row at once.
    p, outcome = save_procedure(SYSTEM, birth(fees=(("Lệ phí", 10_000),)), now=now)
    assert outcome == "updated" and p.version == 3 and p.total_fee == 10_000
    # …and the law's version still takes over on its date.
    assert versions.in_force(p, LAW_DATE).number == 2
    assert versions.in_force(p, now.date()).number == 3
    # A day before every version gets the first one.
    assert versions.in_force(p, dt.date(2001, 1, 1)).number == 1


def test_changing_documents_keeps_those_dossiers_point_at(org, now):
    world = build_world(now, org)
    dossier = world.intake()
    doc_ids = set(
        DossierComponent.objects.filter(dossier=dossier).values_list("document_id", flat=True)
    )
    assert doc_ids and None not in doc_ids
    p, outcome = save_procedure(
        SYSTEM,
        ProcedureData(
            code=world.procedure.code,
            name=world.procedure.name,
            field_name="Lý lịch tư pháp",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(3),
            documents=(DocumentData("Tờ khai (mẫu mới)", originals=1),),
        ),
        now=now + dt.timedelta(hours=1),
    )
    assert outcome == "updated" and [d.name for d in p.documents.all()] == ["Tờ khai (mẫu mới)"]
    assert RequiredDocument.objects.filter(pk__in=doc_ids).count() == len(doc_ids)


def test_dossiers_keep_the_version_in_force_at_receipt(org, now):
    world = build_world(now, org)
    save_procedure(SYSTEM, birth(), now=now)
    # (The 2024 desk closes with the 2025 reorganisation: a date it still works on.)
    p, _ = save_procedure(
        SYSTEM, birth(**{**NEW_LAW, "effective_from": dt.date(2024, 7, 1)}), now=now
    )
    before = world.intake(procedure=p, at=at("2024-06-28", "09:00"))
    # Received on the law's date, from the row still holding version 1 (the daily job has
    # not run yet): the dossier takes version 2, the version in force that day.
    version2 = ProcedureVersion.objects.get(procedure=p, number=2)
    after = world.intake(
        procedure=p,
        at=at("2024-07-01", "09:00"),
        components=components_for(version2),
    )
    assert DossierProcedureVersion.objects.get(dossier=before).version.number == 1
    assert DossierProcedureVersion.objects.get(dossier=after).version.number == 2
    assert (before.duration_spec, before.fee_total) == ("1wd", 8_000)
    assert (after.duration_spec, after.fee_total) == ("2wd", 0)
    assert [s["budget"] for s in after.step_plan] == ["4wh", "12wh"]
    assert sorted(c.name for c in after.components.all()) == [
        "Giấy chứng sinh",
        "Tờ khai đăng ký khai sinh (mẫu mới)",
    ]
    # Version 1's documents are not version 2's: the desk must hand in version 2's.
    with pytest.raises(InvalidInput, match="Giấy chứng sinh"):
        world.intake(procedure=p, at=at("2024-07-01", "10:00"))


def notary(**changes) -> ProcedureData:
    return ProcedureData(
        **{
            "code": "2.000815",
            "name": "Chứng thực bản sao từ bản chính",
            "field_name": "Chứng thực",
            "levels": ("province",),
            "agency_type": "so-tu-phap",
            "processing_time": Decimal(0),
            "documents": (DocumentData("Bản chính giấy tờ", originals=1),),
            "cutoff": dt.time(15, 0),
            "cutoff_source": NOTARY_RULE,
            "cutoff_verified": False,
            **changes,
        }
    )


def test_a_procedures_own_cutoff_applies_to_its_dossiers_clock(org, now, django_assert_num_queries):
    world = build_world(now, org)
    p, _ = save_procedure(SYSTEM, notary(), now=now)
    assert p.cutoff == dt.time(15, 0) and "chưa đối chiếu" in p.cutoff_label
    # Monday 3/6/2024 15:30, after the procedure's 15:00 (the desk calendar has none).
    dossier = world.intake(procedure=p, at=at("2024-06-03", "15:30"))
    rule = DossierProcedureVersion.rule_for(dossier)
    assert rule == versions.ReceptionRule(dt.time(15, 0), NOTARY_RULE, False)
    calendar = calendar_for(dossier.calendar_code, saturday_reception=dossier.saturday_reception)
    assert calendar.cutoff is None  # the global setting
    own = rule.apply(calendar)
    assert own.version == calendar.version
    result = legaltime.explain_due(own, dossier.received_at, dossier.duration_spec)
    assert result.start == at("2024-06-04", "07:30")
    assert result.due == at("2024-06-04", "17:30")
    start = result.explanation.of_kind(legaltime.ItemKind.START_RULE)[0]
    assert "giờ chốt riêng của thủ tục, theo Nghị định 23/2015/NĐ-CP" in start.text
    assert start.source == NOTARY_RULE and start.verified is False
    # A procedure without a cut-off of its own follows the calendar's.
    plain = world.intake(at=at("2024-06-03", "15:30"))
    assert DossierProcedureVersion.rule_for(plain) is None
    # Read with its version, a dossier's rule costs no query (lists, the daily scan).
    from cchc.dossiers.models import Dossier

    rows = Dossier.objects.filter(pk__in=[dossier.pk, plain.pk]).select_related(
        "procedure_terms__version"
    )
    with django_assert_num_queries(1):
        rules = {d.pk: DossierProcedureVersion.rule_for(d) for d in rows}
    assert rules == {dossier.pk: rule, plain.pk: None}
    # The bulk path gets the same per-row cut-offs in one query.
    ids = [DossierProcedureVersion.objects.get(dossier=d).version_id for d in (dossier, plain)]
    cutoffs = versions.cutoff_array([*ids, None])
    assert list(cutoffs) == [15 * 3600, legaltime.CALENDAR_CUTOFF, legaltime.CALENDAR_CUTOFF]
    received = legaltime.to_epoch_array([dossier.received_at, plain.received_at, plain.received_at])
    starts = legaltime.bulk_start(calendar, received, cutoffs=cutoffs)
    assert list(legaltime.from_epoch_array(starts)) == [
        at("2024-06-04", "07:30"),
        at("2024-06-03", "15:30"),
        at("2024-06-03", "15:30"),
    ]


def test_cutoff_needs_its_source(org, now):
    with pytest.raises(InvalidInput, match="căn cứ pháp lý"):
        save_procedure(SYSTEM, notary(cutoff_source=" "), now=now)
    with pytest.raises(InvalidInput, match="chưa có giờ chốt"):
        save_procedure(SYSTEM, birth(cutoff_source=NOTARY_RULE), now=now)
    assert not Procedure.objects.exists()


def test_import_columns_for_cutoff_and_effective_date(org, now):
    from tests.test_catalog_import import csv_bytes, row, run

    rows = [
        row(
            **{
                "Mã TTHC": "2.000815",
                "Giờ chốt tiếp nhận": "15h",
                "Căn cứ giờ chốt": NOTARY_RULE,
                "Giờ chốt đã xác minh": "Không",
            }
        ),
        row(**{"Mã TTHC": "2.000816", "Giờ chốt tiếp nhận": "25:00", "Căn cứ giờ chốt": "x"}),
        row(**{"Mã TTHC": "2.000817", "Giờ chốt tiếp nhận": "15:00"}),
    ]
    report = run(csv_bytes(rows), now)
    assert report.created == 1
    assert [(e.line, e.reason) for e in report.rejected] == [
        (3, "cột 'Giờ chốt tiếp nhận': giờ '25:00' không hợp lệ, cần dạng 15:00"),
        (
            4,
            "Giờ chốt tiếp nhận riêng cần ghi căn cứ pháp lý (văn bản, điều khoản); chưa đối "
            "chiếu được thì ghi nguồn và để 'chưa xác minh'.",
        ),
    ]
    p = Procedure.objects.get(code="2.000815")
    assert (p.cutoff, p.cutoff_source, p.cutoff_verified) == (dt.time(15), NOTARY_RULE, False)
    # The same file again changes nothing; a dated row makes a version for that date.
    assert run(csv_bytes(rows[:1]), now).unchanged == 1
    dated = row(
        **{
            "Mã TTHC": "2.000815",
            "Thời hạn giải quyết": "1",
            "Hiệu lực từ": "01/03/2027",
            "Văn bản căn cứ": "Quyết định công bố mới",
        }
    )
    report = run(csv_bytes([dated]), now)
    assert report.updated == 1, report.rejected
    assert [(v.number, v.effective_from, v.cutoff) for v in versions.history(p)] == [
        (2, LAW_DATE, None),
        (1, now.date(), dt.time(15)),
    ]
    assert run(csv_bytes([dated]), now).unchanged == 1
    p.refresh_from_db()
    assert p.version == 1 and p.cutoff == dt.time(15)


def test_api_lists_versions_and_puts_a_dated_one(org, now, make_user):
    from django.test import Client

    from cchc.accounts.roles import Role

    save_procedure(SYSTEM, birth(), now=now)
    admin = make_user(Role.ADMINISTRATOR)
    client = Client()
    client.force_login(admin)
    body = {
        "name": "Đăng ký khai sinh",
        "field": "Hộ tịch",
        "levels": ["province"],
        "agency_type": "so-tu-phap",
        "processing_time": "2",
        "effective_from": "2027-03-01",
        "basis": "Luật Hộ tịch 2026",
        "cutoff": "16:00",
        "cutoff_source": "Quyết định của UBND tỉnh",
    }
    response = client.put(
        "/api/catalog/procedures/1.001193", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["procedure"]["version"] == 1  # version 2 is not in force yet
    listed = client.get("/api/catalog/procedures/1.001193/versions").json()
    assert [(v["number"], v["effective_from"], v["in_force"]) for v in listed] == [
        (2, "2027-03-01", False),
        (1, now.date().isoformat(), True),
    ]
    assert listed[0]["cutoff"] == "16:00:00" and listed[0]["duration"] == "2wd"
    assert client.get("/api/catalog/procedures/9.999/versions").status_code == 404


def test_command_applies_due_versions_and_lists_history(org, now):
    save_procedure(SYSTEM, birth(), now=now)
    save_procedure(SYSTEM, birth(**NEW_LAW), now=now)
    out = StringIO()
    call_command("catalog", "versions", "1.001193", "--json", stdout=out)
    assert [r["number"] for r in json.loads(out.getvalue())] == [2, 1]
    out = StringIO()
    call_command(
        "catalog", "apply-versions", "--now", "2027-03-01T00:05+07:00", "--json", stdout=out
    )
    assert json.loads(out.getvalue()) == {"applied": [{"code": "1.001193", "version": 2}]}
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="không hợp lệ") as caught:
        call_command("catalog", "apply-versions", "--now", "mai")
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="Không có thủ tục") as caught:
        call_command("catalog", "versions", "0.000")
    assert caught.value.returncode == 4


def test_the_catalogue_page_fragment_shows_the_history(org, now, django_assert_max_num_queries):
    p, _ = save_procedure(SYSTEM, notary(), now=now)
    save_procedure(SYSTEM, notary(processing_time=Decimal(1), **{
        "effective_from": LAW_DATE, "basis": "Luật Hộ tịch 2026"}), now=now)  # fmt: skip
    template = Template("{% load catalog_versions %}{% procedure_versions p %}")
    with django_assert_max_num_queries(6):
        html = template.render(Context({"p": p}))
    assert "Lịch sử phiên bản" in html
    assert "01/03/2027" in html and "Luật Hộ tịch 2026" in html
    assert "Đang áp dụng" in html and "15:00" in html
    assert "chưa đối chiếu văn bản pháp lý" in html


def test_first_versions_migration_records_the_row_as_version_one(org, now):
    import importlib

    migration = importlib.import_module(
        "cchc.catalog.migrations.0002_procedure_versions_and_cutoff"
    )
    p, _ = save_procedure(SYSTEM, birth(), now=now)
    # As before versions existed: the row and its rows, no version.
    for name in ("ProcedureFee", "RequiredDocument", "ProcedureStep"):
        apps.get_model("catalog", name).objects.update(version=None)
    ProcedureVersion.objects.all().delete()
    Procedure.objects.update(version=0, decision_date=dt.date(2024, 3, 15))
    migration.record_first_versions(apps, None)
    p.refresh_from_db()
    first = ProcedureVersion.objects.get(procedure=p)
    assert (p.version, first.number, first.effective_from) == (1, 1, dt.date(2024, 3, 15))
    assert first.duration_spec == "1wd" and first.levels == ["province"]
    assert [d.name for d in first.documents.all()] == ["Tờ khai đăng ký khai sinh"]
    migration.forget_versions(apps, None)
    assert not ProcedureVersion.objects.exists()
    assert [d.name for d in p.documents.all()] == ["Tờ khai đăng ký khai sinh"]


def test_the_dossiers_own_clock_and_explanation_follow_the_procedures_cutoff(org, now):
    world = build_world(now, org)
    p, _ = save_procedure(SYSTEM, notary(), now=now)
    dossier = world.intake(procedure=p, at=at("2024-06-03", "15:30"))
    assert dossier.clock_start == at("2024-06-04", "07:30")
    assert dossier.due == at("2024-06-04", "17:30")
    text = str(dossier_services.explain(dossier).explanation)
    assert "giờ chốt riêng của thủ tục, theo Nghị định 23/2015/NĐ-CP" in text
