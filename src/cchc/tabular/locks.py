"""Named locks held by a process for as long as it works on something (an import of one
file, from one source), so that two processes doing the same work take turns.

The lock lives where the data lives and dies with the process that holds it, so a crashed
holder never leaves it behind and "is anybody still working on this?" has a true answer:

* PostgreSQL: a session-level advisory lock on the process's database connection (shared by
  every host that reaches the database; released when the connection ends, whatever the
  way the process ends). Commits and rollbacks do not release it.
* SQLite: an exclusive `flock` on a file under ``<CCHC_VAR_DIR>/locks/`` (the database file
  is on this machine, so every process that writes it can see the lock file; the kernel
  releases the lock when the process dies, even with SIGKILL).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import connection

POLL_SECONDS = 0.2


def _pg_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for `name` (collisions only serialise more)."""
    digest = hashlib.sha256(f"cchc.lock:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock_path(name: str) -> Path:
    folder = Path(getattr(settings, "CCHC_VAR_DIR", "var")) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{hashlib.sha256(name.encode()).hexdigest()[:32]}.lock"


class _Held:
    """One acquired lock (release it exactly once)."""

    def __init__(self, name: str, handle: IO[bytes] | None) -> None:
        self.name = name
        self.handle = handle

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None
            return
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_pg_key(self.name)])


def _try(name: str) -> _Held | None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [_pg_key(name)])
            return _Held(name, None) if cursor.fetchone()[0] else None
    handle = _lock_path(name).open("a+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    # For whoever looks at the file: who holds it (the lock itself is the flock).
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n".encode())
    handle.flush()
    return _Held(name, handle)


@contextmanager
def holding(names: Iterable[str], *, wait: float) -> Iterator[bool]:
    """Hold every lock of `names` for the block; yields False (holding none) if they could
    not all be taken within `wait` seconds. Never waits holding part of them (each attempt
    takes all or releases what it took), so two holders of overlapping sets cannot
    deadlock."""
    wanted = sorted(set(names))
    deadline = time.monotonic() + max(wait, 0.0)
    held: list[_Held] = []
    while True:
        for name in wanted:
            got = _try(name)
            if got is None:
                break
            held.append(got)
        if len(held) == len(wanted):
            break
        for lock in reversed(held):
            lock.release()
        held = []
        if time.monotonic() >= deadline:
            yield False
            return
        time.sleep(POLL_SECONDS)
    try:
        yield True
    finally:
        for lock in reversed(held):
            lock.release()


def is_held(name: str) -> bool:
    """Is the lock `name` held by some process right now (this one included)? Read-only:
    on PostgreSQL it looks the lock up in pg_locks, on SQLite it tries the file lock and
    gives it back at once."""
    if connection.vendor == "postgresql":
        key = _pg_key(name) & 0xFFFFFFFFFFFFFFFF
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1)",
                [key >> 32, key & 0xFFFFFFFF],
            )
            return bool(cursor.fetchone()[0])
    path = _lock_path(name)
    with path.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
