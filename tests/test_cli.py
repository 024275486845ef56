"""The `cchc` console script: commands, JSON reports, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from cchc.catalog.models import Procedure
from tests.test_catalog_import import GOOD_ROWS, csv_bytes, row

pytestmark = pytest.mark.django_db


def test_import_procedures_json_report_and_exit_code(org, tmp_path, capsys):
    path = tmp_path / "tthc.csv"
    path.write_bytes(csv_bytes([*GOOD_ROWS, row(**{"Mã TTHC": ""})]))
    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "procedures", str(path), "--json")
    assert exit_info.value.code == 1  # some rows were rejected
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 3 and report["updated"] == 0
    assert report["rejected"] == [{"line": 5, "reason": "cột 'Mã TTHC' bị trống", "key": ""}]
    assert Procedure.objects.count() == 3


def test_clean_import_exits_zero(org, tmp_path, capsys):
    path = tmp_path / "tthc.csv"
    path.write_bytes(csv_bytes(GOOD_ROWS))
    call_command("import", "procedures", str(path))
    assert "Thêm mới: 3" in capsys.readouterr().out


def test_console_script_reports_missing_file_without_traceback(tmp_path):
    cchc = Path(sys.executable).with_name("cchc")
    result = subprocess.run(
        [str(cchc), "import", "procedures", str(tmp_path / "khong-co.csv")],
        capture_output=True,
        text=True,
        env={
            "DEBUG": "true",
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
    )
    assert result.returncode != 0
    assert "Không mở được tệp" in result.stderr
    assert "Traceback" not in result.stderr
