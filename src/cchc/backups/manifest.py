"""The backup directory's manifest (`manifest.json`) and the file checks built on it.

The manifest is written last, after every other file of the backup is on disk and synced:
its presence marks a complete backup. It lists every file with its size and SHA-256, so a
restore can refuse a backup with any file missing, altered or added before it touches the
target database. The manifest itself carries no secret (anyone able to alter a file could
recompute its hash), which is why the source database's audit log records the manifest's own
SHA-256 when the backup is made (`backup.created`): compare it before restoring a copy that
travelled.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

from cchc.backups.errors import BackupCorrupt
from cchc.errors import InvalidInput

FORMAT = "cchc-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Present (and locked) while a backup is being written; never part of a finished backup.
IN_PROGRESS = ".in-progress"
FILES_DIR = "files"
CHUNK = 1 << 20


def sha256_of(path: Path) -> tuple[str, int]:
    """(hex SHA-256, size) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def copy_hashed(source: Path, target: Path) -> tuple[str, int]:
    """Copy `source` to `target` (created, private, synced to disk) and return the (hex
    SHA-256, size) of the bytes written: what was copied is what was hashed, even if the
    source changes meanwhile."""
    digest = hashlib.sha256()
    size = 0
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with source.open("rb") as src, target.open("xb") as dst:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    os.chmod(target, 0o600)
    return digest.hexdigest(), size


def entry(root: Path, path: Path) -> dict[str, Any]:
    """The manifest entry of one file of the backup (path relative, with '/')."""
    sha, size = sha256_of(path)
    return {"path": path.relative_to(root).as_posix(), "sha256": sha, "size": size}


def write(directory: Path, manifest: dict[str, Any]) -> str:
    """Write `manifest.json` into `directory` atomically and durably; return its SHA-256."""
    content = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
    part = directory / (MANIFEST + ".part")
    with part.open("wb") as handle:
        handle.write(content + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(part, 0o600)
    part.replace(directory / MANIFEST)
    sync_dir(directory)
    return hashlib.sha256(content + b"\n").hexdigest()


def sync_dir(directory: Path) -> None:
    """fsync a directory, so that the names created or renamed in it survive a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(directory: Path) -> tuple[dict[str, Any], str]:
    """The manifest of the backup in `directory` and its SHA-256. A directory without one is
    not a complete backup (an interrupted one, or not a backup at all)."""
    path = directory / MANIFEST
    if not path.is_file():
        raise InvalidInput(
            f"«{directory}» không phải một bản sao lưu hoàn chỉnh: không có {MANIFEST} "
            "(bản sao lưu bị gián đoạn, hoặc nhầm thư mục).",
            code="backup.not_a_backup",
        )
    raw = path.read_bytes()
    try:
        manifest = json.loads(raw)
    except ValueError:
        raise InvalidInput(
            f"{MANIFEST} trong «{directory}» không đọc được (không phải JSON hợp lệ).",
            code="backup.manifest",
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(
            f"{MANIFEST} trong «{directory}» không phải tệp kê khai sao lưu của cchc.",
            code="backup.manifest",
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InvalidInput(
            f"Bản sao lưu dùng định dạng phiên bản {version}, phiên bản cchc này chỉ đọc được "
            f"đến {FORMAT_VERSION}: hãy khôi phục bằng phiên bản cchc "
            f"{manifest.get('cchc_version', 'đã tạo ra nó')}.",
            code="backup.manifest",
        )
    shapes = {"database": dict, "files": list, "tables": dict, "migrations": list}
    for key, shape in shapes.items():
        if not isinstance(manifest.get(key), shape):
            raise InvalidInput(
                f"{MANIFEST} thiếu mục «{key}» hoặc mục đó sai kiểu.", code="backup.manifest"
            )
    if not all(isinstance(item, dict) for item in manifest["files"]):
        raise InvalidInput(f"{MANIFEST}: mục «files» sai kiểu.", code="backup.manifest")
    return manifest, hashlib.sha256(raw).hexdigest()


def _safe(relative: str) -> bool:
    """A manifest path that stays inside the backup directory (no '..', not absolute)."""
    pure = PurePosixPath(relative)
    return (
        bool(relative)
        and "\\" not in relative
        and not pure.is_absolute()
        and all(part not in ("", ".", "..") for part in pure.parts)
    )


def verify(directory: Path, manifest: dict[str, Any]) -> int:
    """Check every file of the backup against the manifest: each listed file present with
    its size and SHA-256, and no file that the manifest does not list. Raises BackupCorrupt
    naming the files at fault; returns the number of files checked."""
    listed: dict[str, dict[str, Any]] = {}
    for item in manifest["files"]:
        relative = str(item.get("path", ""))
        if not _safe(relative):
            raise BackupCorrupt(
                f"Tệp kê khai có đường dẫn không hợp lệ «{relative}»: bản sao lưu đã bị sửa.",
                path=relative,
            )
        listed[relative] = item
    problems: list[str] = []
    for relative, item in sorted(listed.items()):
        path = directory / relative
        if not path.is_file() or path.is_symlink():
            problems.append(f"thiếu tệp «{relative}»")
            continue
        sha, size = sha256_of(path)
        if size != item.get("size") or sha != item.get("sha256"):
            problems.append(f"tệp «{relative}» đã bị thay đổi (mã SHA-256 không khớp)")
    for path in sorted(p for p in directory.rglob("*") if not p.is_dir()):
        relative = path.relative_to(directory).as_posix()
        if relative not in listed and relative not in (MANIFEST, IN_PROGRESS):
            problems.append(f"tệp lạ «{relative}» không có trong tệp kê khai")
    database = str(manifest["database"].get("file", ""))
    if database not in listed:
        problems.append(f"tệp cơ sở dữ liệu «{database}» không có trong danh sách tệp")
    if problems:
        shown = "; ".join(problems[:5]) + (
            f"; … (tổng {len(problems)})" if len(problems) > 5 else ""
        )
        raise BackupCorrupt(
            f"Bản sao lưu «{directory}» không toàn vẹn, không khôi phục: {shown}.",
            problems=problems,
        )
    return len(listed)
