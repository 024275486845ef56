"""Imports that survive concurrency and interruption (issue 16): real `cchc import`
processes on one database — two at once on the same file, one killed with SIGKILL half-way
— then what is left: one copy of each dossier, a run record whose counts are what was
committed, an audit entry for every committed dossier, and a second run that finishes.

The processes share the test's database: on PostgreSQL the test database itself; on SQLite
(whose test database lives in memory) a file copy of it, copied back after the processes
have run, so that the checks read what they wrote through the ORM."""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from cchc.accounts.policy import SYSTEM
from cchc.audit import chain
from cchc.audit.models import AuditEntry
from cchc.dossiers.models import Dossier
from cchc.interop.models import ImportRun, RunState
from cchc.interop.runs import file_lock, state_of
from cchc.tabular import locks

from .test_import_dossiers import MESSY, NOW

POSTGRES = connection.vendor == "postgresql"
CCHC = Path(sys.executable).with_name("cchc")
BUSY = "Đang có một lần nhập khác cùng tệp này"


def _a_good_row() -> tuple[list[str], list[str]]:
    rows = list(csv.reader(MESSY.open(encoding="utf-8-sig")))
    header = next(i for i, r in enumerate(rows) if r[:1] == ["Mã hồ sơ"])
    return rows[header], next(r for r in rows if r[:1] == ["BG-2404-001"])


def export(path: Path, n: int, prefix: str = "CC") -> Path:
    """A clean export of `n` dossiers (codes PREFIX-000001…), all alike but for the code."""
    header, row = _a_good_row()
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(header)
        for i in range(1, n + 1):
            out.writerow([f"{prefix}-{i:06d}", *row[1:]])
    return path


class Shared:
    """The test database as other processes reach it (see the module docstring)."""

    def __init__(self, tmp_path: Path) -> None:
        self.var = tmp_path / "var"
        self.var.mkdir()
        s = connection.settings_dict
        if POSTGRES:
            password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
            self.url = (
                f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:"
                f"{s['PORT'] or 5432}/{s['NAME']}"
            )
            self.file = None
        else:
            self.file = tmp_path / "shared.sqlite3"
            self.url = f"sqlite:///{self.file}"

    def push(self) -> None:
        """Make what the test wrote visible to the processes."""
        if self.file is not None:
            connection.ensure_connection()
            target = sqlite3.connect(self.file)
            connection.connection.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
            target.close()

    def pull(self) -> None:
        """Make what the processes wrote visible to the test."""
        if self.file is not None:
            source = sqlite3.connect(self.file)
            source.backup(connection.connection)
            source.close()

    def env(self) -> dict[str, str]:
        return {
            "DEBUG": "true",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": self.url,
            "CCHC_VAR_DIR": str(self.var),
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [str(CCHC), "import", "dossiers", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env(),
        )

    def rows_done(self) -> int:
        """The progress the running import has committed (read as another process would)."""
        if self.file is None:
            run = ImportRun.objects.order_by("-pk").first()
            return run.rows if run else 0
        db = sqlite3.connect(self.file, timeout=20)
        try:
            found = db.execute("SELECT max(rows) FROM interop_importrun").fetchone()[0]
        finally:
            db.close()
        return int(found or 0)


@pytest.fixture
def shared(transactional_db: Any, tmp_path: Path, settings: Any) -> Iterator[Shared]:
    from cchc.catalog.importers import ProcedureImporter
    from cchc.demo.loader import DATA_DIR
    from cchc.org.structure import load_structure

    load_structure(SYSTEM, DATA_DIR / "org.json", now=NOW, demo=True)
    ProcedureImporter().run(str(DATA_DIR / "procedures.csv"), actor=SYSTEM, now=NOW)
    db = Shared(tmp_path)
    settings.CCHC_VAR_DIR = db.var  # the SQLite file locks live there, for every process
    db.push()
    yield db


def finish(process: subprocess.Popen, timeout: float = 240) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def codes_audited(run: ImportRun) -> list[str]:
    """The dossier codes the `dossier.import` entries of `run` say were created."""
    out: list[str] = []
    for data in AuditEntry.objects.filter(
        action="dossier.import", object_type="interop.importrun", object_id=str(run.pk)
    ).values_list("data", flat=True):
        out.extend(data["codes"])
    return out


def test_two_imports_of_one_file_at_once(shared: Shared, tmp_path: Path):
    """Both start together: one imports; the other waits its turn (then finds every row
    already there) or, after its wait, is refused with exit code 5 and the message. Never a
    traceback, never a duplicate."""
    path = export(tmp_path / "xuat.csv", 1500)
    first = shared.start(str(path), "--source", "iGate", "--batch-rows", "25", "--wait", "1")
    second = shared.start(str(path), "--source", "iGate", "--batch-rows", "25", "--wait", "1")
    results = [finish(first), finish(second)]
    shared.pull()
    for code, _, err in results:
        assert "Traceback" not in err, err
        assert code in (0, 5), err
    assert Dossier.objects.count() == 1500
    assert Dossier.objects.values("code").distinct().count() == 1500
    runs = list(ImportRun.objects.order_by("pk"))
    assert runs[0].state == RunState.OK and runs[0].created == 1500 and runs[0].rows == 1500
    refused = [err for code, _, err in results if code == 5]
    if refused:  # the loser waited 1 s, then gave up; it wrote nothing, not even a run
        assert len(refused) == 1 and BUSY in refused[0]
        assert len(refused[0].strip().splitlines()) == 1  # one line
        assert len(runs) == 1
    else:  # the loser came second and found everything there
        assert [(r.state, r.created, r.unchanged) for r in runs[1:]] == [(RunState.OK, 0, 1500)]
    assert sorted(codes_audited(runs[0])) == sorted(Dossier.objects.values_list("code", flat=True))
    assert chain.verify().clean


def test_an_import_waits_for_the_lock_then_is_refused_or_goes(shared: Shared, tmp_path: Path):
    """The lock held (here by the test itself, as a running import holds it): a second
    import waits `--wait` seconds and is refused with exit code 5; once the lock is free,
    an import that is waiting goes ahead."""
    path = export(tmp_path / "xuat.csv", 20)
    digest = _sha256(path)
    with locks.holding([file_lock("dossiers", digest)], wait=0) as got:
        assert got
        started = time.monotonic()
        code, out, err = finish(shared.start(str(path), "--wait", "1"))
        assert code == 5 and BUSY in err and "Traceback" not in err
        assert time.monotonic() - started >= 1
        waiting = shared.start(str(path), "--wait", "60")
        time.sleep(2)
        assert waiting.poll() is None  # still waiting for the lock
    code, out, err = finish(waiting)
    shared.pull()
    assert code == 0, err
    assert "Thêm mới: 20" in out
    assert Dossier.objects.count() == 20


def test_an_import_killed_half_way_leaves_what_it_committed_counted_and_audited(
    shared: Shared, tmp_path: Path
):
    path = export(tmp_path / "xuat.csv", 3000)
    process = shared.start(str(path), "--batch-rows", "20")
    deadline = time.monotonic() + 120
    while shared.rows_done() < 200:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    shared.pull()

    run = ImportRun.objects.get()
    done = Dossier.objects.count()
    assert 200 <= done < 3000
    assert done % 20 == 0  # whole batches only
    # The record says what was committed: no more, no less.
    assert run.state == RunState.RUNNING  # as the killed process left it…
    assert (run.rows, run.created, run.rejected) == (done, done, 0)
    deadline = time.monotonic() + 30  # …and the server notices the lost connection
    while state_of(run) != RunState.INTERRUPTED:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    # Every committed dossier has its `dossier.import` entry, in its batch's transaction.
    assert sorted(codes_audited(run)) == sorted(Dossier.objects.values_list("code", flat=True))
    assert chain.verify().clean

    # Importing the file again finishes the work: the dead run is recorded as interrupted,
    # the committed rows are left alone.
    code, out, err = finish(shared.start(str(path), "--batch-rows", "500"))
    shared.pull()
    assert code == 0, err
    assert f"Thêm mới: {3000 - done} · Cập nhật: 0 · Không đổi: {done}" in out
    assert Dossier.objects.count() == 3000
    old, new = ImportRun.objects.order_by("pk")
    assert old.state == RunState.INTERRUPTED and old.finished_at is not None
    assert new.state == RunState.OK and new.rows == 3000
    assert AuditEntry.objects.filter(action="dossier.import_interrupted").count() == 1
    assert len(codes_audited(old)) + len(codes_audited(new)) == 3000
    assert chain.verify().clean


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (concurrent writers)")
def test_two_sources_with_the_same_codes_at_once(shared: Shared, tmp_path: Path):
    """Two files from two systems carrying the same dossier codes, imported at once (they do
    not share a lock): each code lands once; the import that comes second refuses those rows
    by name — whichever batch lost the race was rolled back and decided again."""
    a = export(tmp_path / "a.csv", 1000)
    b = tmp_path / "b.csv"
    b.write_text(a.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # another file
    first = shared.start(str(a), "--source", "A", "--batch-rows", "50")
    second = shared.start(str(b), "--source", "B", "--batch-rows", "50")
    results = [finish(first), finish(second)]
    for code, _, err in results:
        assert "Traceback" not in err, err
        assert code in (0, 1, 5), err
    assert Dossier.objects.count() == 1000
    assert sum(ImportRun.objects.values_list("created", flat=True)) == 1000


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (a writer blocked on another's row)")
def test_a_batch_that_loses_a_race_for_a_code_is_decided_again(shared: Shared, tmp_path: Path):
    """Another system's import has written dossier CC-000003 but not committed yet; this
    import's batch inserts the same code, waits on it, and fails with a unique violation
    when the other commits. The batch rolls back whole, is decided again and refuses that
    row by name; the rest of the batch lands, counted and audited, with no traceback."""
    import threading

    from django.db import connections, transaction

    from cchc.accounts import policy
    from cchc.dossiers import imported
    from cchc.interop.dossier_reader import HEADERS, REQUIRED, Directory, Mapping, Reader
    from cchc.interop.dossiers import DossierImporter
    from cchc.tabular.tables import read_rows

    path = export(tmp_path / "xuat.csv", 5)
    other = export(tmp_path / "other.csv", 3)
    written, errors = threading.Event(), []

    def other_system() -> None:
        try:
            reader = Reader(Directory(), Mapping(), NOW, policy.grant(SYSTEM, "dossier.import"))
            rows = read_rows(str(other), required=REQUIRED, known=HEADERS)
            facts = [reader.parse(r) for r in rows][2:]  # CC-000003 only
            with transaction.atomic():
                imported.store(facts, source="Hệ thống khác", run_id=None, actor=SYSTEM, now=NOW)
                written.set()
                time.sleep(3)  # this import meanwhile reaches the same code and waits
        except BaseException as exc:  # reported below
            errors.append(exc)
            written.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_system)
    thread.start()
    assert written.wait(30)
    started = time.monotonic()
    report = DossierImporter().run(str(path), actor=SYSTEM, now=NOW, source_name="iGate")
    thread.join(30)
    assert errors == []
    assert time.monotonic() - started >= 1  # it did wait on the other's uncommitted row
    assert (report.created, len(report.rejected)) == (4, 1)
    assert report.rejected[0].reason == "mã hồ sơ CC-000003 đã được nhập từ nguồn «Hệ thống khác»"
    assert Dossier.objects.count() == 5
    run = ImportRun.objects.get()
    assert (run.state, run.rows, run.created, run.rejected) == (RunState.OK, 5, 4, 1)
    assert sorted(codes_audited(run)) == ["CC-000001", "CC-000002", "CC-000004", "CC-000005"]
