"""The plan of a batch of generated dossiers: everything decided before writing —
lifecycle, procedure, agency, channel, receipt instants, then (after the timelines) the
profile's extras: payments, ratings, digitisation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt

from cchc import legaltime
from cchc.demo.generator.epochs import DAY, HOUR, VN_OFFSET, epoch, working_snap
from cchc.demo.generator.inputs import DEFAULT_PROFILE, Profile, Staff
from cchc.demo.generator.lifecycles import FINISHED, INDEX, LIFECYCLES, MAX_EVENTS, OPEN
from cchc.demo.generator.procedures import Proc
from cchc.legaltime import NO_INSTANT


class Plan:
    """Everything decided per dossier before writing: lifecycle, procedure, agency, channel,
    event instants (matrix: one column per position of the lifecycle's event list)."""

    def __init__(self, n: int) -> None:
        self.cycle = np.zeros(n, dtype=np.int16)
        self.proc = np.zeros(n, dtype=np.int32)
        self.agency = np.zeros(n, dtype=np.int64)
        self.channel = np.ones(n, dtype=np.int8)
        self.times = np.full((n, MAX_EVENTS), NO_INSTANT, dtype=np.int64)
        self.received = np.full(n, NO_INSTANT, dtype=np.int64)
        self.clock = np.full(n, NO_INSTANT, dtype=np.int64)
        self.original_due = np.full(n, NO_INSTANT, dtype=np.int64)
        self.due = np.full(n, NO_INSTANT, dtype=np.int64)
        self.paused = np.zeros(n, dtype=np.int64)
        self.pause_start = np.full(n, NO_INSTANT, dtype=np.int64)
        self.pause_end = np.full(n, NO_INSTANT, dtype=np.int64)
        self.exact: dict[int, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
        # Profile extras: payment (0 none, 1 cash at receipt, 2 online after submission),
        # rating (index into RATINGS + 1; 0 none), their instants, digitisation, reuse.
        self.pay = np.zeros(n, dtype=np.int8)
        self.pay_at = np.full(n, NO_INSTANT, dtype=np.int64)
        self.rating = np.zeros(n, dtype=np.int8)
        self.rate_at = np.full(n, NO_INSTANT, dtype=np.int64)
        self.digitised: npt.NDArray[np.bool_] | None = None  # None: online ones (original)
        self.reused = np.zeros(n, dtype=bool)
        self.profile = DEFAULT_PROFILE


def make_plan(
    n: int,
    rng: np.random.Generator,
    cal: legaltime.Calendar,
    procs: list[Proc],
    users: Staff,
    *,
    start: dt.datetime,
    end: dt.datetime,
    now: dt.datetime,
    open_share: float,
    profile: Profile = DEFAULT_PROFILE,
) -> Plan:
    plan = Plan(n)
    plan.profile = profile
    now_s = epoch(now)
    is_open = rng.random(n) < open_share
    for group, cycles in ((~is_open, FINISHED), (is_open, OPEN)):
        rows = np.flatnonzero(group)
        weights = np.array([profile.weight(c) for c in cycles])
        pick = rng.choice(len(cycles), size=rows.size, p=weights / weights.sum())
        plan.cycle[rows] = np.array([INDEX[c.name] for c in cycles])[pick]
    # A few procedures carry most of the load (Zipf-like), like a real catalogue.
    popularity = 1.0 / np.arange(1, len(procs) + 1) ** profile.zipf
    plan.proc = rng.choice(len(procs), size=n, p=popularity / popularity.sum()).astype(np.int32)
    plan.agency = np.array(
        [procs[p].agencies[rng.integers(len(procs[p].agencies))] for p in plan.proc.tolist()],
        dtype=np.int64,
    )
    online_only = np.isin(plan.cycle, [INDEX[c.name] for c in LIFECYCLES if c.online_only])
    if not profile.online_needs_service:
        plan.channel = rng.choice(
            np.array([1, 2, 3], dtype=np.int8), size=n, p=list(profile.channels)
        )
        plan.channel[online_only & (plan.channel == 1)] = 2
    else:
        _direct, online, postal = profile.channels  # direct: the rest
        offered = np.array([p.obj.online_level != "none" for p in procs])[plan.proc]
        roll = rng.random(n)
        plan.channel = np.where(
            roll < postal, 3, np.where(offered & (roll < postal + online), 2, 1)
        ).astype(np.int8)
        # Online-only lives need an online service: without one, the desk received it.
        swap = {"submitted": "received", "refused_at_intake": "refused"}
        for name, other in swap.items():
            rows = (plan.cycle == INDEX[name]) & ~offered
            plan.cycle[rows] = INDEX[other]
        online_only = np.isin(plan.cycle, [INDEX[c.name] for c in LIFECYCLES if c.online_only])
        plan.channel[online_only & (plan.channel == 1)] = 2

    # Receipt instants: finished ones over [start, end], open ones in the weeks before now.
    first_day = (epoch(start) + VN_OFFSET) // DAY
    last_day = (min(epoch(end), now_s) + VN_OFFSET) // DAY
    finished = ~is_open
    if profile.intake is None:
        days = rng.integers(first_day, last_day + 1, size=n)
        received = working_snap(rng, days)
        back = np.minimum(rng.exponential(6 * DAY, size=n), 60 * DAY).astype(np.int64) + 1800
        received[is_open] = now_s - back[is_open]
    else:
        # Working days only, weighted by the season; open ones in the last weeks.
        span = np.arange(first_day, last_day + 1, dtype=np.int64)
        weights = profile.intake.weights(span, cal)
        days = rng.choice(span, size=n, p=weights / weights.sum())
        recent = span[span >= (now_s + VN_OFFSET) // DAY - 60]
        fresh = profile.intake.weights(recent, cal) > 0
        recent = recent[fresh]
        decay = np.exp(-(recent[-1] - recent) / 6.0)
        days[is_open] = rng.choice(recent, size=int(is_open.sum()), p=decay / decay.sum())
        seconds = rng.integers(7 * HOUR + 40 * 60, 16 * HOUR + 50 * 60, size=n)
        received = days * DAY - VN_OFFSET + seconds
        late = is_open & (received > now_s - 1800)
        received[late] = now_s - rng.integers(1800, 4 * HOUR, size=int(late.sum()))
    received = np.minimum(received, now_s - 600)
    received[finished] = np.maximum(received[finished], epoch(start))
    plan.received = received
    return plan


def permute(plan: Plan, order: npt.NDArray[np.intp]) -> None:
    for name in ("cycle", "proc", "agency", "channel", "times", "received", "clock",
                 "original_due", "due", "paused", "pause_start", "pause_end"):  # fmt: skip
        setattr(plan, name, getattr(plan, name)[order])
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    plan.exact = {int(inverse[i]): v for i, v in plan.exact.items()}


def extras(
    plan: Plan, extra: np.random.Generator, procs: list[Proc], profile: Profile, *, now_s: int
) -> None:
    """Payments, ratings and digitisation (profile extras), decided once the timelines are
    final. Draws come from `extra` only, in a fixed order."""
    n = plan.cycle.size
    if not n:
        return
    channel = plan.channel
    online = channel == 2
    has_docs = np.array([bool(p.docs) for p in procs], dtype=bool)[plan.proc]
    if profile.digitised is not None:
        scanned = extra.random(n) < profile.digitised
        plan.digitised = has_docs & (online | scanned)
        plan.reused = plan.digitised & (extra.random(n) < profile.reused)
    fee = np.array([p.fee_total for p in procs], dtype=np.int64)[plan.proc]
    received = np.array([bool(c.actions) and c.actions[0] == "receive" for c in LIFECYCLES])
    # Fees are paid on dossiers that are (or will be) resolved: not on refused, stopped or
    # withdrawn ones.
    payable = np.array(
        [received[i] and ("approve" in c.actions or not c.finished)
         for i, c in enumerate(LIFECYCLES)]
    )  # fmt: skip
    pays = payable[plan.cycle] & (fee > 0) & (extra.random(n) < profile.paid)
    gateway = pays & online & (extra.random(n) < profile.paid_online)
    cash = pays & ~gateway
    submitted, receipt = plan.times[:, 0], plan.times[:, 1]
    # Online: a few minutes after submission, before the desk receives it. Cash: at the
    # desk right after receipt, before the next event (at least 5 working minutes later).
    plan.pay[gateway] = 2
    plan.pay_at[gateway] = submitted[gateway] + np.minimum(
        300, (receipt[gateway] - submitted[gateway]) // 2
    )
    plan.pay[cash] = 1
    plan.pay_at[cash] = receipt[cash] + extra.integers(60, 240, size=int(cash.sum()))
    # Ratings after the return, by the applicant's account (checked when writing rows).
    returned = np.array(["return_result" in c.actions for c in LIFECYCLES])[plan.cycle]
    rates = returned & (channel != 1) & (extra.random(n) < profile.rated)
    picks = extra.choice(3, size=n, p=list(profile.ratings)) + 1
    last = plan.times.max(axis=1)
    at = last + extra.integers(600, 3 * DAY, size=n)
    rates &= at < now_s - 60
    plan.rating[rates] = picks[rates]
    plan.rate_at[rates] = at[rates]
