"""The one classifier, on exceptions raised by real databases (SQLite files here; the
suite's PostgreSQL server on that leg), raw from the driver and as Django re-raises them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from cchc.config import sqlite_read_only_mode
from cchc.webkit.dbfailures import classify
from tests.failures.conftest import POSTGRES, postgres_url


def _raised(call) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    return info.value


def _sqlite(path: Path, **kw) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, **kw)


def test_sqlite_errors_by_kind(tmp_path):
    path = tmp_path / "t.sqlite3"
    db = _sqlite(path)
    db.execute("CREATE TABLE t (x TEXT)")

    # locked: another connection holds the write lock, no busy wait
    db.execute("BEGIN IMMEDIATE")
    other = _sqlite(path, timeout=0)
    locked = classify(_raised(lambda: other.execute("BEGIN IMMEDIATE")))
    db.execute("ROLLBACK")
    assert locked and locked.kind.name == "locked" and locked.kind.exit_code == 10

    # full: the database's page limit reached
    db.execute("PRAGMA max_page_count = 3")
    full = classify(_raised(lambda: db.execute("INSERT INTO t VALUES (?)", ("x" * 20_000,))))
    assert full and full.kind.name == "full" and full.kind.exit_code == 11
    assert full.detail == "database or disk is full"

    # read-only: opened read-only, then written
    ro = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    read_only = classify(_raised(lambda: ro.execute("INSERT INTO t VALUES ('x')")))
    assert read_only and read_only.kind.name == "read_only" and read_only.kind.exit_code == 12

    # unreachable: a file that cannot be opened
    missing = tmp_path / "khong-co" / "t.sqlite3"
    cannot = classify(_raised(lambda: sqlite3.connect(missing).execute("SELECT 1")))
    assert cannot and cannot.kind.name == "unreachable" and cannot.kind.exit_code == 13

    # other: a statement error is a database error, not an outage
    other_error = classify(_raised(lambda: db.execute("SELECT * FROM khong_co")))
    assert other_error and other_error.kind.name == "other" and other_error.kind.exit_code == 14
    for c in (db, other, ro):
        c.close()


def test_not_a_database_error_is_not_classified():
    assert classify(ValueError("x")) is None
    assert classify(None) is None
    # a bug raised while handling a database error stays a bug
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError:
            raise KeyError("oops")  # noqa: B904 - the implicit context is the point
    except KeyError as exc:
        assert classify(exc) is None


@pytest.mark.django_db
def test_django_wrapped_errors_keep_the_drivers_kind():
    """Django re-raises the driver's error as django.db.utils.*: the classifier reads the
    driver's code through `__cause__`. An integrity error is not an outage (pages and the
    API leave it to the 500 handling)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE cchc_failures_t (x INTEGER UNIQUE)")
        cursor.execute("INSERT INTO cchc_failures_t VALUES (1)")
        with pytest.raises(IntegrityError) as info, transaction.atomic():
            cursor.execute("INSERT INTO cchc_failures_t VALUES (1)")
        failure = classify(info.value)
        assert failure and failure.kind.name == "other" and not failure.outage
        transaction.set_rollback(True)


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL")
@pytest.mark.django_db
def test_postgresql_sqlstates_by_kind():
    """The server raises each SQLSTATE (PL/pgSQL RAISE … USING ERRCODE), Django wraps it."""
    expected = {
        "disk_full": "full",  # 53100
        "read_only_sql_transaction": "read_only",  # 25006
        "admin_shutdown": "unreachable",  # 57P01
        "connection_failure": "unreachable",  # 08006
        "too_many_connections": "unreachable",  # 53300
        "lock_not_available": "locked",  # 55P03
        "deadlock_detected": "locked",  # 40P01
        "undefined_table": "other",  # 42P01
    }
    found = {}
    with connection.cursor() as cursor:
        for name in expected:
            with pytest.raises(Exception) as info, transaction.atomic():
                cursor.execute(f"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '{name}'; END $$")
            failure = classify(info.value)
            found[name] = failure.kind.name if failure else None
    assert found == expected


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL")
@pytest.mark.django_db
def test_postgresql_read_only_transaction_and_refused_connection():
    with psycopg.connect(postgres_url(), autocommit=True) as db:
        db.execute("SET default_transaction_read_only = on")
        failure = classify(_raised(lambda: db.execute("CREATE TABLE cchc_failures_ro (x int)")))
    assert failure and failure.kind.name == "read_only"
    refused = classify(_raised(lambda: psycopg.connect("postgresql://x@127.0.0.1:1/x")))
    assert refused and refused.kind.name == "unreachable" and refused.outage


def test_sqlite_open_mode_follows_what_the_process_may_write(tmp_path):
    """Read-write unless the file or its directory is not writable by this process (as root
    every file is writable; the CLI tests cover read-only files in a child process)."""
    path = tmp_path / "cchc.sqlite3"
    assert sqlite_read_only_mode(path) == ""  # not there yet: created read-write
    _sqlite(path).close()
    assert sqlite_read_only_mode(path) == ""
