"""Registers: imports with bad rows, idempotence, permissions; summaries; scorecard."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cchc.errors import PermissionDenied
from cchc.plans import parindex, registers
from cchc.plans.models import ExternalIndex, LegalDocument, WorkRecordStat
from cchc.tabular.registry import importer
from tests.conftest import VN  # noqa: F401
from tests.plans.conftest import agency
from tests.plans.helpers import at

LEGAL = (
    "Sổ theo dõi văn bản QPPL năm 2024\n"
    "Số ký hiệu,Ngày ban hành,Loại văn bản,Trích yếu,Cơ quan chủ trì soạn thảo,"
    "Đã thẩm định,Đã lấy ý kiến,Đã đăng công báo,Ghi chú\n"
    "01/2024/QĐ-UBND,15/03/2024,Quyết định,Quy định A,Sở Tư pháp,Có,Có,Có,\n"
    "02/2024/QĐ-UBND,31/02/2024,Quyết định,Quy định B,Sở Tư pháp,Có,Có,Có,\n"
    "03/2024/NQ-HĐND,10/07/2024,Công văn,Quy định C,Sở Tư pháp,Có,Có,Có,\n"
    "04/2024/QĐ-UBND,10/07/2024,Quyết định,Quy định D,Sở Không Có,Có,Có,Có,\n"
    "05/2024/NQ-HĐND,12/08/2024,Nghị quyết,Quy định E,Sở Xây dựng,Có,Không,Có,\n"
)


def test_legal_documents_import_keeps_good_rows_and_reports_bad_ones(demo_org, people, now):
    imp = importer("legal-documents")
    report = imp.run(
        LEGAL.encode(), actor=people["reviewer"], now=at("2025-01-05"), filename="a.csv"
    )
    assert report.created == 2
    reasons = {e.line: e.reason for e in report.rejected}
    assert set(reasons) == {4, 5, 6}
    assert "31/02/2024" in reasons[4] and "Ngày ban hành" in reasons[4]
    assert "Loại văn bản" in reasons[5]
    assert "Sở Không Có" in reasons[6]
    again = imp.run(
        LEGAL.encode(), actor=people["reviewer"], now=at("2025-01-05"), filename="a.csv"
    )
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert LegalDocument.objects.count() == 2
    summary = registers.legal_summary(2024)
    assert (summary["proper"], summary["total"], summary["rate"]) == (1, 2, Decimal("50.0"))


def test_focal_point_enters_only_its_own_agencys_rows(demo_org, people):
    report = importer("legal-documents").run(
        LEGAL.encode(), actor=people["justice_focal"], now=at("2025-01-05"), filename="a.csv"
    )
    assert report.created == 1  # Sở Tư pháp's row; Sở Xây dựng's is refused
    assert any("quyền" in e.reason for e in report.rejected if e.line == 7)
    with pytest.raises(PermissionDenied):
        importer("external-indices").run(
            b"Ch\xe1\xbb\x89 s\xe1\xbb\x91,N\xc4\x83m,M\xc3\xa3 t\xe1\xbb\x89nh,Ngu\xe1\xbb\x93n\n",
            actor=people["justice_focal"],
            now=at("2025-01-05"),
            filename="x.csv",
        )


def test_work_records_by_level_and_bad_rows(demo_org, people):
    csv = (
        "Cơ quan,Kỳ,Tổng số hồ sơ công việc,Xử lý trên môi trường mạng\n"
        "000.00.03.H06,2024-Q1,1000,960\n"
        "000.00.31.H06,2024-Q1,2000,1600\n"
        "000.00.03.H06,2024-Q2,100,200\n"
        "000.00.03.H06,2024-Q5,100,20\n"
        "000.00.03.H06,2024-Q1,1000,960\n"
    )
    report = importer("work-records").run(
        csv.encode(), actor=people["reviewer"], now=at("2025-01-05"), filename="w.csv"
    )
    assert report.created == 2
    reasons = {e.line: e.reason for e in report.rejected}
    assert "lớn hơn tổng số" in reasons[4] and "Q5" in reasons[5] and "trùng" in reasons[6]
    levels = {row["level"].code: row["rate"] for row in registers.work_record_summary(2024)}
    assert levels == {"province": Decimal("96.0"), "district": Decimal("80.0")}
    assert WorkRecordStat.objects.get(agency__code="000.00.03.H06").level.code == "province"


def test_external_index_needs_a_source(demo_org, people):
    csv = (
        "Chỉ số,Năm,Mã tỉnh,Điểm,Xếp hạng,Nhóm,Nguồn\n"
        "PAR INDEX,2022,24,88.54,4,,Bộ Nội vụ\n"
        "PCI,2023,24,70,,,\n"
        "PAPI,2023,99,40,5,,UNDP\n"
    )
    report = importer("external-indices").run(
        csv.encode(), actor=people["reviewer"], now=at("2025-01-05"), filename="i.csv"
    )
    assert report.created == 1 and {e.line for e in report.rejected} == {3, 4}
    item = ExternalIndex.objects.get()
    assert (item.index, item.score, item.rank, item.unit.name) == (
        "PAR_INDEX",
        Decimal("88.54"),
        4,
        "Tỉnh Bắc Giang",
    )


def test_internal_procedure_status_through_the_catalogue(demo_org, people, now):
    from cchc.accounts.policy import SYSTEM
    from cchc.catalog.importers import InternalProcedureImporter
    from cchc.demo.loader import DATA_DIR

    InternalProcedureImporter().run(
        str(DATA_DIR / "internal_procedures.csv"), actor=SYSTEM, now=now
    )
    before = registers.internal_summary()
    item = (
        __import__("cchc.catalog.models", fromlist=["x"])
        .InternalProcedure.objects.filter(reviewed=False)
        .first()
    )
    assert item is not None
    with pytest.raises(PermissionDenied):
        registers.update_internal_status(
            people["justice_focal"],
            item.code,
            published=True,
            decision_number="1/QĐ",
            published_on=now.date(),
            reviewed=True,
            reviewed_on=now.date(),
            now=now,
        )
    registers.update_internal_status(
        people["reviewer"],
        item.code,
        published=True,
        decision_number="1/QĐ",
        published_on=now.date(),
        reviewed=True,
        reviewed_on=now.date(),
        now=now,
    )
    assert registers.internal_summary()["both"] == before["both"] + 1


def test_scorecard_self_scores_appraisal_and_band(demo_org, people, now):
    justice = agency("Sở Tư pháp")
    focal, reviewer = people["justice_focal"], people["reviewer"]
    tree = parindex.structure()
    assert len(tree.fields) == 8
    for f in tree.fields:
        for c in f.criteria:
            for s in c.subs:
                parindex.save_self_score(
                    focal,
                    year=2024,
                    agency=justice,
                    criterion=s.code,
                    score=s.max,
                    evidence="Báo cáo số 1",
                    now=now,
                )
    card = parindex.scorecard(2024, justice)
    assert card["final_total"] == card["max"] and card["band"] == "A"
    with pytest.raises(PermissionDenied):
        parindex.appraise(
            focal, year=2024, agency=justice, criterion="1.1.2", score=Decimal(0), note="x", now=now
        )
    with pytest.raises(PermissionDenied):
        parindex.save_self_score(
            people["home_focal"],
            year=2024,
            agency=justice,
            criterion="1.1.1",
            score=Decimal(1),
            evidence="x",
            now=now,
        )
    with pytest.raises(Exception, match="0 đến"):
        parindex.save_self_score(
            focal,
            year=2024,
            agency=justice,
            criterion="1.1.1",
            score=Decimal(5),
            evidence="x",
            now=now,
        )
    # Cut a quarter of the points on appraisal: the band drops accordingly.
    cut = Decimal(0)
    for f in tree.fields:
        for c in f.criteria:
            for s in c.subs:
                if cut < card["max"] * Decimal("0.15"):
                    parindex.appraise(
                        reviewer,
                        year=2024,
                        agency=justice,
                        criterion=s.code,
                        score=Decimal(0),
                        note="Thiếu tài liệu",
                        now=now,
                    )
                    cut += s.max
    card = parindex.scorecard(2024, justice)
    assert card["self_total"] == card["max"] and card["final_total"] == card["max"] - cut
    assert card["band"] == ("B" if card["percent"] >= 80 else "C")
    assert card["fields"][0].final_total < card["fields"][0].field.max
