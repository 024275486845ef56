"""`cchc import dossiers` and the web import: dossiers exported by another one-stop system.

Rows are read and validated by column (`cchc.interop.columnar`, with the readers of
`cchc.interop.dossier_reader`); new dossiers are built and written by column, changed ones
through `cchc.dossiers.imported.store` (events, projection, indicator cells); bad rows are
reported with their line and reason and change nothing. An initial load into an empty
database rebuilds the secondary indexes after it (`cchc.interop.indexes`). Lines that are
not dossiers (the title block, blank lines, the footer: totals, "Người lập biểu",
signatures) are counted as skipped (`cchc.tabular.tables.Skipped`), never refused, and kept
on the run. The file is streamed and written in batches, so a million-row export runs in
bounded memory; a row whose content did not change since the last import is left alone, a
changed one is updated — so importing a file again, after an interruption for instance,
finishes the work without duplicating any of it.

An import survives concurrency and interruption:

* Its record (`ImportRun`) is committed when it starts (state "running", file, SHA-256,
  source, who) and updated in the transaction of every batch, together with that batch's
  `dossier.import` audit entry (its lines, counts and the codes it created): whatever a
  killed import committed is counted and audited, and nothing else is.
* Two imports of the same file, or from the same source, take turns: each holds the locks
  of its file and its source (`cchc.tabular.locks`) while it runs; the second waits up to
  CCHC_IMPORT_LOCK_WAIT seconds, then is refused with `Conflict` (exit code 5) naming the
  import in progress. Refusing rather than waiting longer keeps a worker or a terminal from
  hanging behind an import that may take an hour; the refused import changed nothing and
  can simply be run again. Imports of different files from different sources run side by
  side; if they carry the same dossier code, the batch that loses the race is rolled back
  and retried, and its rows then meet the other import's dossiers as ordinary rows do.
* A large upload on the web runs on the worker (`queue_web_import` → `run_import`); its
  page shows the run's progress.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from cchc.accounts import policy
from cchc.audit import log
from cchc.dossiers import imported
from cchc.dossiers.imported import Facts
from cchc.errors import Conflict, DomainError, InvalidInput
from cchc.interop import columnar, columnar_store, indexes
from cchc.interop.dossier_reader import (
    COLUMNS,
    HEADERS,
    REQUIRED,
    Directory,
    Mapping,
    Reader,
    batches,
    load_mapping,
)
from cchc.interop.models import ImportRun, RunState
from cchc.interop.runs import file_lock, source_lock, state_of
from cchc.jobs.queue import enqueue
from cchc.tabular import locks
from cchc.tabular.registry import ImportReport, RowError
from cchc.tabular.runner import count_outcome
from cchc.tabular.tables import Row, open_source, read_rows
from cchc.vietnamese import nfc

__all__ = ["COLUMNS", "HEADERS", "DossierImporter", "Mapping", "load_mapping", "run_import"]

KIND = "dossiers"
BATCH = 5000  # rows per batch unless CCHC_IMPORT_BATCH_ROWS says otherwise
LOCK_WAIT = 10.0  # seconds an import waits for another of the same file or source
# A batch that lost a race for a dossier code to another import is retried this many times
# (each retry sees the other import's committed rows) before the import gives up.
ATTEMPTS = 3


def batch_rows() -> int:
    return max(int(getattr(settings, "CCHC_IMPORT_BATCH_ROWS", BATCH)), 1)


def lock_wait() -> float:
    return float(getattr(settings, "CCHC_IMPORT_LOCK_WAIT", LOCK_WAIT))


def source_label(source_name: str, mapping: Mapping | None) -> str:
    """The name the dossiers are marked with: given, else the mapping's, else a default."""
    label = (source_name or (mapping.source if mapping else "") or "").strip() or "Tệp nhập"
    return nfc(label)[:100]


def sha256_of(stream: IO[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: stream.read(1 << 20), b""):
        h.update(chunk)
    stream.seek(0)
    return h.hexdigest()


def _locks(label: str, digest: str) -> list[str]:
    return [file_lock(KIND, digest), source_lock(KIND, label)]


def busy(label: str, digest: str) -> bool:
    """Is an import of this file, or from this source, running right now?"""
    return any(locks.is_held(name) for name in _locks(label, digest))


def _busy_error(label: str, digest: str) -> Conflict:
    other = (
        ImportRun.objects.filter(kind=KIND, state=RunState.RUNNING)
        .filter(Q(sha256=digest) | Q(source=label))
        .order_by("-pk")
        .first()
    )
    who = ""
    if other is not None:
        who = (
            f" (lần nhập số {other.pk}, tệp {other.filename}, do {other.actor_label} bắt đầu "
            f"lúc {timezone.localtime(other.started_at):%H:%M %d/%m/%Y})"
        )
    return Conflict(
        f"Đang có một lần nhập khác cùng tệp này hoặc cùng nguồn «{label}»{who}. Hãy chờ lần "
        "nhập đó kết thúc rồi nhập lại; lần này chưa ghi gì.",
        code="import.busy",
    )


class DossierImporter:
    name = KIND
    title = "Hồ sơ TTHC từ hệ thống một cửa khác"
    permission = "dossier.import"
    columns = HEADERS

    def run(
        self,
        source: Any,
        *,
        actor: Any,
        now: dt.datetime,
        dry_run: bool = False,
        filename: str | None = None,
        mapping: Mapping | None = None,
        source_name: str = "",
        progress: Callable[[int], None] | None = None,
        sample: list[Facts] | None = None,
        run: ImportRun | None = None,
        batch_size: int | None = None,
        wait: float | None = None,
        reference: bool = False,
    ) -> ImportReport:
        """Import every good row of `source`; see the module docstring. `sample` (if given)
        receives the first parsed rows, for a preview. `run`: a queued run to carry out
        (the worker's); otherwise a run is recorded here. Raises Conflict if another
        import of the file or the source holds its locks for longer than `wait` seconds."""
        policy.require(actor, self.permission)
        reach = policy.grant(actor, self.permission)
        mapping = mapping or Mapping()
        name, stream = open_source(source, filename)
        try:
            digest = sha256_of(stream)
            label = source_label(source_name, mapping)
            job = _Job(actor, reach, mapping, now, label, digest, progress, sample)
            job.file_size = stream.seek(0, os.SEEK_END)
            stream.seek(0)
            job.size = batch_size or batch_rows()
            # The columnar path (`cchc.interop.columnar`) for every import; `reference`:
            # the row path, kept as the reference its property test compares it with.
            job.reference = reference
            rows = job.open(stream, name)  # a file that cannot be read is refused here
            if dry_run:
                return job.load(rows, None)
            wait = lock_wait() if wait is None else wait
            with locks.holding(_locks(label, digest), wait=wait) as got:
                if not got:
                    raise _busy_error(label, digest)
                run = _begin(run, job, name)
                if run is None:  # the queued run was carried out or cancelled already
                    return ImportReport()
                try:
                    return job.load(rows, run)
                except BaseException as exc:
                    _fail(run, job, exc)
                    raise
        finally:
            if isinstance(source, str | Path):
                stream.close()


class _Job:
    """One import of one file: its settings and what it has done so far."""

    def __init__(
        self,
        actor: Any,
        reach: Any,
        mapping: Mapping,
        now: dt.datetime,
        label: str,
        digest: str,
        progress: Callable[[int], None] | None,
        sample: list[Facts] | None,
    ) -> None:
        self.actor, self.reach, self.mapping, self.now = actor, reach, mapping, now
        self.label, self.digest = label, digest
        self.progress, self.sample = progress, sample
        self.size = BATCH
        self.reference = False
        self.file_size = 0
        self.deferred = False  # an initial load: indexes built after it (`indexes`)
        self.report = ImportReport()
        self.kept = 0  # refused rows already written to the run record

    def open(self, stream: IO[bytes], name: str) -> Iterator[Row]:
        """The file's data rows, its header already found (InvalidInput if it is not)."""
        required = [self.mapping.header(h) for h in REQUIRED]
        known = [self.mapping.header(h) for h in HEADERS]
        rows = read_rows(
            stream, required=required, filename=name, known=known, skipped=self.report.skipped
        )
        first = next(rows, None)
        return rows if first is None else itertools.chain([first], rows)

    def load(self, rows: Iterator[Row], run: ImportRun | None) -> ImportReport:
        """Decide (dry run: `run` None) or write every batch of `rows`, then close the run."""
        report = self.report
        report.dry_run = run is None
        reader = Reader(Directory(), self.mapping, self.now, self.reach)
        split = batches if self.reference else columnar.batches
        if run is not None:
            # An initial load killed earlier left its tables without their indexes.
            indexes.repair()
            if indexes.should_defer(self.file_size):
                self.deferred = indexes.drop().any
        try:
            self._batches(split(reader, rows, report, self.sample, self.size), run)
        finally:
            if self.deferred:
                indexes.repair()
        report.rejected.sort(key=lambda e: e.line)
        if run is not None:
            _finish(run, self)
            report.run_id = run.pk
        return report

    def _batches(self, batches: Iterator[Any], run: ImportRun | None) -> None:
        with _bulk_settings():
            for number, batch in enumerate(batches):
                if run is None:
                    with transaction.atomic():
                        outcomes = self._store(batch, run_id=None, dry_run=True)
                    self._count(batch, outcomes)
                else:
                    self._write(run, number + 1, batch)
                if self.progress is not None:
                    self.progress(self.rows)

    def _store(self, batch: Any, *, run_id: int | None, dry_run: bool = False) -> Any:
        store = imported.store if self.reference else columnar_store.store
        return store(
            batch, source=self.label, run_id=run_id, actor=self.actor, now=self.now,
            dry_run=dry_run,
        )  # fmt: skip

    @property
    def rows(self) -> int:
        r = self.report
        return r.created + r.updated + r.unchanged + len(r.rejected)

    def _count(self, batch: Any, outcomes: list[imported.Outcome]) -> dict[str, int]:
        tally = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        for o in outcomes:
            if o.outcome == "rejected":
                f = batch[o.index]
                self.report.rejected.append(RowError(f.line, o.reason, f.code))
                tally["rejected"] += 1
            else:
                count_outcome(self.report, o.outcome)
                tally[o.outcome if o.outcome in tally else "unchanged"] += 1
        return tally

    def _write(self, run: ImportRun, number: int, batch: Any) -> None:
        """Write one batch, its audit entry and the run's progress in one transaction. A
        batch that lost a race for a dossier code to another import (IntegrityError) rolls
        back whole and is decided again against what that import committed."""
        r = self.report
        for attempt in range(1, ATTEMPTS + 1):
            before = (r.created, r.updated, r.unchanged, len(r.rejected))
            try:
                with transaction.atomic(), connection.wrap_database_errors:
                    outcomes = self._store(batch, run_id=run.pk)
                    tally = self._count(batch, outcomes)
                    created = [batch[o.index].code for o in outcomes if o.outcome == "created"]
                    kept = _progress(run, self)
                    log.record(
                        "dossier.import",
                        actor=self.actor,
                        obj=run,
                        at=self.now,
                        data={
                            "run": run.pk,
                            "batch": number,
                            "lines": [batch[0].line, batch[-1].line],
                            **tally,
                            "codes": created,
                        },
                    )
            except IntegrityError:
                # Nothing of the batch committed: take back what `_count` added.
                r.created, r.updated, r.unchanged = before[:3]
                del r.rejected[before[3] :]
                if attempt == ATTEMPTS:
                    raise Conflict(
                        "Một lần nhập khác đang ghi cùng mã hồ sơ với tệp này; các lô đã ghi "
                        "được giữ nguyên. Hãy nhập lại tệp khi lần nhập kia kết thúc.",
                        code="import.race",
                    ) from None
            else:
                self.kept = kept
                return


def _progress(run: ImportRun, job: _Job) -> int:
    """Write the run's counts as of the batch being committed (in its transaction); returns
    how many refused rows the run record then keeps."""
    r = job.report
    fields: dict[str, Any] = {
        "rows": job.rows,
        "created": r.created,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "rejected": len(r.rejected),
        "skipped": r.skipped.total,
        "skipped_lines": r.skipped.as_dict(),
        "progress_at": timezone.now(),
    }
    kept = job.kept
    if len(r.rejected) > kept and kept < ImportRun.REJECTED_KEPT:
        fields["rejected_rows"] = [
            {"line": e.line, "reason": e.reason, "key": e.key}
            for e in sorted(r.rejected, key=lambda e: e.line)[: ImportRun.REJECTED_KEPT]
        ]
        kept = len(fields["rejected_rows"])
    ImportRun.objects.filter(pk=run.pk).update(**fields)
    return kept


def _where() -> dict[str, Any]:
    return {"host": socket.gethostname()[:100], "pid": os.getpid()}


def _begin(run: ImportRun | None, job: _Job, name: str) -> ImportRun | None:
    """Record the run as started (committed at once), holding the file's and the source's
    locks. Runs of this file or source still marked running are dead (a live one would
    hold one of those locks): they are recorded as interrupted. A queued run that is no
    longer queued (a job delivered twice) gives None."""
    actor = job.actor
    with transaction.atomic():
        for stale in (
            ImportRun.objects.select_for_update()
            .filter(kind=KIND, state=RunState.RUNNING)
            .filter(Q(sha256=job.digest) | Q(source=job.label))
        ):
            _end(stale, RunState.INTERRUPTED, actor, job.now, "Tiến trình nhập đã dừng giữa chừng.")
        now = timezone.now()
        fields = {
            "state": RunState.RUNNING,
            "source": job.label,
            "sha256": job.digest,
            "progress_at": now,
            **_where(),
        }
        if run is not None:
            updated = ImportRun.objects.filter(pk=run.pk, state=RunState.QUEUED).update(
                started_at=job.now, **fields
            )
            if not updated:
                return None
            run.refresh_from_db()
        else:
            run = ImportRun.objects.create(
                kind=KIND,
                filename=Path(name).name[:255],
                actor=actor if getattr(actor, "pk", None) is not None else None,
                actor_label=getattr(actor, "username", "") or "hệ thống",
                started_at=job.now,
                scope=None if job.reach.everything else sorted(job.reach.agency_ids),
                **fields,
            )
        log.record(
            "dossier.import_started",
            actor=actor,
            obj=run,
            at=job.now,
            data={"source": job.label, "file": run.filename, "sha256": job.digest},
        )
    return run


def _finish(run: ImportRun, job: _Job) -> None:
    r = job.report
    with transaction.atomic():
        ImportRun.objects.filter(pk=run.pk).update(
            state=RunState.OK,
            finished_at=job.now,
            progress_at=timezone.now(),
            rows=job.rows,
            created=r.created,
            updated=r.updated,
            unchanged=r.unchanged,
            rejected=len(r.rejected),
            rejected_rows=r.as_dict()["rejected"][: ImportRun.REJECTED_KEPT],
            skipped=r.skipped.total,
            skipped_lines=r.skipped.as_dict(),
            message=indexes.NOTE if job.deferred else "",
        )
        log.record(
            "dossier.import_finished",
            actor=job.actor,
            obj=run,
            at=job.now,
            data={
                "source": job.label,
                "file": run.filename,
                "sha256": job.digest,
                "rows": job.rows,
                "created": r.created,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "rejected": len(r.rejected),
                "skipped": r.skipped.total,
                "indexes_rebuilt": job.deferred,
            },
        )
    run.refresh_from_db()
    _forget_upload(run)


def _fail(run: ImportRun, job: _Job, exc: BaseException) -> None:
    """Record how the run ended early: refused (a DomainError, with its message), stopped
    (Ctrl-C) or failed. Best effort: if the database itself is what failed, the run stays
    "running" and is shown as interrupted once this process has gone."""
    if isinstance(exc, DomainError):
        state, message = RunState.FAILED, exc.message
    elif isinstance(exc, KeyboardInterrupt | SystemExit):
        state, message = RunState.INTERRUPTED, "Lần nhập bị dừng giữa chừng."
    else:
        state, message = RunState.FAILED, f"Lỗi hệ thống khi nhập ({type(exc).__name__})."
    try:
        with transaction.atomic():
            _end(run, state, job.actor, job.now, message)
    except Exception:  # the original error is what the caller reports
        return
    if state == RunState.FAILED:
        run.refresh_from_db()
        _forget_upload(run)


def _end(run: ImportRun, state: str, actor: Any, now: dt.datetime, message: str) -> None:
    """Close `run` as `state` (inside the caller's transaction), audited."""
    ImportRun.objects.filter(pk=run.pk).update(
        state=state, finished_at=now, message=message, progress_at=timezone.now()
    )
    log.record(
        f"dossier.import_{state}",
        actor=actor,
        obj=run,
        at=now,
        data={"run": run.pk, "rows": run.rows, "message": message},
    )


# -- web imports on the worker -------------------------------------------------------------------


def upload_dir() -> Path:
    path = Path(settings.CCHC_VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _forget_upload(run: ImportRun) -> None:
    """Remove a finished run's stored upload (a run that was interrupted keeps it, so that
    it can be resumed)."""
    if not run.upload:
        return
    for key in ("file", "mapping"):
        if run.upload.get(key):
            (upload_dir() / run.upload[key]).unlink(missing_ok=True)
    ImportRun.objects.filter(pk=run.pk).update(upload={})


def queue_web_import(
    actor: Any, upload: dict[str, Any], *, total: int | None, now: dt.datetime
) -> ImportRun:
    """Record a web upload's import as queued and hand it to the worker (after commit).
    `upload`: the stored files ({"file", "mapping", "name", "source"} under `upload_dir`).
    Refused at once (Conflict) if an import of the same file or source is running."""
    policy.require(actor, DossierImporter.permission)
    reach = policy.grant(actor, DossierImporter.permission)
    mapping = load_mapping(upload_dir() / upload["mapping"]) if upload.get("mapping") else None
    label = source_label(upload.get("source", ""), mapping)
    try:
        with (upload_dir() / upload["file"]).open("rb") as stream:
            digest = sha256_of(stream)
    except OSError:
        raise InvalidInput("Tệp tải lên không còn; hãy chọn lại tệp.") from None
    if busy(label, digest):
        raise _busy_error(label, digest)
    return _queue(actor, reach, upload, label=label, digest=digest, total=total, now=now)


def _queue(
    actor: Any,
    reach: Any,
    upload: dict[str, Any],
    *,
    label: str,
    digest: str,
    total: int | None,
    now: dt.datetime,
    resumes: int | None = None,
) -> ImportRun:
    with transaction.atomic():
        run = ImportRun.objects.create(
            kind=KIND,
            source=label,
            filename=Path(upload.get("name", "")).name[:255],
            sha256=digest,
            actor=actor if getattr(actor, "pk", None) is not None else None,
            actor_label=getattr(actor, "username", "") or "hệ thống",
            started_at=now,
            progress_at=now,
            scope=None if reach.everything else sorted(reach.agency_ids),
            state=RunState.QUEUED,
            total=total,
            upload={k: upload[k] for k in ("file", "mapping", "name", "source") if upload.get(k)},
        )
        log.record(
            "dossier.import_queued",
            actor=actor,
            obj=run,
            at=now,
            data={"source": label, "file": run.filename, "sha256": digest, "resumes": resumes},
        )
        enqueue("cchc.interop.dossiers.run_import", run.pk, name=f"import-{run.pk}")
    return run


def resume(actor: Any, run: ImportRun, *, now: dt.datetime) -> ImportRun:
    """Queue again the import of an interrupted web run (its stored upload moves to the new
    run); rows the interrupted run committed are found unchanged and left alone."""
    policy.require(actor, DossierImporter.permission)
    if state_of(run) != RunState.INTERRUPTED or not run.upload:
        raise Conflict("Chỉ tiếp tục được lần nhập bị gián đoạn còn giữ tệp tải lên.")
    upload = dict(run.upload)
    with transaction.atomic():
        if run.state == RunState.RUNNING:
            _end(run, RunState.INTERRUPTED, actor, now, "Tiến trình nhập đã dừng giữa chừng.")
        ImportRun.objects.filter(pk=run.pk).update(upload={})
        reach = policy.grant(actor, DossierImporter.permission)
        return _queue(
            actor, reach, upload, label=run.source, digest=run.sha256, total=run.total,
            now=now, resumes=run.pk,
        )  # fmt: skip


def run_import(run_id: int) -> dict[str, int]:
    """The worker's job: carry out the queued web import `run_id`. Returns its counts (the
    job's record); a refusal or a bad file ends the run as failed, with its message."""
    run = ImportRun.objects.filter(pk=run_id, kind=KIND).first()
    if run is None:
        return {"skipped": 1}
    actor: Any = run.actor if run.actor is not None else policy.SYSTEM
    if run.state == RunState.RUNNING and state_of(run) == RunState.INTERRUPTED and run.upload:
        # The queue hands a job out again when the worker that had it died: carry on, as a
        # new run on the same upload (what the run page's "Tiếp tục nhập" does).
        try:
            resume(actor, run, now=timezone.now())
        except DomainError:
            return {"failed": 1}
        return {"resumed": 1}
    if run.state != RunState.QUEUED:
        return {"skipped": 1}
    now = timezone.now()
    try:
        mapping = None
        if run.upload.get("mapping"):
            mapping = load_mapping(upload_dir() / run.upload["mapping"])
        report = DossierImporter().run(
            str(upload_dir() / run.upload.get("file", "-")),
            actor=actor,
            now=now,
            filename=run.upload.get("name") or run.filename,
            mapping=mapping,
            source_name=run.upload.get("source", ""),
            run=run,
        )
    except DomainError as exc:
        run.refresh_from_db()
        if run.state in (RunState.QUEUED, RunState.RUNNING):
            # Refused before it started (busy, bad file, no permission any more).
            with transaction.atomic():
                _end(run, RunState.FAILED, actor, now, exc.message)
            run.refresh_from_db()
            _forget_upload(run)
        return {"failed": 1}
    return {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": len(report.rejected),
        "lines_skipped": report.skipped.total,
    }


@contextmanager
def _bulk_settings() -> Iterator[None]:
    """SQLite settings for a large import, put back afterwards. SQLite keeps 2 MB of pages
    per connection by default: too few for the indexes of a large import, which then
    re-read pages from disk at every row; 256 MB while importing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size = -262144")
        # Each batch commits; copying the write-ahead log back into the database after
        # every batch rewrites the same index pages again and again. Let the log grow to
        # about 400 MB between copies instead of the default 4 MB.
        cursor.execute("PRAGMA wal_autocheckpoint")
        checkpoint = cursor.fetchone()[0]
        cursor.execute("PRAGMA wal_autocheckpoint = 100000")
    # Foreign keys: every id the import writes was just read from its table (procedures,
    # desks, agencies, never deleted) or written by it (dossiers, events), so SQLite's
    # per-row checks add nothing but time. They cannot be switched inside a transaction
    # (under a test's transaction they simply stay on).
    unchecked = not connection.in_atomic_block and connection.disable_constraint_checking()
    try:
        yield
    finally:
        if unchecked:
            connection.enable_constraint_checking()
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")
