"""The readiness checks behind `/readyz`: can this instance do its work right now?

Each check answers {"ok": bool, …} with figures an operator can act on and nothing personal
(no host names, no exception messages: a database error may quote a connection string or
row values; the log gets its class and first line, with the request id). Nothing is cached:
a probe must see the state of the moment. Queries: SELECT 1, two for the migrations
(table check, applied rows), one for the heartbeats — four whatever the data.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from cchc.jobs.health import freshness
from cchc.webkit.logs import brief

log = logging.getLogger(__name__)

Check = dict[str, Any]


def _timed(name: str, probe: Callable[[], Check]) -> Check:
    """Run `probe`, adding its duration; an exception is a failed check, logged by class."""
    started = time.perf_counter()
    try:
        result = probe()
    except Exception as exc:  # a probe reports every failure, it never raises
        # One line per failed probe (they come every few seconds); the traceback at DEBUG.
        log.warning("readiness check %s failed: %s", name, brief(exc))
        log.debug("readiness check %s failed", name, exc_info=True)
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def database() -> Check:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connections[DEFAULT_DB_ALIAS].vendor}


def migrations() -> Check:
    """Every migration the code has is applied (the plan to the leaf nodes is empty)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"ok": not plan, "pending": len(plan)}


def heartbeats() -> dict[str, Check]:
    """The worker's heartbeat and the scheduler's tick (`cchc.jobs.health`)."""
    return {
        name: {"ok": bool(state["fresh"]), "age_seconds": state["age_seconds"]}
        for name, state in freshness().items()
    }


def storage() -> Check:
    """MEDIA_ROOT accepts a new file: created, written, flushed to disk and removed."""
    root = Path(settings.MEDIA_ROOT)
    root.mkdir(parents=True, exist_ok=True)  # what the file storage does on a first upload
    with tempfile.NamedTemporaryFile(dir=root, prefix=".readyz-", suffix=".tmp") as handle:
        handle.write(b"ok")
        handle.flush()
        os.fsync(handle.fileno())
    return {"ok": True}


def readiness() -> tuple[bool, dict[str, Check]]:
    """(ready, checks). With the database down the checks that need it are not attempted."""
    checks: dict[str, Check] = {"database": _timed("database", database)}
    if checks["database"]["ok"]:
        checks["migrations"] = _timed("migrations", migrations)
        beats = _timed("heartbeats", lambda: {"ok": True, "each": heartbeats()})
        if "each" in beats:
            for name, state in beats["each"].items():
                checks[name] = {**state, "ms": beats["ms"]}
        else:
            checks["worker"], checks["scheduler"] = dict(beats), dict(beats)
    else:
        for name in ("migrations", "worker", "scheduler"):
            checks[name] = {"ok": False, "skipped": "database"}
    checks["storage"] = _timed("storage", storage)
    return all(c["ok"] for c in checks.values()), checks
