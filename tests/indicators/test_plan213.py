"""Plan 213/2024 targets T2–T11 on small hand-computed data sets (T1 with the shipped plan
in test_plan_tasks.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cchc.accounts.policy import SYSTEM
from cchc.indicators import periods, services
from cchc.indicators.services import Filters
from tests.conftest import VN
from tests.indicators.conftest import at, make

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2024, 7, 10, 9, 0, tzinfo=VN)
JUNE = periods.parse("2024-06")
LATE = dt.datetime(2025, 1, 5, 9, 0, tzinfo=VN)


def results(period=JUNE, filters=None, now=NOW):
    filters = filters or Filters()
    return {r.code: r for r in services.plan_results("bac-giang-2024", period, filters, now=now)}


def test_dossier_outcomes_are_as_constructed(june):
    outcomes = {k: d.outcome for k, d in june.items()}
    assert outcomes == {
        "A": "early",
        "B": "on_time",
        "C": "overdue",
        "D": "overdue",
        "E": "early",
        "F": "early",
        "G": "",
        "H": "",
        "I": "",
        "J": "",
    }
    assert june["D"].has_apology and not june["C"].has_apology
    assert june["E"].supplement_requests == 2


def test_t4_t5_t6_over_finished_dossiers(june):
    r = results()
    # finished in June: A B C D E F (F received in May) = 6; early A E F; on time B
    assert (r["T4"].numerator, r["T4"].denominator, r["T4"].value) == (4, 6, Decimal("66.67"))
    assert r["T4"].met is False and r["T4"].target == Decimal(90) and r["T4"].comparison == "gt"
    assert (r["T5"].numerator, r["T5"].denominator, r["T5"].value) == (3, 6, Decimal("50.00"))
    # overdue C and D; only D apologised
    assert (r["T6"].numerator, r["T6"].denominator, r["T6"].value) == (1, 2, Decimal("50.00"))
    assert r["T6"].met is False


def test_t8_t9_t10_over_received_dossiers(june):
    r = results()
    # received in June: A B C D E G H I J = 9 (F was received in May); full online: H
    assert (r["T8"].numerator, r["T8"].denominator) == (1, 9)
    assert r["T8"].value == Decimal("11.11")
    # dossiers of procedures offering an online service: H, I; submitted online: H
    assert (r["T9"].numerator, r["T9"].denominator, r["T9"].value) == (1, 2, Decimal("50.00"))
    # payments of fee-bearing dossiers: H online, I cash (J has no fee: not counted)
    assert (r["T10"].numerator, r["T10"].denominator, r["T10"].value) == (1, 2, Decimal("50.00"))


def test_dossiers_spanning_periods_and_zero_denominators(june):
    may = results(periods.parse("2024-05"))
    # F was received in May but finished in June: May has a receipt, no finished dossier
    assert may["T4"].value is None and may["T4"].denominator == 0 and may["T4"].met is None
    assert may["T8"].denominator == 1 and may["T8"].value == Decimal("0.00")
    assert may["T6"].value is None
    r = results()
    assert r["T4"].previous is None and r["T4"].change is None
    q2 = results(periods.parse("2024-Q2"))
    assert (q2["T4"].numerator, q2["T4"].denominator) == (4, 6)
    assert q2["T8"].denominator == 10


def test_previous_change_and_projection(june):
    r = results(periods.parse("2024-06"))
    july = results(periods.parse("2024-07"))
    assert july["T4"].previous == r["T4"].value
    assert july["T4"].value is None
    # projection = value of the year to date (January to the period's end)
    assert r["T4"].projection == Decimal("66.67")
    assert "lũy kế" in r["T4"].projection_method


def test_filters_by_procedure_channel_and_agency(june, world, online_procedure):
    r = results(filters=Filters(procedure_id=online_procedure.pk))
    assert (r["T8"].numerator, r["T8"].denominator) == (1, 2)
    r = results(filters=Filters(channel=2))
    assert (r["T8"].numerator, r["T8"].denominator) == (1, 1)
    r = results(filters=Filters(agency_id=world.org.justice.pk, units="historic"))
    assert r["T4"].denominator == 6 and r["T10"].denominator == 0
    assert r["T10"].value is None


def test_registers_t2_t3(world):
    from cchc.catalog.services import InternalProcedureData, save_internal_procedure
    from cchc.plans.registers import LegalDocumentData, save_legal_document

    justice = world.org.justice.code
    for n, (day, ok) in enumerate(
        [("2024-02-01", True), ("2024-05-01", True), ("2024-08-01", False), ("2023-12-01", False)]
    ):
        save_legal_document(
            SYSTEM,
            LegalDocumentData(
                number=f"{n + 1}/2024/QĐ-UBND",
                issued_on=dt.date.fromisoformat(day),
                doc_type="qd",
                title="Quy định thử nghiệm",
                drafting_agency=justice,
                appraised=True,
                consulted=ok,
                published=True,
            ),
            now=LATE,
        )
    for n, (published, reviewed) in enumerate([(True, True), (True, False), (False, False)]):
        save_internal_procedure(
            SYSTEM,
            InternalProcedureData(
                code=f"NB.{n}",
                name=f"Thủ tục nội bộ {n}",
                field_name="Tổ chức",
                levels=("province",),
                lead_agency_code=justice,
                published=published,
                decision_number="1/QĐ" if published else "",
                published_on=dt.date(2024, 3, 1) if published else None,
                reviewed=reviewed,
                reviewed_on=dt.date(2024, 4, 1) if reviewed else None,
            ),
            now=LATE,
        )
    r = results(periods.parse("2024"))
    assert (r["T2"].numerator, r["T2"].denominator, r["T2"].value) == (2, 3, Decimal("66.67"))
    assert (r["T3"].numerator, r["T3"].denominator, r["T3"].value) == (1, 3, Decimal("33.33"))
    # published 1/3, reviewed 1/4: not yet done at the end of March
    assert results(periods.parse("2024-03"))["T3"].numerator == 0
    assert results(periods.parse("2024-Q1"))["T2"].denominator == 1


def test_t7_work_records_by_level_historic_and_current(world):
    from cchc.plans.registers import WorkRecordData, save_work_record_stat

    rows = [
        (world.org.justice.code, "2024", 100, 96),  # province: 96 % > 95 %
        (world.org.construction.code, "2024-Q1", 50, 45),  # province
        (world.org.construction.code, "2024-Q2", 50, 50),  # province
        (world.org.city_committee.code, "2024", 200, 160),  # district: 80 % (target 85 %)
    ]
    for agency, period, total, online in rows:
        save_work_record_stat(
            SYSTEM,
            WorkRecordData(agency, period, total, online),
            now=world.now + dt.timedelta(days=200),
        )
    year = periods.parse("2024")
    t7 = results(year, Filters(units="historic"))["T7"]
    levels = {b["level"]: b for b in t7.breakdown}
    assert (levels["province"]["numerator"], levels["province"]["denominator"]) == (191, 200)
    assert levels["province"]["value"] == Decimal("95.50") and levels["province"]["met"] is True
    assert levels["district"]["value"] == Decimal("80.00") and levels["district"]["met"] is False
    assert levels["district"]["target"] == Decimal(85)
    assert t7.met is False and (t7.numerator, t7.denominator) == (351, 400)
    # After the 2025 restructuring the district (Thành phố Bắc Giang) is merged into the
    # province: mapped to today's units its records count at the province level.
    current = results(year, Filters(units="current"), now=dt.datetime(2025, 8, 1, tzinfo=VN))["T7"]
    assert [b["level"] for b in current.breakdown] == ["province"]
    assert current.breakdown[0]["numerator"] == 351
    # the district level alone, historic
    district = results(year, Filters(level="district", units="historic"))["T7"]
    assert (district.value, district.target, district.met) == (Decimal("80.00"), Decimal(85), False)


def test_t11_external_indices(world):
    from cchc.plans.registers import ExternalIndexData, save_external_index

    r = results(periods.parse("2024"))
    assert r["T11"].value is None and r["T11"].met is None
    for index, rank in (("PCI", 3), ("PAPI", 25), ("PAR_INDEX", 5)):
        save_external_index(
            SYSTEM,
            ExternalIndexData(index, 2024, "24", "Báo cáo công bố 2025", Decimal("70.5"), rank),
            now=world.now,
        )
    t11 = results(periods.parse("2024"))["T11"]
    assert (t11.numerator, t11.denominator, t11.met) == (2, 3, False)
    assert {b["index"] for b in t11.breakdown} == {"PCI", "PAPI", "PAR_INDEX"}


def test_2024_dossiers_under_historic_and_current_units(world):
    from cchc.org.models import Agency

    org = world.org
    Agency.objects.filter(pk=org.justice.pk).update(successor=org.justice_2025)
    mon = "2024-06-03"
    make(world, at(mon), approve=at(mon, "15:00"))
    make(world, at(mon), approve=at("2024-06-20"))
    later = dt.datetime(2025, 8, 1, tzinfo=VN)
    current = results(filters=Filters(agency_id=org.justice_2025.pk), now=later)
    assert (current["T4"].numerator, current["T4"].denominator) == (1, 2)
    historic = results(filters=Filters(agency_id=org.justice_2025.pk, units="historic"), now=later)
    assert historic["T4"].value is None
    as_was = results(filters=Filters(agency_id=org.justice.pk, units="historic"), now=later)
    assert as_was["T4"].denominator == 2
    # by unit: the 2024 province and today's province (its successor) both carry the data
    by_new_unit = results(filters=Filters(unit_id=org.province_2025.pk), now=later)
    assert by_new_unit["T4"].denominator == 2
    by_old_unit = results(filters=Filters(unit_id=org.province_2024.pk, units="historic"))
    assert by_old_unit["T4"].denominator == 2
    ranked = services.ranking(JUNE, Filters(), now=later)
    assert [(r.agency_id, r.name) for r in ranked] == [
        (org.justice_2025.pk, "Sở Tư pháp tỉnh Bắc Ninh")
    ]
    ranked = services.ranking(JUNE, Filters(units="historic"), now=later)
    assert [r.agency_id for r in ranked] == [org.justice.pk]
    # levels after the 2025 restructuring: the province level still holds the data
    assert results(filters=Filters(level="province"), now=later)["T4"].denominator == 2
    assert results(filters=Filters(level="district"), now=later)["T4"].value is None
