"""Dossiers with an apology (form 04): the apology's payload (new appointment from the
remaining step budgets, `legaltime.extend`) and their projection come from the services'
own code, not from the vectorised path."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace
from typing import Any

import numpy as np

from cchc import legaltime
from cchc.demo.generator.epochs import HOUR, epoch, shift
from cchc.demo.generator.lifecycles import BY_NAME, INDEX, Lifecycle, steps_after
from cchc.demo.generator.plan import Plan
from cchc.demo.generator.procedures import Proc
from cchc.dossiers import payloads, replay, services
from cchc.legaltime import NO_INSTANT, bulk_elapsed
from cchc.legaltime.instants import from_epoch
from cchc.org.models import Agency


class _Apologies:
    """What every apology row of a plan shares: the calendar, `now`, the services' apology
    policy and the agencies at fault."""

    def __init__(self, plan: Plan, cal: legaltime.Calendar, *, now: dt.datetime) -> None:
        self.plan, self.cal = plan, cal
        self.now_s = epoch(now)
        self.policy = services.apology_policy()
        self.agencies = {a.pk: a for a in Agency.objects.filter(pk__in=set(plan.agency.tolist()))}
        self.standard = cal.standard_day_seconds

    def said_at(self, row: int) -> int:
        """When the apology is made: at least 1.5 working days before the due (not late),
        or an hour after the assignment."""
        cal, standard = self.cal, self.standard
        said = int(shift(cal, np.array([int(self.plan.times[row][2])]), [HOUR])[0])
        ahead = int(bulk_elapsed(cal, np.array([said]), np.array([self.plan.due[row]]))[0])
        if ahead > 2 * standard:
            said = int(shift(cal, np.array([said]), [ahead - int(1.5 * standard)])[0])
        return said

    def extension(self, row: int, proc: Proc, said: int) -> legaltime.ExtensionResult:
        """The new appointment (as `services.propose_appointment`: the remaining steps'
        working time after the later of the apology and the due), through `legaltime.extend`
        (raises ExtensionRefused)."""
        cal, standard = self.cal, self.standard
        before = int(self.plan.due[row])
        index = steps_after(("receive", "assign"), proc.steps)[-1] or 0
        remaining = sum(
            legaltime.parse_duration(b).working_seconds(standard)
            for b in proc.budgets[index:]
            if legaltime.parse_duration(b).is_working
        )
        new_due = replay.shift(cal, from_epoch(max(said, before)), max(remaining, standard))
        return legaltime.extend(
            cal,
            current_due=from_epoch(before),
            new_due=new_due,
            apology_at=from_epoch(said),
            extensions_so_far=0,
            policy=self.policy,
        )

    def finish(self, row: int, rng: np.random.Generator, said: int, due_s: int) -> bool:
        """Place the proposal, approval and return after the apology (finished lifecycle);
        False when they do not fit before `now`."""
        cal, times = self.cal, self.plan.times[row]
        span = max(int(bulk_elapsed(cal, np.array([said]), np.array([due_s]))[0]), HOUR)
        finish = int(shift(cal, np.array([said]), [int(span * (0.3 + 0.65 * rng.random()))])[0])
        times[4] = int(shift(cal, np.array([said]), [HOUR // 2])[0])
        times[4] = min(times[4], finish - 60)
        times[5] = finish
        times[6] = int(shift(cal, np.array([finish]), [int(rng.integers(900, 4 * HOUR))])[0])
        return not (times[6] >= self.now_s or times[4] <= said)


def plan_apologies(
    plan: Plan,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    procs: list[Proc],
    *,
    now: dt.datetime,
) -> None:
    """Dossiers with an apology: the apology's payload (new appointment from the remaining
    step budgets, `legaltime.extend`; `payloads.apologise`) is kept in `plan.exact`, and
    their projection will come from the services' own code. Rows whose apology cannot be
    made (too late, refused, not fitting before `now`) fall back to a shorter lifecycle."""
    ctx = _Apologies(plan, cal, now=now)
    for name in ("returned_apology", "open_apology"):
        cycle = BY_NAME[name]
        for row in np.flatnonzero(plan.cycle == INDEX[name]).tolist():
            proc = procs[plan.proc[row]]
            agency = ctx.agencies[int(plan.agency[row])]
            said = ctx.said_at(row)
            made = said < ctx.now_s - 60
            if made:
                try:
                    ext = ctx.extension(row, proc, said)
                except legaltime.ExtensionRefused:
                    made = False
            if made:
                plan.times[row][3] = said
                made = not cycle.finished or ctx.finish(row, rng, said, epoch(ext.due))
            if not made:
                plan.cycle[row] = INDEX[cycle.fallback]
                truncate(plan, row, BY_NAME[cycle.fallback])
                continue
            payload = payloads.apologise(extension=ext, agency=agency)
            plan.exact[row] = ([payload], {})


def truncate(plan: Plan, row: int, cycle: Lifecycle) -> None:
    """Fall back to a shorter lifecycle with the same first events (apology rows)."""
    # returned_apology -> returned: drop the apology column; open_apology -> in_progress.
    times = plan.times[row].copy()
    if cycle.name == "returned":
        plan.times[row, 3:6] = times[4:7]
        plan.times[row, 6:] = NO_INSTANT
    else:
        plan.times[row, 3:] = NO_INSTANT


def project_exact(
    plan: Plan,
    row: int,
    proc: Proc,
    agency_id: int,
    event_rows: list[tuple[Any, ...]],
    cal: legaltime.Calendar,
) -> dict[str, Any]:
    """The stored projection of an apology dossier from its event rows, by `replay.project`."""
    # Instants of the lifecycle's events by position; the extras' from their own arrays.
    instants = []
    base = 0
    for e in event_rows:
        if e[3] == "pay":
            instants.append(from_epoch(int(plan.pay_at[row])))
        elif e[3] == "rate":
            instants.append(from_epoch(int(plan.rate_at[row])))
        else:
            instants.append(from_epoch(int(plan.times[row, base])))
            base += 1
    events = [
        SimpleNamespace(
            seq=e[2],
            action=e[3],
            to_state=e[5],
            at=instants[e[2] - 1],
            data=json.loads(e[10]),
            actor_label=e[7],
        )
        for e in event_rows
    ]
    projection = replay.project(
        duration_spec=proc.obj.duration_spec,
        step_plan=json.loads(proc.step_plan),
        competent_agency_id=agency_id,
        events=events,
        calendar=lambda number: cal,
    )
    return projection.stored()
