"""Killing the worker mid-delivery loses and duplicates nothing (issue 20), with real
processes on a scratch database of the leg's backend: the demo's dossiers write their sync
records through the services; `cchc dvcqg send` delivers them to the in-process simulator,
which does the first call's work and commits it, then takes its time to answer
(`slow_answer_seconds`) — and the sender is killed with SIGKILL right then. The record is
left "sending", the portal has the dossier, our side never recorded it. After the lease the
next run takes the record back, sends it again with the same key, and the portal keeps one
national dossier; every other record is delivered once, in order."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

from tests.processes import run, scratch_database, start, wait_until


class Database:
    """Plain reads of the scratch database from the test process (what the processes
    committed, nothing cached)."""

    def __init__(self, url: str) -> None:
        if url.startswith("postgres"):
            import psycopg

            self.conn: Any = psycopg.connect(url, autocommit=True)
        else:
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)

    def value(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        if not isinstance(self.conn, sqlite3.Connection):
            sql = sql.replace("?", "%s")
        return self.conn.execute(sql, params).fetchone()[0]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql).fetchall())

    def close(self) -> None:
        self.conn.close()


SHELL_FAULTS = (
    "from cchc.nationalsim import faults; faults.reset(); faults.set(slow_answer_seconds={s})"
)
# The lease's time passes: the claim is moved back rather than waiting ten minutes.
SHELL_LEASE = (
    "import datetime as dt; from django.db.models import F; "
    "from cchc.national.models import SyncRecord; "
    "print(SyncRecord.objects.filter(state='sending')"
    ".update(claimed_at=F('claimed_at') - dt.timedelta(hours=1)))"
)


def test_a_worker_killed_mid_delivery_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    with scratch_database(tmp_path) as env:
        run(env, "demo", timeout=900)
        db = Database(env["DATABASE_URL"])
        try:
            total = db.value("SELECT COUNT(*) FROM national_syncrecord")
            dossiers = db.value("SELECT COUNT(DISTINCT dossier_id) FROM national_syncrecord")
            assert total > 50 and dossiers > 10, "the demo's dossiers write sync records"
            run(env, "shell", "-c", SHELL_FAULTS.format(s=60))

            sender = start(env, "dvcqg", "send", "--json", log=tmp_path / "send.log")
            # The portal did the first call's work and committed it; the answer is pending.
            wait_until(
                lambda: db.value("SELECT COUNT(*) FROM nationalsim_simdossier") >= 1,
                timeout=120,
            )
            sender.send_signal(signal.SIGKILL)
            sender.wait(30)
            assert db.value("SELECT COUNT(*) FROM national_syncrecord WHERE state = 'sent'") == 0
            [(key, attempts)] = db.rows(
                "SELECT key, attempts FROM national_syncrecord WHERE state = 'sending'"
            )
            assert attempts == 1

            # Another worker meanwhile sends every other dossier, and leaves the claimed one
            # alone while its lease runs (its later records wait behind it, in order).
            run(env, "shell", "-c", SHELL_FAULTS.format(s=0))
            held = db.value(
                "SELECT COUNT(*) FROM national_syncrecord WHERE dossier_id = "
                "(SELECT dossier_id FROM national_syncrecord WHERE state = 'sending')"
            )
            others = json.loads(run(env, "dvcqg", "send", "--json", timeout=600).stdout)
            assert others["sent"] == total - held and others["reclaimed"] == 0
            waiting = json.loads(run(env, "dvcqg", "status", "--json").stdout)
            assert waiting["sending"] == 1 and waiting["sent"] == total - held

            run(env, "shell", "-c", SHELL_LEASE)
            sent = json.loads(run(env, "dvcqg", "send", "--json", timeout=600).stdout)
            assert sent["reclaimed"] == 1 and sent["sent"] == held and sent["dead"] == 0
            status = json.loads(run(env, "dvcqg", "status", "--json").stdout)
            assert status["sent"] == total and status["pending"] == status["retry"] == 0
            assert status["sending"] == status["dead"] == 0

            # Nothing twice at the portal: the repeated call was answered from its key.
            assert db.value("SELECT COUNT(*) FROM nationalsim_simdossier") == dossiers
            steps = db.value(
                "SELECT COUNT(*) FROM national_syncrecord WHERE service = 'CapNhatTienDoHoSoMC'"
            )
            assert db.value("SELECT COUNT(*) FROM nationalsim_simstep") == steps
            assert db.value("SELECT COUNT(*) FROM nationalsim_simstep WHERE out_of_order") == 0
            # The killed call was done but never answered; its repeat (same key, same body)
            # updated that national dossier instead of creating a second one.
            code = key.split(":")[0]
            assert db.value(
                "SELECT updates FROM nationalsim_simdossier WHERE ma_ho_so = ?", (code,)
            )
            assert (
                db.value(
                    "SELECT COUNT(*) FROM nationalsim_simcall WHERE idempotency_key = ?", (key,)
                )
                == 1
            )
        finally:
            db.close()
