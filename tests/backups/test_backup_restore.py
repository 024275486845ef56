"""`cchc backup` and `cchc restore`, end to end through the console script.

Each test drives `.venv/bin/cchc` in subprocesses with its own DATABASE_URL and CCHC_VAR_DIR
(temporary directories; on PostgreSQL, databases created here and dropped after), on the
vendor of the test leg: the demo data set is migrated and loaded once per module, backed up,
and restored into fresh empty databases.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from cchc.backups import manifest as backup_manifest
from cchc.backups.errors import BackupCorrupt

CCHC = Path(sys.executable).with_name("cchc")
POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


@dataclass
class Site:
    """One installation: its database and its var directory (stored files under files/)."""

    env: dict[str, str]
    var: Path
    dbname: str  # PostgreSQL database name, or the SQLite file path

    def run(self, *args: str, timeout: int = 600, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(CCHC), *args],
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if not POSTGRES:
            with sqlite3.connect(self.dbname) as conn:
                return conn.execute(sql).fetchall()
        import psycopg  # only the PostgreSQL leg has a server to reach

        with psycopg.connect(**_pg_params(self.dbname)) as conn:
            return conn.execute(sql).fetchall()

    def execute(self, *statements: str) -> None:
        if not POSTGRES:
            with sqlite3.connect(self.dbname) as conn:
                for statement in statements:
                    conn.execute(statement)
            return
        import psycopg  # only the PostgreSQL leg has a server to reach

        with psycopg.connect(**_pg_params(self.dbname)) as conn:
            for statement in statements:
                conn.execute(statement)

    def tables(self) -> int:
        sql = (
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            if POSTGRES
            else "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        )
        return int(self.query(sql)[0][0])


def _pg_params(dbname: str) -> dict[str, Any]:
    db = settings.DATABASES["default"]
    params = {"dbname": dbname, "user": db.get("USER") or None, "host": db.get("HOST") or None}
    if db.get("PASSWORD"):
        params["password"] = db["PASSWORD"]
    if db.get("PORT"):
        params["port"] = str(db["PORT"])
    return {k: v for k, v in params.items() if v is not None}


class Sites:
    """Makes installations and removes them (drops their databases) at the end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.databases: list[str] = []

    def new(self, role: str) -> Site:
        tag = f"{role}_{uuid.uuid4().hex[:8]}"
        var = self.base / tag
        var.mkdir(parents=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.base),
            "DEBUG": "true",
            "CCHC_VAR_DIR": str(var),
        }
        if POSTGRES:
            import psycopg  # only the PostgreSQL leg has a server to reach

            name = f"cchc_bk_{tag}"
            with psycopg.connect(**_pg_params("postgres"), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.databases.append(name)
            db = settings.DATABASES["default"]
            auth = db.get("USER") or ""
            if db.get("PASSWORD"):
                auth += f":{db['PASSWORD']}"
            host = f"{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
            env["DATABASE_URL"] = f"postgres://{auth}@{host}/{name}"
            return Site(env, var, name)
        path = var / "cchc.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        return Site(env, var, str(path))

    def drop_all(self) -> None:
        if not self.databases:
            return
        import psycopg  # only the PostgreSQL leg has a server to reach

        with psycopg.connect(**_pg_params("postgres"), autocommit=True) as conn:
            for name in self.databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


def last_json(result: subprocess.CompletedProcess) -> dict[str, Any]:
    return json.loads(result.stdout.strip().splitlines()[-1])


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    made = Sites(tmp_path_factory.mktemp("backups"))
    try:
        yield made
    finally:
        made.drop_all()


@pytest.fixture(scope="module")
def source(sites: Sites) -> Site:
    """A migrated database with the demo data set (built once for the module)."""
    site = sites.new("src")
    ok(site.run("migrate", "--noinput"))
    ok(site.run("demo"))
    return site


@pytest.fixture(scope="module")
def backup(source: Site, sites: Sites) -> tuple[Path, dict[str, Any]]:
    out = sites.base / "backup-one"
    result = ok(source.run("backup", "--out", str(out), "--json"))
    return out, last_json(result)


def test_backup_is_complete_and_described_by_its_manifest(backup, source):
    out, counts = backup
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert not out.with_name(out.name + ".tmp").exists()
    assert not (out / ".in-progress").exists()
    # The job runner's counts: the last stdout line.
    assert counts["files"] == len(manifest["files"]) >= 2
    assert counts["tables"] == len(manifest["tables"]) > 50
    assert counts["rows"] == sum(manifest["tables"].values()) > 1000
    assert counts["bytes"] == sum(f["size"] for f in manifest["files"])
    assert isinstance(counts["seconds"], float)
    assert manifest["format"] == "cchc-backup" and manifest["format_version"] == 1
    assert manifest["database"]["vendor"] == ("postgresql" if POSTGRES else "sqlite")
    assert ["audit", "0001_initial"] in manifest["migrations"]
    assert manifest["tables"]["dossiers_dossier"] > 0
    # Every file listed with its real hash and size; every file of the backup listed.
    listed = {f["path"]: (f["sha256"], f["size"]) for f in manifest["files"]}
    on_disk = {
        p.relative_to(out).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_size,
        )
        for p in out.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert listed == on_disk
    # The stored files are all there, under files/.
    stored = tree_hashes(source.var / "files")
    assert {f"files/{k}": v for k, v in stored.items()} == {
        k: v[0] for k, v in listed.items() if k.startswith("files/")
    }
    # The backup is recorded in the source's audit log, with the manifest's own hash.
    digest = hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()
    rows = source.query(
        "SELECT data FROM audit_auditentry WHERE action = 'backup.created' ORDER BY id"
    )
    data = rows[-1][0] if POSTGRES else json.loads(rows[-1][0])
    assert data["manifest_sha256"] == digest == counts["manifest_sha256"]
    assert data["path"] == str(out)


def test_restore_into_an_empty_database_gives_the_same_data(backup, source, sites):
    out, _ = backup
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    target = sites.new("dst")
    result = ok(target.run("restore", str(out), "--json"))
    counts = last_json(result)
    assert counts["rows"] == sum(manifest["tables"].values())
    assert counts["tables"] == len(manifest["tables"])
    for command in ("cchc dossiers verify", "cchc indicators verify", "cchc audit verify"):
        assert command in result.stdout
    # Row by row counts, as the manifest recorded them (the restore entry added to the audit).
    for table, expected in manifest["tables"].items():
        (actual,) = target.query(f'SELECT count(*) FROM "{table}"')[0]  # noqa: S608
        assert actual == expected + (1 if table == "audit_auditentry" else 0), table
    # The stored files came back, byte for byte.
    assert tree_hashes(target.var / "files") == tree_hashes(source.var / "files")
    # The three checks are clean on the restored database.
    ok(target.run("dossiers", "verify"))
    ok(target.run("indicators", "verify"))
    head = manifest["audit_head"]
    verified = ok(target.run("audit", "verify", "--anchor", f"{head['id']}:{head['hash']}"))
    assert "toàn vẹn" in verified.stdout
    # The restore itself is the audit log's newest entry, chained after the restored head.
    action, prev = target.query(
        "SELECT action, prev_hash FROM audit_auditentry ORDER BY id DESC LIMIT 1"
    )[0]
    assert (action, prev) == ("backup.restored", head["hash"])


def test_restore_into_a_database_with_data_is_refused(backup, source):
    out, _ = backup
    before = source.query("SELECT count(*) FROM audit_auditentry")[0][0]
    result = source.run("restore", str(out))
    assert result.returncode == 5, result.stdout + result.stderr
    assert "không trống" in result.stderr and "Traceback" not in result.stderr
    assert source.query("SELECT count(*) FROM audit_auditentry")[0][0] == before


def test_restore_into_a_database_with_migrations_applied_is_refused(backup, sites):
    """A database where `cchc migrate` ran (here: its migrations table, with no other data)
    is not empty: pg_restore would collide with its tables, and its rows would mix."""
    out, _ = backup
    target = sites.new("migrated")
    target.execute(
        "CREATE TABLE django_migrations (id integer PRIMARY KEY, app varchar(255), "
        "name varchar(255), applied varchar(40))",
        "INSERT INTO django_migrations VALUES (1, 'audit', '0001_initial', '2024-01-01')",
    )
    result = target.run("restore", str(out))
    assert result.returncode == 5, result.stdout + result.stderr
    assert "1 migration đã áp dụng" in result.stderr
    assert "chưa chạy «cchc migrate»" in result.stderr
    assert target.tables() == 1


def test_a_tampered_backup_is_refused_before_anything_is_restored(backup, sites):
    out, _ = backup
    target = sites.new("tampered")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    stored = next(f["path"] for f in manifest["files"] if f["path"].startswith("files/"))
    copy = sites.base / "tampered"
    shutil.copytree(out, copy)
    original = (copy / stored).read_bytes()
    (copy / stored).write_bytes(b"X" + original[1:])  # one byte of a stored file changed
    result = target.run("restore", str(copy))
    assert result.returncode == 20, result.stdout + result.stderr
    assert f"tệp «{stored}» đã bị thay đổi" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.tables() == 0  # nothing was restored
    assert not (target.var / "files").exists() or not any((target.var / "files").rglob("*"))
    (copy / stored).write_bytes(original)
    # The other ways a backup is damaged, checked by the same verification (in-process).
    database = manifest["database"]["file"]
    cases = {
        "database": (
            lambda: (copy / database).open("ab").write(b"\0"),
            f"tệp «{database}» đã bị thay đổi",
        ),
        "extra": (
            lambda: (copy / "files" / "them.pdf").write_bytes(b"%PDF-1.4"),
            "tệp lạ «files/them.pdf»",
        ),
        "missing": (lambda: (copy / stored).unlink(), f"thiếu tệp «{stored}»"),
    }
    for case, (tamper, expected) in cases.items():
        shutil.rmtree(copy)
        shutil.copytree(out, copy)
        tamper()
        with pytest.raises(BackupCorrupt) as refused:
            backup_manifest.verify(copy, manifest)
        assert expected in refused.value.message, case
    # A manifest path leading out of the backup is refused too.
    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    escaping = {**manifest, "files": [{"path": "../../etc/passwd", "sha256": "0", "size": 0}]}
    with pytest.raises(BackupCorrupt):
        backup_manifest.verify(copy, escaping)


def test_scheduled_backups_keep_the_newest_and_drop_interrupted_ones(backup, source, sites):
    out, _ = backup
    root = sites.base / "nightly"
    root.mkdir()
    # Two older complete backups (copies of a real one) ...
    older = [root / "cchc-20000101T000002Z", root / "cchc-20000101T000003Z"]
    for path in older:
        shutil.copytree(out, path)
    # ... what an interrupted run leaves: a .tmp directory whose writer is gone (lock free) ...
    stale = root / "cchc-20000101T000000Z.tmp"
    stale.mkdir()
    (stale / ".in-progress").touch()
    (stale / "database.sqlite3").write_bytes(b"partial")
    # ... and a run still going: its lock is held (here, by this test).
    running = root / "cchc-20000101T000001Z.tmp"
    running.mkdir()
    lock = (running / ".in-progress").open("ab")
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        counts = last_json(ok(source.run("backup", "--root", str(root), "--keep", "2", "--json")))
        made = Path(counts["path"])
        assert made.parent == root and (made / "manifest.json").is_file()
        assert counts["kept"] == 2 and counts["pruned"] == 2  # one old backup, one leftover
        listed = last_json(ok(source.run("backup", "--list", "--root", str(root), "--json")))
        paths = [Path(b["path"]) for b in listed["backups"]]
        assert paths == [made, older[1]]  # newest first; .tmp directories are not backups
        assert not older[0].exists()
        assert not stale.exists()  # the leftover is gone
        assert running.exists()  # the running one is left alone
        # An interrupted backup is not a backup.
        refused = source.run("restore", str(running))
        assert refused.returncode == 2 and "manifest.json" in refused.stderr
        # Writing over a directory another backup is writing into is refused.
        busy = source.run("backup", "--out", str(root / "cchc-20000101T000001Z"))
        assert busy.returncode == 5 and "đang ghi" in busy.stderr
    finally:
        lock.close()


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="pg_dump is used on PostgreSQL only")
def test_pg_dump_missing_or_older_than_the_server_is_a_clear_error(sites, tmp_path):
    source = sites.new("tools")  # the tools are checked before anything is read
    missing = source.run("backup", "--out", str(tmp_path / "a"), PATH=str(tmp_path))
    assert missing.returncode == 21 and "Không tìm thấy pg_dump" in missing.stderr
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    (fake / "pg_dump").chmod(0o755)
    old = source.run("backup", "--out", str(tmp_path / "b"), PATH=f"{fake}:/usr/bin:/bin")
    assert old.returncode == 21 and "cũ hơn máy chủ" in old.stderr, old.stderr
    assert "Traceback" not in old.stderr
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.tmp").exists()
