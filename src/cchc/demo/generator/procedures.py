"""The procedures a desk's generated dossiers follow, read once: competent agencies, the
legal duration, the internal step plan and its working-time targets, documents, fees."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cchc import legaltime
from cchc.legaltime import UNIT_CODES
from cchc.vietnamese import fold


@dataclass
class Proc:
    """One procedure as the generator uses it (texts pre-encoded for the rows)."""

    obj: Any
    agencies: list[int]
    amount: float
    unit: int
    steps: int
    step_plan: str
    targets: list[int] | None  # cumulative working seconds per step; None if not working units
    budgets: list[str]
    docs: list[tuple[int, str, int, int]]
    fees: list[tuple[str, int]]
    fee_total: int
    electronic: bool
    result_title: str  # JSON-encoded
    result_plain: str
    folded: str
    matter: str


def procedures_for(
    procedures: Sequence[Any],
    agencies: Sequence[Any],
    desk: Any,
    start: dt.datetime,
    now: dt.datetime,
    cal: legaltime.Calendar,
) -> list[Proc]:
    """The generator's view of `procedures` at `desk` (raises ValueError when one is not
    active or has no competent agency among `agencies`)."""
    out = []
    standard = cal.standard_day_seconds
    # `intake.competent_agency_for` on both days, with the desk's agencies read once.
    received = [
        {(a.pk, a.agency_type_id) for a in desk.receives_for.valid_on(day)}
        for day in (start.date(), now.date())
    ]
    both = received[0] & received[1]
    for proc in procedures:
        allowed = {pk for pk, kind in both if kind == proc.competent_agency_type_id}
        chosen = sorted(a.pk for a in agencies if a.pk in allowed)
        if not chosen:
            raise ValueError(f"no agency among `agencies` is competent for {proc.code}")
        if not proc.active:
            raise ValueError(f"procedure {proc.code} is not active")
        parsed = legaltime.parse_duration(proc.duration_spec)
        steps = list(proc.steps.all())
        budgets = [s.duration_spec for s in steps]
        targets: list[int] | None = []
        total = 0
        for budget in budgets:
            duration = legaltime.parse_duration(budget)
            if not duration.is_working:
                targets = None
                break
            total += duration.working_seconds(standard)
            targets.append(total)  # type: ignore[union-attr]
        plan = [{"name": s.name, "budget": s.duration_spec} for s in steps]
        out.append(
            Proc(
                obj=proc,
                agencies=chosen,
                amount=float(parsed.amount),
                unit=UNIT_CODES[parsed.unit],
                steps=len(steps),
                step_plan=json.dumps(plan),
                targets=targets,
                budgets=budgets,
                docs=[
                    (d.pk, d.name, d.originals, d.copies)
                    for d in proc.documents.all()
                    if d.mandatory
                ],
                fees=[(f.name, f.amount) for f in proc.fees.all()],
                fee_total=sum(f.amount for f in proc.fees.all()),
                electronic=proc.result_type != "paper",
                result_title=json.dumps(f"Kết quả giải quyết: {proc.name}"[:300]),
                result_plain=f"Kết quả giải quyết: {proc.name}"[:300],
                folded=fold(f"{proc.code} {proc.name}"),
                matter=proc.name[:500],
            )
        )
    return out
