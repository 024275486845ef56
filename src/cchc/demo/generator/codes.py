"""Dossier codes the generator allocates itself (it is the only writer while it runs),
continuing each day's counter of the receiving unit."""

from __future__ import annotations

import datetime as dt

import numpy as np

from cchc.demo.generator.epochs import DAY, I64, VN_OFFSET
from cchc.dossiers import rules
from cchc.dossiers.models import CodeCounter


def codes_for(submitted: I64, prefix: str) -> tuple[list[str], dict[dt.date, int]]:
    """Codes `<prefix>-YYMMDD-XXXX` continuing each day's counter (rows sorted by time)."""
    days = (submitted + VN_OFFSET) // DAY
    unique, first, counts = np.unique(days, return_index=True, return_counts=True)
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in unique.tolist()]
    existing = dict(
        CodeCounter.objects.filter(prefix=prefix, day__in=dates).values_list("day", "last")
    )
    offsets = np.array([existing.get(d, 0) for d in dates], dtype=np.int64)
    if (offsets + counts > 9999).any():
        raise ValueError("more than 9 999 dossiers in a day for one receiving unit")
    day_slot = np.searchsorted(unique, days)
    seq = np.arange(days.size) - first[day_slot] + 1 + offsets[day_slot]
    labels = [rules.ruleset_on(d).dossier_code(prefix, d, 1)[:-4] for d in dates]
    codes = [f"{labels[s]}{q:04d}" for s, q in zip(day_slot.tolist(), seq.tolist(), strict=True)]
    counters = {d: int(o + c) for d, o, c in zip(dates, offsets.tolist(), counts.tolist(),
                                                 strict=True)}  # fmt: skip
    return codes, counters


def save_counters(prefix: str, counters: dict[dt.date, int]) -> None:
    """Store the last number of each day (`codes_for`'s counters)."""
    CodeCounter.objects.bulk_create(
        [CodeCounter(prefix=prefix, day=d, last=last) for d, last in counters.items()],
        update_conflicts=True,
        unique_fields=["prefix", "day"],
        update_fields=["last"],
        batch_size=500,
    )
