"""One lock order for every write transaction on PostgreSQL: the audit chain's append lock
first, row locks after.

Appending to the hash chain takes a transaction-level advisory lock (`chain.head`), held
until commit. A transaction that took it and then waits for a row (a PAKN filed by a
dossier's applicant appends its own audited event, then the dossier's `complaint` event,
which locks the dossier row and the indicator cells) and another that holds that row and
waits to append its audit entry (an officer's action on the same dossier) would deadlock —
measured: two deadlocks in 186 concurrent operations before this module. So, on
PostgreSQL, the first statement of a transaction that can take a row lock (INSERT, UPDATE,
DELETE, MERGE, SELECT … FOR UPDATE/SHARE) is preceded by the append lock: it is always the
first lock taken, and no cycle through it can form. Write transactions are thereby
serialised from their first write to their commit, as SQLite's IMMEDIATE transactions
already are; reads never wait. Statements outside a transaction (autocommit) never append
to the audit log (`audit.log.record` refuses them) and are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cchc.audit.chain import ADVISORY_LOCK_KEY

_LOCKING = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(?:INSERT|UPDATE|DELETE|MERGE)\b|\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE)\b",
    re.IGNORECASE | re.DOTALL,
)
_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s)"


def append_lock_first(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """Execute wrapper: take the chain's append lock before a row-locking statement inside a
    transaction (re-entrant, so later statements only re-confirm it)."""
    connection = context["connection"]
    if connection.in_atomic_block and sql != _LOCK_SQL and _LOCKING.search(sql):
        context["cursor"].execute(_LOCK_SQL, [ADVISORY_LOCK_KEY])
    return execute(sql, params, many, context)


def install(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: wrap every PostgreSQL connection's statements."""
    if connection.vendor == "postgresql" and append_lock_first not in connection.execute_wrappers:
        connection.execute_wrappers.append(append_lock_first)
