"""The `cchc` console script on a database that fails: read-only, locked, full, unreachable,
terminated. Real files, real servers, real child processes; one line on stderr, the exit code
of the kind (10 locked, 11 full, 12 read-only, 13 unreachable), never a traceback."""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.failures.conftest import (
    CCHC,
    POSTGRES,
    copy_database,
    postgres_url,
    run_cchc,
    set_journal_mode,
    sqlite_leg,
    sqlite_url,
)

# The SQLite files are copies of the suite's test database, which pytest-django sets up only
# for a session that has database tests: these are (the test's own transaction is unused).
pytestmark = pytest.mark.django_db

READ_COMMANDS = [
    ("indicators", "verify"),
    ("audit", "verify"),
    ("calendar", "show", "2025"),
]
# A write that always writes: an API token for a demo user (a row and its audit entry).
WRITE = ("tokens", "create", "quantri", "--name", "kiểm thử")


def _clean_failure(result: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout[-500:], result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("cchc: ") and words in lines[0], lines[0]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@sqlite_leg
@pytest.mark.parametrize("journal", ["wal", "delete"])
@pytest.mark.parametrize("where", ["file", "directory"])
def test_verify_reads_a_read_only_sqlite_file(
    demo_file, var_dir, tmp_path, read_only_dir, modes_hold, journal, where
):
    """chmod 0444 on the file, or also 0555 on its directory: `dossiers verify` reads it
    (it used to fail: every connection switched the file to WAL, a write, and a WAL file
    cannot be opened in a directory where its -shm cannot be created). Nothing changes."""
    folder = read_only_dir if where == "directory" else tmp_path
    path = copy_database(demo_file, folder / "cchc.sqlite3")
    set_journal_mode(path, journal)
    path.chmod(0o444)
    if where == "directory":
        folder.chmod(0o555)
    before = _digest(path)

    result = run_cchc(var_dir, sqlite_url(path), "dossiers", "verify", unprivileged=True)

    assert result.returncode == 0, result.stderr
    checked = re.search(r"Đã kiểm tra (\d+) hồ sơ: 0 hồ sơ sai lệch", result.stdout)
    assert checked and int(checked[1]) > 0, result.stdout
    assert _digest(path) == before
    if where == "directory":
        assert sorted(p.name for p in folder.iterdir()) == ["cchc.sqlite3"]


@sqlite_leg
def test_read_commands_work_and_writes_fail_cleanly_in_a_read_only_directory(
    demo_file, var_dir, read_only_dir, modes_hold
):
    path = copy_database(demo_file, read_only_dir / "cchc.sqlite3")
    path.chmod(0o444)
    read_only_dir.chmod(0o555)
    url = sqlite_url(path)
    for command in READ_COMMANDS:
        result = run_cchc(var_dir, url, *command, unprivileged=True)
        assert result.returncode == 0, (command, result.stderr)
        assert "Traceback" not in result.stderr

    result = run_cchc(var_dir, url, *WRITE, unprivileged=True)
    _clean_failure(result, 12, "chỉ đọc")
    assert "database is read-only" in result.stderr


@sqlite_leg
def test_a_write_on_a_read_only_file_exits_12(demo_file, var_dir, tmp_path, modes_hold):
    path = copy_database(demo_file, tmp_path / "cchc.sqlite3")
    path.chmod(0o444)
    result = run_cchc(var_dir, sqlite_url(path), *WRITE, unprivileged=True)
    _clean_failure(result, 12, "Cơ sở dữ liệu đang ở chế độ chỉ đọc")
    assert "attempt to write a readonly database" in result.stderr


@sqlite_leg
def test_a_locked_database_exits_10_and_readers_still_read(demo_file, var_dir, tmp_path):
    """Another process holds the write lock (WAL: readers go on); the writer waits its busy
    timeout (`?timeout=1` in DATABASE_URL) and stops with the 'locked' line."""
    path = copy_database(demo_file, tmp_path / "cchc.sqlite3")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        url = sqlite_url(path, timeout=1)
        started = time.monotonic()
        result = run_cchc(var_dir, url, *WRITE)
        _clean_failure(result, 10, "Cơ sở dữ liệu đang bận")
        assert "database is locked" in result.stderr
        assert time.monotonic() - started < 60

        reading = run_cchc(var_dir, url, "dossiers", "verify")
        assert reading.returncode == 0, reading.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@sqlite_leg
def test_a_full_database_exits_11(migrated_file, var_dir, tmp_path):
    """SQLite's own size limit (`PRAGMA max_page_count`, set on the command's connection)
    reached while `cchc demo` writes: the same SQLITE_FULL as a full disk."""
    path = copy_database(migrated_file, tmp_path / "cchc.sqlite3")
    code = (
        "from django.db import connection\n"
        "from django.core.management import call_command\n"
        "cursor = connection.cursor()\n"
        "pages = cursor.execute('PRAGMA page_count').fetchone()[0]\n"
        "cursor.execute(f'PRAGMA max_page_count = {pages + 8}')\n"
        "call_command('demo')\n"
    )
    result = run_cchc(var_dir, sqlite_url(path), "shell", "-c", code)
    _clean_failure(result, 11, "đã đầy")
    assert "database or disk is full" in result.stderr


@sqlite_leg
def test_a_full_disk_exits_11(migrated_file, var_dir, tmp_path):
    """A real full file system: a small tmpfs mounted in a private mount namespace (needs
    the right to create one; skipped where it is refused)."""
    unshare, mount = shutil.which("unshare"), shutil.which("mount")
    if not unshare or not mount:
        pytest.skip("unshare/mount not available")
    path = copy_database(migrated_file, tmp_path / "cchc.sqlite3")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    size_kb = path.stat().st_size // 1024 + 256  # the file, its -shm and a little WAL
    script = (
        f"{mount} -t tmpfs -o size={size_kb}k cchc-full {mountpoint} || exit 97\n"
        f"cp {path} {mountpoint}/cchc.sqlite3\n"
        f'exec {CCHC} "$@"\n'
    )
    result = subprocess.run(
        [unshare, "-m", "sh", "-c", script, "sh", "demo"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        env={
            "DEBUG": "true",
            "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            "PYTHONUTF8": "1",
            "DATABASE_URL": sqlite_url(mountpoint / "cchc.sqlite3"),
            "CCHC_VAR_DIR": str(var_dir),
        },
    )
    if result.returncode == 97 or "unshare failed" in result.stderr:
        pytest.skip(f"cannot mount a small file system here: {result.stderr.strip()[:200]}")
    _clean_failure(result, 11, "Ổ đĩa hoặc cơ sở dữ liệu đã đầy")


def test_an_sqlite_file_that_cannot_be_opened_exits_13(var_dir, tmp_path):
    url = sqlite_url(tmp_path / "khong-co" / "thu-muc" / "cchc.sqlite3")
    result = run_cchc(var_dir, url, "dossiers", "verify")
    _clean_failure(result, 13, "Không kết nối được tới cơ sở dữ liệu")
    assert "unable to open database file" in result.stderr


def test_an_unreachable_postgresql_server_exits_13(var_dir):
    """Nothing listens on port 1: connection refused, no SQLSTATE."""
    result = run_cchc(var_dir, "postgres://cchc@127.0.0.1:1/cchc", "dossiers", "verify")
    _clean_failure(result, 13, "Không kết nối được tới cơ sở dữ liệu")
    assert "Connection refused" in result.stderr


def test_traceback_option_still_shows_the_traceback(var_dir, tmp_path):
    url = sqlite_url(tmp_path / "khong-co" / "cchc.sqlite3")
    result = run_cchc(var_dir, url, "dossiers", "--traceback", "verify")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "OperationalError" in result.stderr


# PostgreSQL: the suite's test database, used by child processes.
postgres_leg = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL")


@pytest.mark.postgres_only
@postgres_leg
def test_a_terminated_postgresql_connection_exits_13(django_db_setup, var_dir):
    """`cchc dossiers verify` waits on a table lock held here; its backend is terminated
    with pg_terminate_backend (what an administrator or a failover does)."""
    url = postgres_url()
    dbname = connection.settings_dict["NAME"]  # the test database, once set up
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE dossiers_dossier IN ACCESS EXCLUSIVE MODE")
        child = subprocess.Popen(
            [str(CCHC), "dossiers", "verify"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={
                "DEBUG": "true",
                "PATH": "/usr/bin:/bin",
                "PYTHONUTF8": "1",
                "DATABASE_URL": url,
                "CCHC_VAR_DIR": str(var_dir),
            },
        )
        try:
            with psycopg.connect(url, autocommit=True) as admin:
                waiting = None
                deadline = time.monotonic() + 120
                while waiting is None and time.monotonic() < deadline:
                    assert child.poll() is None, child.communicate()
                    waiting = admin.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                        "AND wait_event_type = 'Lock' AND pid <> %s",
                        (dbname, holder.info.backend_pid),
                    ).fetchone()
                    time.sleep(0.1)
                assert waiting is not None, "cchc never waited on the lock"
                admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0],))
            out, err = child.communicate(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
        holder.rollback()
    result = subprocess.CompletedProcess(child.args, child.returncode, out, err)
    _clean_failure(result, 13, "Không kết nối được tới cơ sở dữ liệu")


@pytest.mark.postgres_only
@postgres_leg
def test_a_read_only_postgresql_session_reads_and_refuses_writes_with_12(django_db_setup, var_dir):
    """A session where every transaction is read-only (a hot standby answers the same
    SQLSTATE 25006): verify works, the demo loader stops at its first write."""
    url = postgres_url(options="-c default_transaction_read_only=on")
    reading = run_cchc(var_dir, url, "dossiers", "verify")
    assert reading.returncode == 0, reading.stderr
    result = run_cchc(var_dir, url, "demo")
    _clean_failure(result, 12, "chỉ đọc")
    assert "read-only transaction" in result.stderr
