"""Who may see a record of a past import (`ImportRun`).

A run shows the file an importer uploaded: dossier codes and, in its refused rows, values of
rows outside the importer's reach too. So a viewer sees a run only when the viewer's own
`dossier.import` grant covers every agency the importer's grant covered when the run
started (`ImportRun.scope`): a provincial supervisor sees the runs of the province's
supervisors and of a city's, a city's supervisor not the province's. A run of the whole
system (scope None: an administrator, a command-line import) is seen by those whose grant
is the whole system.

A run's state as recorded can be stale: a process killed mid-way leaves its run "running".
`state_of` tells the truth: a running import holds the lock of its file (`file_lock`) for as
long as it lives (`cchc.tabular.locks`: released by the database or the kernel when the
process dies), so a "running" run whose file lock nobody holds was interrupted.
"""

from __future__ import annotations

from typing import Any

from cchc.accounts import policy
from cchc.errors import NotFound
from cchc.interop.models import ImportRun, RunState
from cchc.tabular import locks

PERMISSION = "dossier.import"


def file_lock(kind: str, sha256: str) -> str:
    """The lock an import of the file with this SHA-256 holds while it runs."""
    return f"import:{kind}:file:{sha256}"


def source_lock(kind: str, source: str) -> str:
    """The lock an import from this source holds while it runs (two files from one source
    carry the same dossiers: they take turns)."""
    return f"import:{kind}:source:{source}"


def state_of(run: ImportRun) -> str:
    """The run's state as it really is: "running" only while its process lives."""
    if run.state == RunState.RUNNING and not locks.is_held(file_lock(run.kind, run.sha256)):
        return RunState.INTERRUPTED
    return run.state


def _covers(reach: policy.Grant, scope: list[int] | None) -> bool:
    if reach.everything:
        return True
    return scope is not None and reach.agency_ids.issuperset(scope)


def may_see(user: Any, run: ImportRun) -> bool:
    return _covers(policy.grant(user, PERMISSION), run.scope)


def visible_runs(user: Any, *, kind: str, limit: int = 20) -> list[ImportRun]:
    """The latest `limit` runs of `kind` that `user` may see, newest first (without their
    refused rows, which a list does not show)."""
    reach = policy.grant(user, PERMISSION)
    if reach.empty:
        return []
    qs = ImportRun.objects.filter(kind=kind).defer("rejected_rows")
    if reach.everything:
        return list(qs[:limit])
    out: list[ImportRun] = []
    for run in qs.iterator(chunk_size=200):
        if _covers(reach, run.scope):
            out.append(run)
            if len(out) >= limit:
                break
    return out


def get_visible_run(user: Any, pk: int, *, kind: str) -> ImportRun:
    """The run `pk` of `kind` if `user` may see it; NotFound otherwise (a run outside the
    viewer's scope is not confirmed to exist)."""
    run = ImportRun.objects.filter(pk=pk, kind=kind).first()
    if run is None or not may_see(user, run):
        raise NotFound("Không tìm thấy lần nhập dữ liệu này trong phạm vi bạn được xem.")
    return run
