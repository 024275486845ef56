"""The database half of a backup, one path per vendor.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies the live file page by
  page inside one read transaction: a consistent snapshot, while the application keeps
  writing (WAL). The copy is switched to rollback-journal mode, checked (`quick_check`) and
  counted; a restore copies it into place with the same API.
- PostgreSQL: a REPEATABLE READ transaction exports its snapshot; `pg_dump --format=custom
  --snapshot=…` dumps exactly that snapshot, and the row counts and migrations of the
  manifest are read in the same transaction, so they describe the dump and nothing else. A
  restore runs `pg_restore --no-owner --single-transaction --exit-on-error`: all or nothing.

Raw connections are used on purpose (sqlite3, psycopg), never Django's: the backup must not
join or disturb a transaction of the process that runs it (the job worker), and a restore
works on a database that Django has not migrated.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from cchc.backups.errors import BackupFailed, ToolUnavailable
from cchc.errors import InvalidInput

SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
# libpq connection options (Django's DATABASES OPTIONS) passed to pg_dump/pg_restore as
# their environment variables.
_PG_ENV_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema")


@dataclass
class Inventory:
    """What a database holds: applied migrations (app, name) and rows per table, plus the
    audit log's last entry (id, hash) — an anchor for `cchc audit verify` after a restore."""

    migrations: list[list[str]] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    audit_head: dict[str, Any] | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    @property
    def empty(self) -> bool:
        """No table at all: nothing migrated, nothing to overwrite."""
        return not self.tables


@dataclass
class Snapshot:
    """The database part of a backup: its file in the backup directory and its inventory."""

    vendor: str
    file: str
    inventory: Inventory
    details: dict[str, Any]


def vendor() -> str:
    return str(connections["default"].vendor)


def _db() -> dict[str, Any]:
    return dict(settings.DATABASES["default"])


# ---------------------------------------------------------------------------- inventories


def _quote_sqlite(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_inventory(conn: sqlite3.Connection) -> Inventory:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    ]
    inventory = Inventory()
    for name in names:
        (count,) = conn.execute(f"SELECT COUNT(*) FROM {_quote_sqlite(name)}").fetchone()  # noqa: S608 - quoted identifier
        inventory.tables[name] = int(count)
    if "django_migrations" in inventory.tables:
        inventory.migrations = [
            [app, name]
            for app, name in conn.execute(
                "SELECT app, name FROM django_migrations ORDER BY app, name"
            )
        ]
    if inventory.tables.get("audit_auditentry"):
        entry_id, entry_hash = conn.execute(
            "SELECT id, hash FROM audit_auditentry ORDER BY id DESC LIMIT 1"
        ).fetchone()
        inventory.audit_head = {"id": int(entry_id), "hash": entry_hash}
    return inventory


def _pg_inventory(conn: psycopg.Connection[Any]) -> Inventory:
    rows = conn.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname <> ALL(%s) "
        "AND schemaname NOT LIKE 'pg_toast%%' AND schemaname NOT LIKE 'pg_temp%%' "
        "ORDER BY schemaname, tablename",
        [list(_SYSTEM_SCHEMAS)],
    ).fetchall()
    inventory = Inventory()
    for schema, table in rows:
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        (count,) = conn.execute(query).fetchone() or (0,)
        label = table if schema == "public" else f"{schema}.{table}"
        inventory.tables[label] = int(count)
    if "django_migrations" in inventory.tables:
        inventory.migrations = [
            [app, name]
            for app, name in conn.execute(
                "SELECT app, name FROM django_migrations ORDER BY app, name"
            )
        ]
    if inventory.tables.get("audit_auditentry"):
        head = conn.execute(
            "SELECT id, hash FROM audit_auditentry ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if head:
            inventory.audit_head = {"id": int(head[0]), "hash": head[1]}
    return inventory


def inventory() -> Inventory:
    """The inventory of the configured database as it is now (after a restore; or to tell
    whether it is empty). A SQLite file that does not exist yet is empty."""
    if vendor() == "sqlite":
        path = _sqlite_path()
        if not path.exists() or path.stat().st_size == 0:
            return Inventory()
        with closing(sqlite3.connect(path, timeout=20)) as conn:
            return _sqlite_inventory(conn)
    with _pg_connect() as conn:
        return _pg_inventory(conn)


# --------------------------------------------------------------------------------- SQLite


def _sqlite_path() -> Path:
    name = str(_db().get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:"):
        raise InvalidInput(
            f"Không sao lưu/khôi phục được cơ sở dữ liệu SQLite «{name}»: cần một tệp "
            "(DATABASE_URL=sqlite:////đường/dẫn/tệp.sqlite3).",
            code="backup.sqlite_name",
        )
    return Path(name)


def _sqlite_dump(target: Path) -> Snapshot:
    source = _sqlite_path()
    if not source.is_file():
        raise BackupFailed(f"Không có tệp cơ sở dữ liệu «{source}» để sao lưu.")
    copy = target / SQLITE_FILE
    try:
        with (
            closing(sqlite3.connect(source, timeout=20)) as src,
            closing(sqlite3.connect(copy)) as dst,
        ):
            # pages=-1: the whole file in one step, under one read transaction.
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            (check,) = dst.execute("PRAGMA quick_check").fetchone()
            if check != "ok":
                raise BackupFailed(f"Bản sao SQLite không toàn vẹn (quick_check: {check}).")
            inventory = _sqlite_inventory(dst)
        os.chmod(copy, 0o600)
        with copy.open("rb") as handle:
            os.fsync(handle.fileno())
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite không sao lưu được «{source}»: {exc}") from None
    return Snapshot("sqlite", SQLITE_FILE, inventory, {"sqlite_version": sqlite3.sqlite_version})


def _sqlite_load(backup: Path) -> None:
    target = _sqlite_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    connections.close_all()  # nothing of Django's holds the file while it is replaced
    try:
        with (
            closing(sqlite3.connect(backup.as_uri() + "?mode=ro", uri=True)) as src,
            closing(sqlite3.connect(target, timeout=20)) as dst,
        ):
            # The backup API refuses a WAL-mode target whose page size differs.
            dst.execute("PRAGMA journal_mode=DELETE")
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=WAL")  # as cchc.config opens it
    except sqlite3.Error as exc:
        raise BackupFailed(f"SQLite không khôi phục được vào «{target}»: {exc}") from None


# ----------------------------------------------------------------------------- PostgreSQL


def _pg_kwargs() -> dict[str, Any]:
    db = _db()
    kwargs: dict[str, Any] = {"dbname": db.get("NAME") or ""}
    for key, setting in (("user", "USER"), ("password", "PASSWORD"), ("host", "HOST")):
        if db.get(setting):
            kwargs[key] = db[setting]
    if db.get("PORT"):
        kwargs["port"] = str(db["PORT"])
    for key in _PG_ENV_OPTIONS:
        if key in db.get("OPTIONS", {}):
            kwargs[key] = db["OPTIONS"][key]
    return kwargs


@contextmanager
def _pg_connect() -> Iterator[psycopg.Connection[Any]]:
    kwargs = _pg_kwargs()
    try:
        conn = psycopg.connect(**kwargs)
    except psycopg.Error as exc:
        raise BackupFailed(
            f"Không kết nối được PostgreSQL (cơ sở dữ liệu «{kwargs['dbname']}»): "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
        ) from None
    with conn:
        yield conn


def _pg_env() -> dict[str, str]:
    """pg_dump/pg_restore's connection, as libpq environment variables: the password never
    appears on a command line (visible to every user of the machine)."""
    kwargs = _pg_kwargs()
    env = dict(os.environ)
    for key, var in (
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("dbname", "PGDATABASE"),
    ):
        if kwargs.get(key):
            env[var] = str(kwargs[key])
    for key, var in _PG_ENV_OPTIONS.items():
        if key in kwargs:
            env[var] = str(kwargs[key])
    return env


def tool(name: str) -> str:
    """The path of pg_dump or pg_restore: from CCHC_PG_BIN (a directory, e.g.
    /usr/lib/postgresql/16/bin) when set, else from PATH."""
    directory = str(getattr(settings, "CCHC_PG_BIN", "") or "")
    found = shutil.which(name, path=directory) if directory else shutil.which(name)
    if not found:
        where = f"trong CCHC_PG_BIN={directory}" if directory else "trong PATH"
        raise ToolUnavailable(
            f"Không tìm thấy {name} {where}: cài gói postgresql-client cùng phiên bản với "
            "máy chủ PostgreSQL (hoặc đặt CCHC_PG_BIN là thư mục chứa nó).",
            tool=name,
        )
    return found


def tool_major(path: str) -> int:
    """The major version of a PostgreSQL client tool (`pg_dump (PostgreSQL) 15.20` → 15)."""
    try:
        out = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            [path, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolUnavailable(f"Không chạy được {path}: {exc}") from None
    match = re.search(r"\)\s*(\d+)(?:\.(\d+))?", out) or re.search(r"(\d+)\.\d+", out)
    if match is None:
        raise ToolUnavailable(f"Không đọc được phiên bản của {path} («{out.strip()}»).")
    return int(match[1])  # 9.6 counts as 9: servers older than 10 are long unsupported


def _server_major(conn: psycopg.Connection[Any]) -> int:
    return int(conn.info.server_version) // 10000  # 150020 → 15; 90624 → 9


def _run(argv: list[str], env: dict[str, str], what: str) -> None:
    try:
        result = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            argv, env=env, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise BackupFailed(f"Không chạy được {argv[0]}: {exc}") from None
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        reason = lines[-1] if lines else f"mã thoát {result.returncode}"
        raise BackupFailed(f"{what} thất bại: {reason}", stderr=result.stderr[-4000:])


def _pg_dump(target: Path) -> Snapshot:
    pg_dump = tool("pg_dump")
    client = tool_major(pg_dump)
    with _pg_connect() as conn:
        server = _server_major(conn)
        if client < server:
            raise ToolUnavailable(
                f"pg_dump phiên bản {client} cũ hơn máy chủ PostgreSQL {server}: cài "
                f"postgresql-client-{server} (hoặc mới hơn) và đặt CCHC_PG_BIN="
                f"/usr/lib/postgresql/{server}/bin.",
                tool="pg_dump",
            )
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        snapshot_id = row[0] if row else ""
        path = target / PG_FILE
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-password",
                f"--snapshot={snapshot_id}",
                f"--file={path}",
            ],
            _pg_env(),
            "pg_dump",
        )
        inventory = _pg_inventory(conn)  # the same snapshot as the dump
        conn.rollback()
    os.chmod(path, 0o600)
    return Snapshot(
        "postgresql",
        PG_FILE,
        inventory,
        {"server_major": server, "pg_dump_major": client},
    )


def _pg_load(backup: Path, details: dict[str, Any]) -> None:
    pg_restore = tool("pg_restore")
    client = tool_major(pg_restore)
    needed = int(details.get("pg_dump_major") or 0)
    if client < needed:
        raise ToolUnavailable(
            f"pg_restore phiên bản {client} không đọc được bản dump của pg_dump {needed}: cài "
            f"postgresql-client-{needed} (hoặc mới hơn) và đặt CCHC_PG_BIN.",
            tool="pg_restore",
        )
    connections.close_all()
    env = _pg_env()
    _run(
        [
            pg_restore,
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={env.get('PGDATABASE', '')}",
            str(backup),
        ],
        env,
        "pg_restore",
    )


# ------------------------------------------------------------------------------ interface


def dump(target: Path) -> Snapshot:
    """Write the database's consistent copy into the directory `target`."""
    if vendor() == "sqlite":
        return _sqlite_dump(target)
    if vendor() == "postgresql":
        return _pg_dump(target)
    raise InvalidInput(f"Không hỗ trợ sao lưu cơ sở dữ liệu loại {vendor()}.")


def load(backup_dir: Path, database: dict[str, Any]) -> None:
    """Restore the manifest's `database` part from `backup_dir` into the configured (empty)
    database."""
    path = backup_dir / str(database["file"])
    if vendor() == "sqlite":
        _sqlite_load(path)
    else:
        _pg_load(path, database)
