"""The stored projection of a batch of generated dossiers, computed with the vectorised
legal-time path (`cchc.legaltime.bulk_*`) so that `replay.project` over their events gives
the same values: finish and return instants, outcomes, the current step's due, the risk
flag (`dossiers.risk`), and every instant as the text the database stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cchc import legaltime
from cchc.demo.generator.epochs import I64, shift, stamps
from cchc.demo.generator.lifecycles import LIFECYCLES, Lifecycle
from cchc.demo.generator.plan import Plan
from cchc.demo.generator.procedures import Proc
from cchc.dossiers import replay
from cchc.legaltime import NO_INSTANT, bulk_elapsed, bulk_start

OUTCOMES = np.array(["early", "on_time", "overdue"], dtype=object)


@dataclass
class BatchProjection:
    """Per dossier of a batch (lists, index = position in the batch)."""

    cycles: list[Lifecycle]
    event_stamps: list[list[str | None]]  # the lifecycle's instants, by position
    received: list[bool]  # received at the desk (not only submitted)
    steps: list[int]  # current step index
    outcome: list[str]
    outcome_original: list[str]
    paused: list[int]
    risk: list[bool]
    stamps: dict[str, list[str | None]]
    overdue_open: int
    at_risk: int


def _finish_instants(times: I64, cycle_codes: npt.NDArray[Any]) -> tuple[I64, I64]:
    """When each dossier finished and when its result was returned (NO_INSTANT: not yet)."""
    k = times.shape[0]
    finished_at = np.full(k, NO_INSTANT, dtype=np.int64)
    returned_at = np.full(k, NO_INSTANT, dtype=np.int64)
    for code in np.unique(cycle_codes).tolist():
        cycle = LIFECYCLES[code]
        mask = cycle_codes == code
        if cycle.actions and cycle.actions[0] == "receive":
            finishing = [p for p, a in enumerate(cycle.actions, 1) if a in replay.FINISHING]
            if finishing:
                finished_at[mask] = times[mask, finishing[0]]
        if "return_result" in cycle.actions:
            returned_at[mask] = times[mask, cycle.actions.index("return_result") + 1]
    return finished_at, returned_at


def _outcomes(
    cal: legaltime.Calendar, due: I64, original: I64, paused: I64, finished_at: I64
) -> tuple[list[str], list[str]]:
    """Outcome against the due, and against the original due moved by the pauses."""
    k = due.size
    outcome = np.full(k, "", dtype=object)
    outcome_original = np.full(k, "", dtype=object)
    done = np.flatnonzero(finished_at != NO_INSTANT)
    if done.size:
        outcome[done] = OUTCOMES[legaltime.bulk_classify(due[done], finished_at[done], 0)]
        base = shift(cal, original[done], paused[done])
        outcome_original[done] = OUTCOMES[legaltime.bulk_classify(base, finished_at[done], 0)]
    return outcome.tolist(), outcome_original.tolist()


def _step_dues(
    cal: legaltime.Calendar,
    rows: list[int],
    targets: list[int],
    received: I64,
    pause: tuple[I64, I64, I64],
    k: int,
) -> I64:
    """The current step's due of open received dossiers `rows` (as `replay.project`):
    `targets` working seconds after receipt, moved by a closed pause that began before."""
    step_due = np.full(k, NO_INSTANT, dtype=np.int64)
    if not rows:
        return step_due
    idx = np.array(rows)
    work = np.array(targets, dtype=np.int64)
    plain = shift(cal, received[idx], work)
    zero = work == 0
    if zero.any():
        plain[zero] = bulk_start(cal, received[idx][zero])
    paused, pause_start, pause_end = pause
    closed = pause_end[idx] != NO_INSTANT
    before = np.where(closed & (pause_start[idx] < plain), paused[idx], 0)
    step_due[idx] = shift(cal, plain, before)
    return step_due


def _risk(
    cal: legaltime.Calendar, is_open: npt.NDArray[np.bool_], due: I64, clock: I64, now_s: int
) -> tuple[npt.NDArray[np.bool_], int]:
    """At risk: open, not overdue, less than a quarter of the time left; and the number of
    overdue open dossiers."""
    overdue = is_open & (due != NO_INSTANT) & (due < now_s)
    risk = np.zeros(due.size, dtype=bool)
    running = np.flatnonzero(is_open & (due != NO_INSTANT) & ~overdue)
    if running.size:
        left = bulk_elapsed(cal, np.full(running.size, now_s, dtype=np.int64), due[running])
        whole = np.maximum(bulk_elapsed(cal, clock[running], due[running]), 1)
        risk[running] = left < 0.25 * whole
    return risk, int(overdue.sum())


def project_batch(
    plan: Plan,
    procs: list[Proc],
    cal: legaltime.Calendar,
    lo: int,
    hi: int,
    *,
    steps_of: Any,
    now_s: int,
    postgres: bool,
) -> BatchProjection:
    """The projection of dossiers `lo`..`hi` of `plan` (`steps_of(cycle, steps)`: the
    cached step of each action)."""
    k = hi - lo
    sl = slice(lo, hi)
    times = plan.times[sl]
    event_stamps = np.array(stamps(times.reshape(-1), postgres), dtype=object).reshape(times.shape)
    received = plan.received[sl].copy()
    cycles = [LIFECYCLES[c] for c in plan.cycle[sl].tolist()]
    got = np.array([bool(c.actions) and c.actions[0] == "receive" for c in cycles])
    received[~got] = NO_INSTANT
    finished_at, returned_at = _finish_instants(times, plan.cycle[sl])
    proc_list = plan.proc[sl].tolist()
    step_list = [
        next((s for s in reversed(steps_of(c, procs[p].steps)) if s is not None), 0)
        for c, p in zip(cycles, proc_list, strict=True)
    ]
    due, original, paused = plan.due[sl], plan.original_due[sl], plan.paused[sl]
    pause_start, pause_end = plan.pause_start[sl], plan.pause_end[sl]
    outcome, outcome_original = _outcomes(cal, due, original, paused, finished_at)
    candidates = np.flatnonzero((finished_at == NO_INSTANT) & (received != NO_INSTANT))
    rows = [
        i
        for i in candidates.tolist()
        if (t := procs[proc_list[i]].targets) and step_list[i] < len(t)
    ]
    targets = [procs[proc_list[i]].targets[step_list[i]] for i in rows]  # type: ignore[index]
    step_due = _step_dues(cal, rows, targets, received, (paused, pause_start, pause_end), k)
    is_open = np.array([not c.finished for c in cycles])
    risk, overdue_open = _risk(cal, is_open, due, plan.clock[sl], now_s)
    return BatchProjection(
        cycles=cycles,
        event_stamps=event_stamps.tolist(),
        received=got.tolist(),
        steps=step_list,
        outcome=outcome,
        outcome_original=outcome_original,
        paused=paused.tolist(),
        risk=risk.tolist(),
        stamps={
            "received": stamps(received, postgres),
            "clock": stamps(np.where(got, plan.clock[sl], NO_INSTANT), postgres),
            "original": stamps(np.where(got, original, NO_INSTANT), postgres),
            "due": stamps(np.where(got, due, NO_INSTANT), postgres),
            "finished": stamps(finished_at, postgres),
            "returned": stamps(returned_at, postgres),
            "step_due": stamps(step_due, postgres),
            "pause_start": stamps(pause_start, postgres),
        },
        overdue_open=overdue_open,
        at_risk=int(risk.sum()),
    )
