"""The errors of backups and restores, each with its own exit code (docs/backups.md lists
them), so that a script or the job runner can tell "the backup is damaged" from "the target
database is not empty" from "pg_dump is missing"."""

from __future__ import annotations

from cchc.errors import Conflict, DomainError


class TargetNotEmpty(Conflict):
    """The database (or the file store) to restore into already holds data."""

    code = "backup.target_not_empty"
    exit_code = 5


class BackupCorrupt(DomainError):
    """A file of the backup is missing, altered or not listed in its manifest."""

    code = "backup.corrupt"
    exit_code = 20


class ToolUnavailable(DomainError):
    """pg_dump / pg_restore is missing or older than the server (or the dump) needs."""

    code = "backup.tool"
    exit_code = 21


class RestoreMismatch(DomainError):
    """After a restore, the row counts differ from those the manifest recorded."""

    code = "backup.mismatch"
    exit_code = 22


class BackupFailed(DomainError):
    """The copy itself failed: pg_dump/pg_restore exited non-zero, SQLite refused, a file
    could not be read or written (disk full, permissions)."""

    code = "backup.failed"
    exit_code = 23
