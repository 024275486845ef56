"""Event instants of the generated dossiers, one lifecycle at a time (vectorised over its
dossiers): receipt, the officers' actions in working time, pauses, and the finishing action
placed to give the calibrated outcome (early, on time, overdue)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from cchc import legaltime
from cchc.demo.generator.epochs import DAY, HOUR, I64, VN_OFFSET, shift
from cchc.demo.generator.lifecycles import INDEX, LIFECYCLES, MAX_EVENTS, Lifecycle
from cchc.demo.generator.plan import Plan
from cchc.demo.generator.procedures import Proc
from cchc.dossiers import replay
from cchc.legaltime import NO_INSTANT, bulk_due, bulk_elapsed, bulk_start


def timelines(
    plan: Plan,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    procs: list[Proc],
    *,
    now_s: int,
    start_s: int,
) -> None:
    """Event instants and clocks, one lifecycle at a time (vectorised over its dossiers)."""
    standard = cal.standard_day_seconds
    amounts = np.array([p.amount for p in procs])
    units = np.array([p.unit for p in procs], dtype=np.int8)
    online = plan.channel != 1
    received = plan.received
    submitted = received - np.where(
        online, rng.integers(600, 2 * DAY, size=received.size), 0
    ).astype(np.int64)
    for _attempt in range(8):
        todo = np.flatnonzero(plan.times[:, 0] == NO_INSTANT)
        if not todo.size:
            return
        # Finished dossiers whose timeline ran past `now` last time start earlier this time.
        for cycle in LIFECYCLES:
            rows = todo[plan.cycle[todo] == INDEX[cycle.name]]
            if not rows.size:
                continue
            if not cycle.actions or cycle.actions[0] != "receive":
                # Never received: submitted only, or refused at intake.
                times = plan.times[rows]
                times[:, 0] = submitted[rows]
                if cycle.actions:
                    times[:, 1] = submitted[rows] + rng.integers(HOUR, 3 * DAY, size=rows.size)
                keep = times[:, len(cycle.actions)] < now_s
                plan.times[rows[keep]] = times[keep]
                _retry(plan, rows[~keep], received, submitted, rng, start_s)
                continue
            fits = _received_cycle(
                plan, rows, cycle, rng, cal, amounts, units, standard, submitted, now_s
            )
            if cycle.finished:
                _retry(plan, rows[~fits], received, submitted, rng, start_s)
            elif not fits.all():
                plan.cycle[rows[~fits]] = INDEX[cycle.fallback]
    if (plan.times[:, 0] == NO_INSTANT).any():
        raise ValueError("could not fit every finished dossier's timeline before `now`")


def _pause_actions(actions: Sequence[str]) -> tuple[str | None, str | None]:
    """The lifecycle's pausing request and its resumption (None where absent)."""
    begin = next((a for a in actions if a.startswith("request_")), None)
    end = next((a for a in actions if a in replay.RESUMING), None)
    return begin, end


def _place_pause(
    actions: Sequence[str],
    work: dict[str, I64],
    start: I64,
    budget: I64,
    standard: int,
    u: Callable[[int], npt.NDArray[np.float64]],
) -> I64:
    """Place a finished lifecycle's pause after `start` working seconds (the request within
    the first 40 % of the budget, the resumption 0.5–8 working days later) in `work`;
    returns the working seconds of the last action placed."""
    pause_begin, pause_end = _pause_actions(actions)
    k = start.size
    last = start
    if pause_begin:
        last = start + 600 + (u(k) * 0.4 * budget).astype(np.int64)
        work[pause_begin] = last
        if pause_end:
            length = (u(k) * 7.5 + 0.5) * standard
            last = last + length.astype(np.int64)
            work[pause_end] = last
    return last


def _due_after_pause(
    cal: legaltime.Calendar,
    clock: I64,
    received: I64,
    amounts: npt.NDArray[np.float64],
    units: npt.NDArray[np.int8],
    actions: Sequence[str],
    work: dict[str, I64],
    due: I64,
) -> I64:
    """`due` moved by the lifecycle's closed pause, if it has one (as the replay does)."""
    pause_begin, pause_end = _pause_actions(actions)
    if not (pause_begin and pause_end):
        return due
    begin = shift(cal, clock, work[pause_begin])
    finish = shift(cal, clock, work[pause_end])
    return bulk_due(cal, received, amounts, units, paused=bulk_elapsed(cal, begin, finish))


def _targeted_finish(
    rows: npt.NDArray[np.intp],
    cycle: Lifecycle,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    clock: I64,
    received: I64,
    budget: I64,
    amounts: npt.NDArray[np.float64],
    units: npt.NDArray[np.int8],
    targets: tuple[float, float, float],
) -> tuple[dict[str, I64], I64]:
    """Working seconds after the clock start of each action of a finished lifecycle, with
    the finishing action placed to give the target outcome: early (a working day before
    the due's day), on time (on the due's day, not after the due) or overdue. Returns the
    offsets and the due (after the pause, if any)."""
    k = rows.size
    u = rng.random
    standard = cal.standard_day_seconds
    actions = cycle.actions
    work: dict[str, I64] = {}
    # Same-day procedures are assigned within minutes; others within hours.
    w = np.minimum(rng.integers(900, 4 * HOUR, size=k), np.maximum(budget // 6, 300))
    if "assign" in actions:
        work["assign"] = w
    if "apologise" in actions:
        work["apologise"] = w + 60
    last = _place_pause(actions, work, w, budget, standard, u)
    due = _due_after_pause(
        cal, clock, received, amounts, units, actions, work, bulk_due(cal, received, amounts, units)
    )
    total = bulk_elapsed(cal, clock, due)
    day_start = ((due + VN_OFFSET) // DAY) * DAY - VN_OFFSET
    before_day = bulk_elapsed(cal, clock, np.maximum(day_start, clock))
    gap = np.minimum(2 * HOUR, np.maximum((total - last) // 4, 120))
    low = last + gap
    early_high = before_day - 60  # still on a working day before the due's day
    on_low = np.maximum(low, before_day + 60)
    on_high = total - 60
    can_early = early_high > low
    can_on_time = on_high > on_low
    # Dossiers that can finish early take the early share of those that cannot (same-day
    # procedures), so that the batch's shares meet the targets; the rest is split between
    # on time and overdue in the targets' proportion.
    early, on_time, overdue = targets
    possible = float(can_early.mean()) if k else 0.0
    p_early = np.where(can_early, min(early / possible, 1.0) if possible else 0.0, 0.0)
    p_on = (1.0 - p_early) * (on_time / max(on_time + overdue, 1e-12))
    roll = u(k)
    want = np.where(roll < p_early, 0, np.where(roll < p_early + p_on, 1, 2))
    want = np.where((want == 1) & ~can_on_time, np.where(can_early, 0, 2), want)
    spread = u(k)
    late_low = np.maximum(low, total + 60)
    finish_at = np.where(
        want == 0,
        low + ((early_high - low) * spread).astype(np.int64),
        np.where(
            want == 1,
            on_low + ((on_high - on_low) * spread).astype(np.int64),
            late_low + (spread * 0.5 * np.maximum(total, standard)).astype(np.int64),
        ),
    )
    end_action = next(a for a in ("approve", "refuse", "stop", "withdraw") if a in actions)
    if end_action == "stop":
        finish_at = last + HOUR + (u(k) * 3 * standard).astype(np.int64)
    if "propose" in actions:
        work["propose"] = last + ((finish_at - last) * (0.3 + 0.6 * u(k))).astype(np.int64)
    work[end_action] = finish_at
    if "return_result" in actions:
        work["return_result"] = finish_at + rng.integers(900, 2 * standard, size=k)
    return work, due


def _retry(
    plan: Plan,
    rows: npt.NDArray[np.intp],
    received: I64,
    submitted: I64,
    rng: np.random.Generator,
    start_s: int,
) -> None:
    """Move receipts of `rows` earlier (by 2-6 weeks) for another attempt."""
    if not rows.size:
        return
    back = rng.integers(14 * DAY, 42 * DAY, size=rows.size)
    moved = np.maximum(received[rows] - back, start_s)
    delta = received[rows] - moved
    received[rows] = moved
    submitted[rows] -= delta
    plan.times[rows] = NO_INSTANT


def _received_cycle(
    plan: Plan,
    rows: npt.NDArray[np.intp],
    cycle: Lifecycle,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    amounts: npt.NDArray[np.float64],
    units: npt.NDArray[np.int8],
    standard: int,
    submitted: I64,
    now_s: int,
) -> npt.NDArray[np.bool_]:
    """Instants of a received lifecycle; returns which rows fit before `now`."""
    k = rows.size
    r = plan.received[rows]
    proc = plan.proc[rows]
    clock = bulk_start(cal, r)
    original = bulk_due(cal, r, amounts[proc], units[proc])
    budget = np.maximum(bulk_elapsed(cal, clock, original), HOUR)
    actions = cycle.actions
    work: dict[str, I64] = {}  # action -> working seconds after the clock start
    u = rng.random
    pause_begin, pause_end = _pause_actions(actions)
    apology = "apologise" in actions
    due = original
    targets = plan.profile.outcomes
    if cycle.finished and targets is not None:
        work, due = _targeted_finish(
            rows, cycle, rng, cal, clock, r, budget, amounts[proc], units[proc], targets
        )
    elif cycle.finished:
        w = rng.integers(900, 4 * HOUR, size=k)
        if "assign" in actions:
            work["assign"] = w
        if apology:  # placed by _exact_rows once the due before the apology is known
            work["apologise"] = w + 60
        last = _place_pause(actions, work, w, budget, standard, u)
        due = _due_after_pause(cal, clock, r, amounts[proc], units[proc], actions, work, due)
        total = np.maximum(bulk_elapsed(cal, clock, due), HOUR)
        # Outcome mix: most early, some on the due day, some late.
        roll = u(k)
        fraction = np.where(
            roll < 0.7, 0.2 + 0.7 * u(k), np.where(roll < 0.9, 0.9 + 0.1 * u(k), 1.0 + 0.6 * u(k))
        )
        end_action = next(a for a in ("approve", "refuse", "stop", "withdraw") if a in actions)
        finish_at = np.maximum((fraction * total).astype(np.int64), last + 2 * HOUR)
        if end_action == "stop":
            finish_at = last + HOUR + (u(k) * 3 * standard).astype(np.int64)
        if "propose" in actions:
            work["propose"] = last + ((finish_at - last) * (0.3 + 0.6 * u(k))).astype(np.int64)
        work[end_action] = finish_at
        if "return_result" in actions:
            work["return_result"] = finish_at + rng.integers(900, 2 * standard, size=k)
    else:
        available = bulk_elapsed(cal, clock, np.full(k, now_s, dtype=np.int64)) - 600
        fits = available > 4 * HOUR if len(actions) > 1 else np.ones(k, dtype=bool)
        room = np.maximum(available, 4 * HOUR)
        w = np.minimum(rng.integers(900, 4 * HOUR, size=k), room // 5)
        if "assign" in actions:
            work["assign"] = w
        last = w
        for action in actions[2:]:
            step = ((room - last) * (0.2 + 0.6 * u(k))).astype(np.int64) + 60
            last = last + step
            work[action] = last
        due = _due_after_pause(cal, clock, r, amounts[proc], units[proc], actions, work, due)
    times = np.full((k, MAX_EVENTS), NO_INSTANT, dtype=np.int64)
    times[:, 0] = np.where(plan.channel[rows] == 1, r, submitted[rows])
    times[:, 1] = r
    for position, action in enumerate(actions[1:], start=2):
        times[:, position] = shift(cal, clock, work[action])
    last_time = times[:, len(actions)]
    ok = last_time < now_s
    if not cycle.finished:
        ok &= fits
    keep = rows[ok]
    plan.times[keep] = times[ok]
    plan.clock[keep] = clock[ok]
    plan.original_due[keep] = original[ok]
    plan.due[keep] = due[ok]
    if pause_begin:
        plan.pause_start[keep] = times[ok, actions.index(pause_begin) + 1]
    if pause_end:
        plan.pause_end[keep] = times[ok, actions.index(pause_end) + 1]
        plan.paused[keep] = bulk_elapsed(cal, plan.pause_start[keep], plan.pause_end[keep])
    return ok
