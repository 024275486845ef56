"""An imported row's "Số hóa" is the source system's fact (issue 21, item 5): the flag is kept
as imported, with its provenance in the import event, and no scan rows are invented for it.
`cchc digitisation verify` checks imported dossiers against their import event."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from cchc.accounts.policy import SYSTEM
from cchc.dossiers import digitisation_verify
from cchc.dossiers.models import ComponentReuse, DigitisedComponent, Dossier, DossierEvent
from cchc.interop.dossiers import DossierImporter

MESSY = Path(__file__).parent / "data" / "messy-export.csv"
VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 7, 20, 9, 0, tzinfo=VN)


@pytest.fixture
def imported(db):
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.structure import load_structure

    load_structure(SYSTEM, DATA_DIR / "org.json", now=NOW, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=NOW)
    report = DossierImporter().run(str(MESSY), actor=SYSTEM, now=NOW)
    assert report.created == 5
    return Dossier.objects.exclude(source="")


def test_imported_flags_are_the_source_systems_fact(imported):
    flags = dict(imported.values_list("code", "digitised"))
    assert any(flags.values()) and not all(flags.values())  # the export says both
    for dossier in imported:
        event = DossierEvent.objects.get(dossier=dossier, action="import")
        assert event.data["digitised"] is dossier.digitised
        assert event.data["source"] == dossier.source
    # Nothing invented: no components, scans or reuses behind the imported flag.
    assert not DigitisedComponent.objects.filter(dossier__in=imported).exists()
    assert not ComponentReuse.objects.filter(dossier__in=imported).exists()
    assert not imported.filter(reused_data=True).exists()

    report = digitisation_verify.verify(2024)
    assert (report.imported, report.dossiers, report.count) == (5, 0, 0)


def test_verify_finds_an_imported_flag_changed_behind_the_import(imported):
    ticked = imported.filter(digitised=False).order_by("code").first()
    assert ticked is not None
    Dossier.objects.filter(pk=ticked.pk).update(digitised=True)

    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("digitisation", "verify", stdout=out)
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert (
        f"{ticked.code}: hồ sơ đã số hóa (theo hệ thống nguồn) đang lưu True, "
        "tính lại từ dữ liệu số hóa False"
    ) in text
    assert text.rstrip().endswith("5 hồ sơ nhập từ hệ thống khác: 1 sai lệch.")
