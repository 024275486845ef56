"""The README documents every command, setting and make target (sqlite-utils style)."""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management import get_commands

from cchc.config import SETTINGS_DOC
from cchc.tabular.registry import importers

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_cchc_command_is_documented():
    ours = sorted(name for name, app in get_commands().items() if app.startswith("cchc"))
    assert ours, "no cchc commands found"
    missing = [name for name in ours if f"cchc {name}" not in README]
    assert missing == []


def test_every_importer_is_documented():
    missing = [name for name in importers() if f"cchc import {name}" not in README]
    assert missing == []


def test_every_setting_is_documented():
    missing = [name for name in SETTINGS_DOC if f"`{name}`" not in README]
    assert missing == []


def test_every_make_target_is_documented():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.findall(r"^\.PHONY:(.*)$", makefile, flags=re.M)[0].split()
    public = [t for t in targets if t not in ("install", "test-sqlite", "test-postgres")]
    missing = [t for t in public if f"make {t}" not in README]
    assert missing == []


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
