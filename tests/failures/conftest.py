"""Real database files and real `cchc` processes for the clean-failure tests.

The SQLite files are copies of the suite's migrated test database (SQLite's online backup),
filled by the real `cchc demo` in a subprocess. Making a file read-only must hold for the
process that opens it: as an ordinary user `chmod` is enough; as root (containers, CI
images) the child also drops CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, without which root
writes through any file mode.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

CCHC = Path(sys.executable).with_name("cchc")
SQLITE = connection.vendor == "sqlite"
POSTGRES = connection.vendor == "postgresql"
sqlite_leg = pytest.mark.skipif(
    not SQLITE, reason="SQLite files driven by `cchc`: the SQLite leg of the suite runs them"
)

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_override() -> None:
    """preexec_fn: root without the capabilities that let it ignore file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def _unprivileged() -> Callable[[], None] | None:
    return _drop_file_override if os.geteuid() == 0 else None


@pytest.fixture(scope="session")
def modes_hold() -> None:
    """Skip where file modes cannot be made to bind the child (root without CAP_SETPCAP)."""
    try:
        subprocess.run(
            [sys.executable, "-c", "pass"], preexec_fn=_unprivileged(), check=True, timeout=60
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"cannot run a child bound by file modes here: {exc}")


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CCHC_VAR_DIR of the child processes: never the repository's var/."""
    return tmp_path_factory.mktemp("var")


def run_cchc(
    var_dir: Path,
    url: str,
    *args: str,
    unprivileged: bool = False,
    timeout: float = 300,
    **popen: Any,
) -> subprocess.CompletedProcess[str]:
    """`cchc ARGS` in a child process on the database `url`."""
    env = {
        "DEBUG": "true",
        "PATH": "/usr/bin:/bin",
        "PYTHONUTF8": "1",
        "DATABASE_URL": url,
        "CCHC_VAR_DIR": str(var_dir),
    }
    return subprocess.run(
        [str(CCHC), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=timeout,
        preexec_fn=_unprivileged() if unprivileged else None,
        **popen,
    )


def sqlite_url(path: Path, **options: Any) -> str:
    query = "&".join(f"{k}={v}" for k, v in options.items())
    return f"sqlite:///{path}" + (f"?{query}" if query else "")


def postgres_url(name: str | None = None, **options: str) -> str:
    """The suite's PostgreSQL server, database `name` (default: the test database)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"])
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    query = "&".join(f"{k}={quote(v)}" for k, v in options.items())
    return f"postgres://{auth}@{host}/{name or s['NAME']}" + (f"?{query}" if query else "")


def set_journal_mode(path: Path, mode: str) -> None:
    db = sqlite3.connect(path)
    try:
        assert db.execute(f"PRAGMA journal_mode={mode}").fetchone()[0] == mode.lower()
    finally:
        db.close()


def copy_database(source: Path, target: Path) -> Path:
    """A consistent copy (SQLite's backup API, as a live file may carry a -wal)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    set_journal_mode(target, "wal")  # what a file used by cchc is
    return target


@pytest.fixture(scope="session")
def migrated_file(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The suite's migrated (empty) SQLite test database, saved to a file."""
    if not SQLITE:
        pytest.skip("needs the SQLite leg's migrated test database")
    target = tmp_path_factory.mktemp("migrated") / "cchc.sqlite3"
    with django_db_blocker.unblock():
        connection.ensure_connection()
        dst = sqlite3.connect(target)
        try:
            connection.connection.backup(dst)
        finally:
            dst.close()
    set_journal_mode(target, "wal")
    return target


@pytest.fixture(scope="session")
def demo_file(migrated_file: Path, var_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated file with the demo data set, loaded by the real `cchc demo`."""
    target = copy_database(migrated_file, tmp_path_factory.mktemp("demo") / "cchc.sqlite3")
    result = run_cchc(var_dir, sqlite_url(target), "demo")
    assert result.returncode == 0, result.stderr[-2000:]
    return target


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory made read-only by the test (0555), writable again afterwards so that
    pytest can remove it."""
    directory = tmp_path / "ro"
    directory.mkdir()
    yield directory
    directory.chmod(0o755)
    for child in directory.iterdir():
        child.chmod(0o644)
    shutil.rmtree(directory)
