"""Making, keeping and restoring backups.

A backup is a directory: the database's consistent copy (`database.py`), the stored files
(MEDIA_ROOT, under `files/`) and `manifest.json` (`manifest.py`). It is written into
`<DIR>.tmp` and renamed to `<DIR>` only after the manifest is on disk, so a backup that was
interrupted (killed, disk full, power cut) is never taken for a good one: it stays a `.tmp`
directory, which listing ignores and the next scheduled backup removes. While a backup is
written, `<DIR>.tmp/.in-progress` is locked (flock), which is how a leftover is told from a
backup still running.

The database is copied before the files: the application writes a file before it commits
the row that names it, and never deletes one, so every file the copied database refers to
is in the backup.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import django
from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.migrations.loader import MigrationLoader

from cchc.audit import log as audit
from cchc.backups import database, manifest
from cchc.backups.errors import BackupFailed, RestoreMismatch, TargetNotEmpty
from cchc.errors import Conflict, InvalidInput, NotFound

NAME = re.compile(r"^cchc-\d{8}T\d{6}Z(?:-\d+)?$")
# A `.tmp` directory with no lock file yet is being created: leave it alone this long.
YOUNG_SECONDS = 60
DEFAULT_KEEP = 7


@dataclass
class BackupResult:
    path: Path
    manifest_sha256: str
    files: int
    bytes: int
    tables: int
    rows: int
    seconds: float
    pruned: int = 0
    stale_removed: int = 0
    kept: int = 0
    audited: bool = True

    def counts(self) -> dict[str, Any]:
        """The numbers the job runner records (`--json`'s last line)."""
        return {
            "files": self.files,
            "bytes": self.bytes,
            "tables": self.tables,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "pruned": self.pruned + self.stale_removed,
            "kept": self.kept,
            "path": str(self.path),
            "manifest_sha256": self.manifest_sha256,
        }


@dataclass
class RestoreResult:
    source: Path
    manifest_sha256: str
    files: int
    bytes: int
    tables: int
    rows: int
    seconds: float
    audit_head: dict[str, Any] | None
    pending_migrations: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "tables": self.tables,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "pending_migrations": len(self.pending_migrations),
            "source": str(self.source),
            "manifest_sha256": self.manifest_sha256,
        }


@dataclass(frozen=True)
class BackupInfo:
    """A complete backup found under a root."""

    path: Path
    created_at: str
    files: int
    bytes: int
    rows: int


# ------------------------------------------------------------------------- settings


def default_root() -> Path:
    """CCHC_BACKUP_DIR, by default <CCHC_VAR_DIR>/backups."""
    configured = getattr(settings, "CCHC_BACKUP_DIR", None)
    return Path(configured) if configured else Path(settings.CCHC_VAR_DIR) / "backups"


def default_keep() -> int:
    return int(getattr(settings, "CCHC_BACKUP_KEEP", None) or DEFAULT_KEEP)


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def _version() -> str:
    try:
        return metadata.version("cchc")
    except metadata.PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- locking


def _try_lock(path: Path) -> IO[bytes] | None:
    """An exclusive, non-blocking flock on `path` (created if missing), or None if another
    process holds it."""
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def _is_stale(tmp: Path) -> bool:
    """Whether a `.tmp` backup directory is a leftover (its writer is gone)."""
    marker = tmp / manifest.IN_PROGRESS
    if not marker.exists():
        return time.time() - tmp.stat().st_mtime > YOUNG_SECONDS
    handle = _try_lock(marker)
    if handle is None:
        return False
    handle.close()
    return True


def _remove_tree(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    else:
        shutil.rmtree(path)


def _claim(tmp: Path) -> IO[bytes]:
    """Create `tmp` and lock its marker; remove a stale leftover of the same name first."""
    if tmp.exists():
        if not _is_stale(tmp):
            raise Conflict(
                f"Một lần sao lưu khác đang ghi vào «{tmp}»: chờ nó xong rồi chạy lại.",
                code="backup.busy",
            )
        _remove_tree(tmp)
    try:
        tmp.mkdir(mode=0o700)
    except FileExistsError:
        raise Conflict(
            f"Một lần sao lưu khác vừa bắt đầu ghi vào «{tmp}».", code="backup.busy"
        ) from None
    handle = _try_lock(tmp / manifest.IN_PROGRESS)
    if handle is None:  # pragma: no cover - a new directory's marker is ours
        raise Conflict(f"Không khóa được «{tmp}».", code="backup.busy")
    return handle


# --------------------------------------------------------------------------- backing up


def _copy_files(target: Path) -> list[dict[str, Any]]:
    """Copy MEDIA_ROOT's regular files into `target/files`; a write in progress (`*.part`)
    and symbolic links are skipped."""
    root = _media_root()
    entries: list[dict[str, Any]] = []
    if not root.is_dir():
        return entries
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        for name in sorted(names):
            source = Path(directory) / name
            if name.endswith(".part") or source.is_symlink() or not source.is_file():
                continue
            relative = source.relative_to(root).as_posix()
            stored = f"{manifest.FILES_DIR}/{relative}"
            try:
                sha, size = manifest.copy_hashed(source, target / stored)
            except FileNotFoundError:  # removed while we walked: not part of the snapshot
                continue
            entries.append({"path": stored, "sha256": sha, "size": size})
    return entries


def create(out: Path, *, now: dt.datetime | None = None) -> BackupResult:
    """Make a complete backup in the directory `out` (which must not exist yet)."""
    began = time.perf_counter()
    out = out.expanduser().absolute()
    if out.exists():
        raise InvalidInput(
            f"«{out}» đã tồn tại: chọn một thư mục mới cho bản sao lưu.", code="backup.exists"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    lock = _claim(tmp)
    try:
        try:
            snapshot = database.dump(tmp)
            db_entry = manifest.entry(tmp, tmp / snapshot.file)
            file_entries = _copy_files(tmp)
        except OSError as exc:
            raise BackupFailed(f"Lỗi đọc/ghi tệp khi sao lưu: {exc}") from None
        entries = [db_entry, *file_entries]
        inventory = snapshot.inventory
        created_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
        data = {
            "format": manifest.FORMAT,
            "format_version": manifest.FORMAT_VERSION,
            "created_at": created_at.isoformat(timespec="seconds"),
            "cchc_version": _version(),
            "django_version": django.get_version(),
            "database": {
                "vendor": snapshot.vendor,
                "file": snapshot.file,
                **snapshot.details,
            },
            "migrations": inventory.migrations,
            "tables": inventory.tables,
            "audit_head": inventory.audit_head,
            "files": entries,
            "totals": {
                "files": len(entries),
                "bytes": sum(e["size"] for e in entries),
                "tables": len(inventory.tables),
                "rows": inventory.rows,
                "stored_files": len(file_entries),
            },
        }
        for directory in sorted({(tmp / e["path"]).parent for e in entries}, reverse=True):
            manifest.sync_dir(directory)
        digest = manifest.write(tmp, data)
        tmp.rename(out)
        manifest.sync_dir(out.parent)
        (out / manifest.IN_PROGRESS).unlink(missing_ok=True)
    except BaseException:
        lock.close()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    lock.close()
    result = BackupResult(
        path=out,
        manifest_sha256=digest,
        files=len(entries),
        bytes=data["totals"]["bytes"],
        tables=len(inventory.tables),
        rows=inventory.rows,
        seconds=time.perf_counter() - began,
    )
    return result


def _audit_created(result: BackupResult) -> bool:
    """Record the backup in the (source) database's audit log. The entry is not in the
    backup itself: it is written after the snapshot. A database that cannot be written (a
    read-only file being rescued) still gets its backup; the caller is told."""
    try:
        with transaction.atomic():
            audit.record(
                "backup.created",
                actor=None,
                data={
                    "path": str(result.path),
                    "manifest_sha256": result.manifest_sha256,
                    "files": result.files,
                    "bytes": result.bytes,
                    "tables": result.tables,
                    "rows": result.rows,
                    "pruned": result.pruned + result.stale_removed,
                },
            )
    except DatabaseError:
        return False
    return True


def backup(out: Path) -> BackupResult:
    """`cchc backup --out DIR`: one backup into DIR, recorded in the audit log."""
    result = create(out)
    result.audited = _audit_created(result)
    return result


def _unique_name(root: Path, now: dt.datetime) -> Path:
    base = "cchc-" + now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, n = root / base, 1
    while candidate.exists() or candidate.with_name(candidate.name + ".tmp").exists():
        candidate, n = root / f"{base}-{n}", n + 1
    return candidate


def backup_to_root(root: Path | None = None, keep: int | None = None) -> BackupResult:
    """The scheduled backup: a new timestamped backup under `root`, then retention — the
    newest `keep` complete backups stay, older ones and leftovers of interrupted runs go.
    Nothing is pruned when the backup fails."""
    root = (root or default_root()).expanduser().absolute()
    keep = default_keep() if keep is None else keep
    if keep < 1:
        raise InvalidInput("--keep phải từ 1 trở lên.", code="backup.keep")
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.UTC)
    result = create(_unique_name(root, now), now=now)
    result.pruned, result.stale_removed = prune(root, keep)
    result.kept = len(list_backups(root))
    result.audited = _audit_created(result)
    return result


def list_backups(root: Path | None = None) -> list[BackupInfo]:
    """The complete backups under `root`, newest first (interrupted `.tmp` ones are not)."""
    root = (root or default_root()).expanduser().absolute()
    if not root.is_dir():
        return []
    found: list[BackupInfo] = []
    for path in root.iterdir():
        if not (NAME.match(path.name) and path.is_dir() and not path.is_symlink()):
            continue
        if not (path / manifest.MANIFEST).is_file():
            continue
        try:
            data, _ = manifest.read(path)
        except InvalidInput:
            continue
        totals = data.get("totals", {})
        found.append(
            BackupInfo(
                path=path,
                created_at=str(data.get("created_at", "")),
                files=int(totals.get("files", 0)),
                bytes=int(totals.get("bytes", 0)),
                rows=int(totals.get("rows", 0)),
            )
        )
    return sorted(found, key=lambda info: (info.created_at, info.path.name), reverse=True)


def prune(root: Path, keep: int) -> tuple[int, int]:
    """Remove complete backups beyond the newest `keep`, and stale `.tmp` leftovers; only
    directories named as this module names them are touched. (removed, stale removed)."""
    removed = stale = 0
    for info in list_backups(root)[keep:]:
        _remove_tree(info.path)
        removed += 1
    for path in root.iterdir():
        if (
            path.name.endswith(".tmp")
            and NAME.match(path.name[: -len(".tmp")])
            and path.is_dir()
            and not path.is_symlink()
            and _is_stale(path)
        ):
            _remove_tree(path)
            stale += 1
    return removed, stale


# ---------------------------------------------------------------------------- restoring


def _migration_gap(applied: list[list[str]]) -> tuple[list[str], list[str]]:
    """(migrations of this code not in the backup, migrations of the backup unknown here)."""
    on_disk = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    done = {(app, name) for app, name in applied}
    pending = sorted(f"{app}.{name}" for app, name in on_disk - done)
    unknown = sorted(f"{app}.{name}" for app, name in done - on_disk)
    return pending, unknown


def _check_target_files(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored files to copy back; refuses when a file of the same name already exists
    with other content (the file store is not the backup's)."""
    root = _media_root()
    todo, clashes = [], []
    prefix = manifest.FILES_DIR + "/"
    for item in entries:
        if not item["path"].startswith(prefix):
            continue
        target = root / item["path"][len(prefix) :]
        if target.exists():
            if manifest.sha256_of(target)[0] != item["sha256"]:
                clashes.append(item["path"][len(prefix) :])
            continue
        todo.append(item)
    if clashes:
        raise TargetNotEmpty(
            f"Thư mục tệp «{root}» đã có {len(clashes)} tệp khác nội dung bản sao lưu (vd. "
            f"«{clashes[0]}»): khôi phục vào một thư mục tệp trống (CCHC_VAR_DIR mới).",
            files=clashes[:20],
        )
    return todo


def restore(source: Path) -> RestoreResult:
    """`cchc restore DIR`: check the backup, then put it into the configured database (which
    must be empty) and file store, compare the row counts, and record the restore in the
    restored audit log (after the restore: the chain goes on from the restored head)."""
    began = time.perf_counter()
    source = source.expanduser().absolute()
    if not source.exists():
        raise NotFound(f"Không có thư mục sao lưu «{source}».", code="backup.not_found")
    if not source.is_dir():
        raise InvalidInput(f"«{source}» không phải một thư mục.", code="backup.not_a_backup")
    data, digest = manifest.read(source)
    checked = manifest.verify(source, data)
    db = data["database"]
    if db.get("vendor") != database.vendor():
        raise InvalidInput(
            f"Bản sao lưu là của {db.get('vendor')}, cơ sở dữ liệu đích là "
            f"{database.vendor()}: khôi phục vào cùng loại cơ sở dữ liệu.",
            code="backup.vendor",
        )
    pending, unknown = _migration_gap(data["migrations"])
    if unknown:
        raise InvalidInput(
            f"Bản sao lưu được tạo bởi phiên bản cchc mới hơn ({data.get('cchc_version')}): "
            f"có {len(unknown)} migration mà mã hiện tại không có (vd. {unknown[0]}). Cài "
            "phiên bản đó rồi khôi phục.",
            code="backup.newer",
        )
    state = database.inventory()
    if not state.empty:
        raise TargetNotEmpty(
            "Cơ sở dữ liệu đích không trống ("
            f"{len(state.tables)} bảng, {state.rows} dòng, {len(state.migrations)} migration "
            "đã áp dụng): chỉ khôi phục vào cơ sở dữ liệu mới, chưa chạy «cchc migrate». "
            "Dữ liệu hiện có không bị thay đổi.",
            tables=len(state.tables),
            rows=state.rows,
        )
    todo = _check_target_files(data["files"])
    database.load(source, db)
    prefix = manifest.FILES_DIR + "/"
    try:
        for item in todo:
            target = _media_root() / item["path"][len(prefix) :]
            part = target.with_name(target.name + ".part")
            part.unlink(missing_ok=True)
            manifest.copy_hashed(source / item["path"], part)
            part.replace(target)
    except OSError as exc:
        raise BackupFailed(f"Lỗi ghi tệp khi khôi phục: {exc}") from None
    after = database.inventory()
    expected: dict[str, int] = {str(k): int(v) for k, v in data["tables"].items()}
    differences = [
        f"{table}: {expected.get(table, 0)} → {after.tables.get(table, 0)}"
        for table in sorted(set(expected) | set(after.tables))
        if expected.get(table, 0) != after.tables.get(table, 0)
    ]
    with transaction.atomic():
        audit.record(
            "backup.restored",
            actor=None,
            data={
                "source": str(source),
                "manifest_sha256": digest,
                "created_at": data.get("created_at"),
                "cchc_version": data.get("cchc_version"),
                "vendor": db.get("vendor"),
                "tables": len(after.tables),
                "rows": after.rows,
                "files": checked,
                "counts_match": not differences,
                "differences": differences[:20],
            },
        )
    if differences:
        raise RestoreMismatch(
            f"Đã khôi phục nhưng số dòng khác tệp kê khai ở {len(differences)} bảng "
            f"({'; '.join(differences[:5])}): không dùng cơ sở dữ liệu này, kiểm tra lại.",
            differences=differences,
        )
    totals = data.get("totals", {})
    return RestoreResult(
        source=source,
        manifest_sha256=digest,
        files=checked,
        bytes=int(totals.get("bytes", 0)),
        tables=len(after.tables),
        rows=after.rows,
        seconds=time.perf_counter() - began,
        audit_head=data.get("audit_head"),
        pending_migrations=pending,
    )
