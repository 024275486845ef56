"""The test harness's own way past the append-only triggers (the application's databases
have none since audit 0005): used to flush the database after transactional tests, and by
the tests that tamper with the audit log to prove `cchc audit verify` notices.

- PostgreSQL: ``SET session_replication_role = replica`` — ordinary triggers do not fire in
  this session. Only a superuser may set it; the test role `postgres` is one, the
  application's role must not be (`cchc.audit.guard.connected_as_superuser`).
- SQLite: there is no pragma that disables triggers, so the triggers are dropped and then
  recreated from the SQL the migrations stored in ``sqlite_master`` (the one source of the
  trigger SQL: whatever the migrations installed comes back verbatim).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def guards_lifted(connection: Any) -> Iterator[None]:
    """Within the block, `connection` may update, delete and truncate guarded tables."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for _, sql in triggers:
                cursor.execute(sql)
