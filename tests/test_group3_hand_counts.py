"""766 group "Số hóa hồ sơ" (code 3) on a demo year equals figures counted by hand from the
stored facts (issue 21, item 5): the demo generator writes the digitisation facts — a
`StoredFile` and a `DigitisedComponent` per scanned component, a `ComponentReuse` pointing
to an earlier scan of the same holder and type per reused one — and the flags it stores are
exactly what `digitisation.derive` computes from them (`cchc digitisation verify`).

The hand counts are plain SQL over the fact tables (components, files, reuses, results,
states, receipt and finishing instants); they never read the stored flags nor the
indicator cells. The engine's figures come from `score766.index766`, which reads the cells.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection

from tests.conftest import VN, built_once

pytestmark = pytest.mark.django_db

N = 2500
SEED = 21
BASE_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)
YEAR_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)  # the year 2024 is over
# The year 2024 in Vietnamese local days, as UTC instants (the indicator cells' days).
START = dt.datetime(2024, 1, 1, tzinfo=VN)
END = dt.datetime(2025, 1, 1, tzinfo=VN)


@pytest.fixture(scope="module")
def built_year(django_db_setup, django_db_blocker) -> Iterator[dict[str, int]]:
    """The base demo set and N generated dossiers of 2024 (as `cchc demo --dossiers N`),
    built once for the module; each test in its own savepoint."""
    with built_once(django_db_blocker):
        from cchc.demo import scale
        from cchc.demo.loader import load_demo

        load_demo(now=BASE_NOW, password="mat-khau-so-hoa-thu-nghiem-2024")
        result = scale.generate_year(N, year=2024, seed=SEED, now=YEAR_NOW)
        yield {"first": result.first_id, "last": result.last_id}


@pytest.fixture
def year(built_year, db) -> dict[str, int]:
    return built_year


def _one(sql: str, params: list[object]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def _agency_clause(agency_id: int | None) -> tuple[str, list[object]]:
    if agency_id is None:
        return "", []
    return " AND d.competent_agency_id = %s", [agency_id]


def hand_received(agency_id: int | None = None) -> int:
    """Dossiers received in 2024 (Vietnamese days)."""
    where, extra = _agency_clause(agency_id)
    return _one(
        "SELECT COUNT(*) FROM dossiers_dossier d "  # noqa: S608 (fixed clauses, values bound)
        "WHERE d.received_at >= %s AND d.received_at < %s" + where,
        [START, END, *extra],
    )


def hand_digitised(agency_id: int | None = None) -> int:
    """Dossiers received in 2024 with components, every one of which has a scanned file or
    reuses a digitised component."""
    where, extra = _agency_clause(agency_id)
    return _one(
        "SELECT COUNT(*) FROM dossiers_dossier d "  # noqa: S608 (fixed clauses, values bound)
        "WHERE d.received_at >= %s AND d.received_at < %s" + where + " "
        "AND EXISTS (SELECT 1 FROM dossiers_dossiercomponent c WHERE c.dossier_id = d.id) "
        "AND NOT EXISTS (SELECT 1 FROM dossiers_dossiercomponent c WHERE c.dossier_id = d.id "
        "  AND NOT EXISTS (SELECT 1 FROM dossiers_storedfile f WHERE f.component_id = c.id) "
        "  AND NOT EXISTS (SELECT 1 FROM dossiers_componentreuse r WHERE r.component_id = c.id))",
        [START, END, *extra],
    )


def hand_reused(agency_id: int | None = None) -> int:
    """Dossiers received in 2024 with at least one reuse of an earlier scan."""
    where, extra = _agency_clause(agency_id)
    return _one(
        "SELECT COUNT(*) FROM dossiers_dossier d "  # noqa: S608 (fixed clauses, values bound)
        "WHERE d.received_at >= %s AND d.received_at < %s" + where + " "
        "AND EXISTS (SELECT 1 FROM dossiers_componentreuse r WHERE r.dossier_id = d.id)",
        [START, END, *extra],
    )


def hand_returned(agency_id: int | None = None, *, electronic: bool = False) -> int:
    """Dossiers returned, finished in 2024; with `electronic`, those with an electronic
    result."""
    where, extra = _agency_clause(agency_id)
    result = (
        " AND EXISTS (SELECT 1 FROM dossiers_dossierresult x WHERE x.dossier_id = d.id "
        "AND x.electronic = %s)"
        if electronic
        else ""
    )
    return _one(
        "SELECT COUNT(*) FROM dossiers_dossier d WHERE d.state = 'returned' "  # noqa: S608 (fixed clauses, values bound)
        "AND d.finished_at >= %s AND d.finished_at < %s" + where + result,
        [START, END, *extra, *([True] if electronic else [])],
    )


def engine_subs(agency_id: int | None = None) -> dict[str, tuple[object, object]]:
    """(numerator, denominator) of the group-3 sub-indicators as the 766 engine reports
    them for 2024."""
    from cchc.indicators import periods
    from cchc.indicators.figures import EVERYTHING, Filters
    from cchc.indicators.score766 import index766

    filters = EVERYTHING if agency_id is None else Filters(agency_id=agency_id, units="historic")
    index = index766(periods.year(2024), filters, now=YEAR_NOW)
    group = next(g for g in index.groups if g.code == "3")
    return {s.code: (s.numerator, s.denominator) for s in group.subs}


def test_every_digitised_dossier_has_its_facts_and_verify_finds_nothing(year):
    from cchc.dossiers import digitisation_verify
    from cchc.dossiers.models import ComponentReuse, DigitisedComponent, Dossier, StoredFile

    generated = Dossier.objects.filter(pk__gte=year["first"], pk__lte=year["last"])
    report = digitisation_verify.verify(2024)
    assert report.clean, [str(m) for m in report.mismatches]
    # (a few online dossiers of the year were submitted in late 2023)
    assert report.dossiers >= N - 20
    assert report.scans > 0 and report.reuses > 0
    # "reused" only where a reuse is recorded, and every such dossier is flagged.
    reused = set(generated.filter(reused_data=True).values_list("pk", flat=True))
    linked = set(
        ComponentReuse.objects.filter(dossier__in=generated).values_list("dossier_id", flat=True)
    )
    assert reused == linked and reused
    # Scans: the applicant's ID number, the shared demo PDFs (by content hash) on disk.
    scans = DigitisedComponent.objects.filter(dossier__in=generated).select_related(
        "dossier", "file"
    )
    hashes = set()
    for scan in scans[:500]:
        assert scan.id_number == scan.dossier.applicant_id_number
        assert scan.file.component_id == scan.component_id
        assert scan.file.content_type == "application/pdf"
        hashes.add(scan.file.sha256)
    assert 1 <= len(hashes) <= 4
    from cchc.dossiers import files

    for sha in hashes:
        stored = StoredFile.objects.filter(sha256=sha).first()
        assert stored is not None
        assert files.open_stored(stored.path).read_bytes().startswith(b"%PDF-")
    # Each reuse points to an earlier scan of the same holder and type, in another dossier.
    for link in ComponentReuse.objects.filter(dossier__in=generated).select_related(
        "digitised", "dossier", "component"
    )[:500]:
        assert link.digitised.id_number == link.dossier.applicant_id_number
        assert link.digitised.dossier_id != link.dossier_id
        assert link.digitised.scanned_at < link.reused_at
        assert not StoredFile.objects.filter(component=link.component).exists()
    # reused_count is the number of links to a scan.
    for scan in DigitisedComponent.objects.filter(reused_count__gt=0)[:200]:
        assert scan.reused_count == ComponentReuse.objects.filter(digitised=scan).count()


def test_scans_are_made_at_intake_by_who_took_the_components_in(year):
    from cchc.dossiers.models import DigitisedComponent, DossierEvent

    rows = DigitisedComponent.objects.filter(
        dossier__pk__gte=year["first"], dossier__pk__lte=year["last"]
    ).select_related("dossier")
    checked = {1: 0, 2: 0, 3: 0}
    for scan in rows[:600]:
        d = scan.dossier
        if d.channel == 2:  # sent online with the submission, by the submitter
            assert scan.scanned_at == d.submitted_at
            submit = DossierEvent.objects.get(dossier=d, action="submit")
            assert scan.scanned_by_id == submit.actor_id
        elif d.received_at is not None:  # scanned by the desk officer who received it
            assert scan.scanned_at == d.received_at
            receive = DossierEvent.objects.get(dossier=d, action="receive")
            assert scan.scanned_by_id == receive.actor_id
        checked[d.channel] += 1
    assert checked[1] and checked[2]


def test_group_3_equals_the_hand_counts_for_the_year(year):
    subs = engine_subs()
    received = hand_received()
    assert received >= N // 2
    digitised, reused = hand_digitised(), hand_reused()
    assert 0 < reused < digitised < received
    assert subs["3b"] == (digitised, received)
    assert subs["3d"] == (reused, received)
    returned = hand_returned()
    electronic = hand_returned(electronic=True)
    assert 0 < electronic <= returned
    assert subs["3a"] == (electronic, returned)


def test_group_3_equals_the_hand_counts_for_one_agency(year):
    from cchc.dossiers.models import Dossier
    from cchc.indicators import periods
    from cchc.indicators.figures import Filters
    from cchc.indicators.measures import Context
    from cchc.org.models import Agency

    # The agency with most reuses in 2024 that has no sub-agencies: its figures are its own.
    busiest = (
        Dossier.objects.filter(received_at__gte=START, received_at__lt=END, reused_data=True)
        .values_list("competent_agency_id", flat=True)
        .order_by("competent_agency_id")
    )
    counts: dict[int, int] = {}
    for agency_id in busiest:
        counts[agency_id] = counts.get(agency_id, 0) + 1
    leaves = [
        a for a in sorted(counts, key=lambda a: (-counts[a], a))
        if not Agency.objects.filter(parent_id=a).exists()
    ]  # fmt: skip
    agency_id = leaves[0]
    ctx = Context(periods.year(2024), Filters(agency_id=agency_id, units="historic"), now=YEAR_NOW)
    assert ctx.ids == [agency_id]
    subs = engine_subs(agency_id)
    received = hand_received(agency_id)
    assert 0 < hand_reused(agency_id) <= hand_digitised(agency_id) <= received < hand_received()
    assert subs["3b"] == (hand_digitised(agency_id), received)
    assert subs["3d"] == (hand_reused(agency_id), received)
    assert subs["3a"] == (
        hand_returned(agency_id, electronic=True),
        hand_returned(agency_id),
    )


def test_verify_command_is_clean_then_finds_a_corruption(year):
    from cchc.dossiers.models import ComponentReuse, Dossier

    out = io.StringIO()
    call_command("digitisation", "verify", "--year", "2024", stdout=out)
    assert ": 0 sai lệch." in out.getvalue()

    # A reuse that disappears behind a stored "reused" flag, and a dossier ticked digitised
    # without any scan.
    link = ComponentReuse.objects.filter(dossier__pk__gte=year["first"]).order_by("pk").first()
    assert link is not None
    reused_code = link.dossier.code
    link.delete()
    plain = (
        Dossier.objects.filter(
            pk__gte=year["first"], pk__lte=year["last"], digitised=False, components__isnull=False
        )
        .order_by("pk")
        .first()
    )
    assert plain is not None
    Dossier.objects.filter(pk=plain.pk).update(digitised=True)

    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("digitisation", "verify", "--year", "2024", stdout=out)
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert f"{reused_code}: hồ sơ tái sử dụng dữ liệu đang lưu True" in text
    assert f"{reused_code}: thành phần" in text
    assert f"{plain.code}: hồ sơ đã số hóa đang lưu True, tính lại từ dữ liệu số hóa False" in text
    # The reuse: its component (digitised, reused) and its dossier (digitised: no longer
    # every component; reused); the ticked dossier: 5 in all.
    assert text.rstrip().endswith(": 5 sai lệch.")

    # Another year holds none of these dossiers.
    out = io.StringIO()
    call_command("digitisation", "verify", "--year", "2023", "--json", stdout=out)
    assert '"clean": true' in out.getvalue()


def test_verify_command_refuses_a_bad_year(year):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as error:
        call_command("digitisation", "verify", "--year", "1800")
    assert "Năm 1800 không hợp lệ" in str(error.value)
    assert error.value.returncode == 2
