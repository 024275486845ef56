"""`generate`: many dossiers of one desk written at once — plan, timelines, extras, then
rows in batches through the engine's raw writer, in one transaction."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from django.db import connection, transaction

from cchc.calendars.services import DEFAULT_CALENDAR, calendar_for
from cchc.demo.generator import scans
from cchc.demo.generator.apologies import plan_apologies
from cchc.demo.generator.batch import RowBuilder
from cchc.demo.generator.codes import codes_for, save_counters
from cchc.demo.generator.epochs import epoch
from cchc.demo.generator.inputs import DEFAULT_PROFILE, Generated, Profile, Staff
from cchc.demo.generator.plan import Plan, extras, make_plan, permute
from cchc.demo.generator.procedures import Proc, procedures_for
from cchc.demo.generator.receipts import Payments
from cchc.demo.generator.timelines import timelines
from cchc.dossiers import signals
from cchc.dossiers.models import (
    CodeCounter,
    ComponentReuse,
    Dossier,
    DossierComponent,
    DossierEvent,
    DossierFee,
    DossierResult,
)
from cchc.dossiers.rows import COLUMNS, Writer, columns


def generate(
    n: int,
    *,
    seed: int,
    start: dt.datetime,
    end: dt.datetime,
    desk: Any,
    procedures: Sequence[Any],
    agencies: Sequence[Any],
    users: Staff,
    now: dt.datetime,
    open_share: float = 0.1,
    batch: int = 20_000,
    progress: Callable[[int], None] | None = None,
    profile: Profile = DEFAULT_PROFILE,
    is_demo: bool = False,
    notify: bool = True,
) -> Generated:
    """Write `n` dossiers received at `desk` between `start` and `now` (open ones in the weeks
    before `now`, finished ones spread over `start` .. `end`), with their events.

    `procedures` must be competent at some of `agencies` (matched on agency type and the
    desk's `receives_for`). `profile` calibrates the mix (the default is the original one);
    `is_demo` flags the dossiers as demo data. `notify=False` leaves sending
    `dossiers_bulk_loaded` to the caller (one rebuild after several desks). Raises
    ValueError when the inputs cannot produce valid dossiers (desk not valid in the period,
    more than 9 999 codes in a day, no officer at an agency).
    """
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    # Draws of the profile's extras come from a second stream, so that the default profile
    # reproduces the original dossiers exactly.
    extra = np.random.default_rng([seed, 0x5CA1E])
    cal_code = desk.calendar.code if desk.calendar_id else DEFAULT_CALENDAR
    cal = calendar_for(cal_code, saturday_reception=desk.saturday_reception)
    version = int(cal.version.rsplit("@v", 1)[1])
    procs = procedures_for(procedures, agencies, desk, start, now, cal)
    _check_inputs(procs, users, desk, start=start, now=now)
    plan = make_plan(
        n,
        rng,
        cal,
        procs,
        users,
        start=start,
        end=end,
        now=now,
        open_share=open_share,
        profile=profile,
    )
    timelines(plan, rng, cal, procs, now_s=epoch(now), start_s=epoch(start))
    plan_apologies(plan, rng, cal, procs, now=now)
    order = np.argsort(plan.times[:, 0], kind="stable")  # ids follow submission time
    permute(plan, order)
    extras(plan, extra, procs, profile, now_s=epoch(now))
    with transaction.atomic():
        builder = RowBuilder(
            plan,
            procs,
            users,
            cal,
            desk=desk,
            codes=[],
            version=version,
            now=now,
            rng=rng,
            is_demo=is_demo,
            payments=Payments.load() if (plan.pay > 0).any() else None,
        )
        result = _write(builder, n, batch=batch, progress=progress)
        # Derived data kept by other apps (the indicator aggregates) is recomputed in the
        # same transaction.
        if notify:
            signals.dossiers_bulk_loaded.send(
                sender=Dossier, first_id=result.first_id, last_id=result.last_id
            )
    result.seconds = time.perf_counter() - began
    return result


def _check_inputs(
    procs: list[Proc], users: Staff, desk: Any, *, start: dt.datetime, now: dt.datetime
) -> None:
    """ValueError unless every agency has staff and the desk is valid over the period."""
    for p in procs:
        for agency_id in p.agencies:
            if not users.officers.get(agency_id) or not users.leaders.get(agency_id):
                raise ValueError(f"no processing officer or leader for agency {agency_id}")
    if not users.desk_officers:
        raise ValueError("no desk officer")
    for day in (start.date(), now.date()):
        if not desk.is_valid_on(day):
            raise ValueError(f"desk {desk.code} is not valid on {day}")


def _write(
    builder: RowBuilder, n: int, *, batch: int, progress: Callable[[int], None] | None
) -> Generated:
    """Write the plan's rows batch by batch, then the counters (in the caller's transaction)."""
    plan: Plan = builder.plan
    prefix = builder.receiving.code
    codes, counters = codes_for(plan.times[:, 0], prefix)
    builder.codes = codes
    result = Generated(dossiers=n)
    writer = Writer()
    models: list[Any] = [Dossier, DossierEvent, DossierComponent, DossierFee, DossierResult]
    models += scans.MODELS
    if builder.payments is not None:
        models += [Payments.Receipt, Payments.PaymentOrder]
    ids = {m: writer.next_id(m) for m in models}
    result.first_id = ids[Dossier]
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        for model, rows in builder.rows(lo, hi, ids).items():
            names = COLUMNS.get(model) or scans.COLUMNS.get(model) or columns(model)
            writer.insert(model, names, rows)
            table = model._meta.db_table
            result.rows[table] = result.rows.get(table, 0) + len(rows)
            ids[model] += len(rows)
        if progress is not None:
            progress(hi)
    writer.finish()
    reuses = result.rows.get(ComponentReuse._meta.db_table, 0)
    if reuses:
        with connection.cursor() as cursor:
            cursor.execute(scans.count_reuses(ids[ComponentReuse] - reuses))
    save_counters(prefix, counters)
    result.rows[CodeCounter._meta.db_table] = len(counters)
    if builder.payments is not None:
        builder.payments.save_counters()
    result.last_id = ids[Dossier] - 1
    result.states = builder.states
    result.overdue_open = builder.overdue_open
    result.at_risk = builder.at_risk
    return result
