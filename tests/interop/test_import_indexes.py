"""Initial loads without secondary indexes (issue 22, item 2): an import into an empty
database of a file over CCHC_IMPORT_DEFER_INDEX_BYTES drops the dossier and event tables'
plain indexes, loads, rebuilds them and says so; an interrupted load's missing indexes are
rebuilt by the next import or by `cchc import repair-indexes`."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from cchc.accounts.policy import SYSTEM
from cchc.dossiers.models import Dossier, DossierEvent
from cchc.interop import indexes
from cchc.interop.dossiers import DossierImporter
from cchc.interop.models import ImportRun

MESSY = Path(__file__).parent / "data" / "messy-export.csv"
VN = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2024, 7, 20, 9, 0, tzinfo=VN)


@pytest.fixture
def province(db):
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.structure import load_structure

    load_structure(SYSTEM, DATA_DIR / "org.json", now=NOW, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=NOW)


def missing() -> set[str]:
    return {
        name
        for model in indexes.MODELS
        for name in set(indexes.expected(model)) - indexes.present(model)
    }


def test_the_models_have_plain_indexes_to_defer(db):
    assert indexes.expected(Dossier) and indexes.expected(DossierEvent)
    assert missing() == set()
    # Never a unique index or the primary key.
    assert all("UNIQUE" not in sql.upper() for sql in indexes.expected(Dossier).values())


def test_initial_load_rebuilds_the_indexes_after_and_says_so(province, settings):
    settings.CCHC_IMPORT_DEFER_INDEX_BYTES = 1
    report = DossierImporter().run(str(MESSY), actor=SYSTEM, now=NOW)
    assert report.created == 5
    assert missing() == set()
    run = ImportRun.objects.get(pk=report.run_id)
    assert run.message == indexes.NOTE
    assert "chỉ mục được dựng lại sau khi nạp" in run.message
    # A second import (the table is no longer empty) keeps its indexes and says nothing.
    again = DossierImporter().run(str(MESSY), actor=SYSTEM, now=NOW)
    assert again.unchanged == 5
    assert ImportRun.objects.get(pk=again.run_id).message == ""


def test_small_file_or_non_empty_table_keeps_indexes(province):
    report = DossierImporter().run(str(MESSY), actor=SYSTEM, now=NOW)
    assert ImportRun.objects.get(pk=report.run_id).message == ""


def test_interrupted_load_is_repaired_by_the_next_import(province):
    dropped = indexes.drop()  # what a load killed half way leaves behind
    assert dropped.any and missing()
    report = DossierImporter().run(str(MESSY), actor=SYSTEM, now=NOW)
    assert report.created == 5
    assert missing() == set()


def test_repair_indexes_command(province):
    indexes.drop()
    assert missing()
    out = io.StringIO()
    call_command("import", "repair-indexes", stdout=out)
    assert "Đã dựng lại" in out.getvalue()
    assert missing() == set()
    out = io.StringIO()
    call_command("import", "repair-indexes", stdout=out)
    assert "đã đầy đủ" in out.getvalue()


def test_cli_prints_the_note(province, settings, capsys):
    settings.CCHC_IMPORT_DEFER_INDEX_BYTES = 1
    out = io.StringIO()
    with pytest.raises(SystemExit):  # the messy file has refused rows: exit 1
        call_command("import", "dossiers", str(MESSY), stdout=out, stderr=io.StringIO())
    assert indexes.NOTE in out.getvalue()
