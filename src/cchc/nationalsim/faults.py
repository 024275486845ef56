"""Fault injection for the simulated national portal, stored in the database (one row) so
the web page, the worker and the tests share it.

- `fail_rate`: that share of calls is answered HTTP 503 without doing anything;
- `lost_answer_rate`: that share of calls does the work, then answers 503 (the worst case:
  the caller retries something that already happened, so its retry must be idempotent);
- `slow_seconds`: sleep before answering (with a live server and a short client time-out);
- `slow_answer_seconds`: do the work, then sleep before answering (a caller killed meanwhile
  has had its call done without recording it: its retry must not do it twice);
- `duplicate_inbound`: `LayDanhSachHoSoMoi` repeats dossiers it listed before, even those
  already acknowledged;
- `shuffle_inbound`: `LayDanhSachHoSoMoi` answers in no particular order.

The random draws come from a seeded generator advanced by a counter kept in the same row,
so a test that sets a seed sees the same sequence every run."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F

from cchc.errors import InvalidInput
from cchc.nationalsim.models import SimFaults

T = TypeVar("T")
RATES = ("fail_rate", "lost_answer_rate")
FIELDS = (
    "fail_rate",
    "lost_answer_rate",
    "slow_seconds",
    "slow_answer_seconds",
    "duplicate_inbound",
    "shuffle_inbound",
    "seed",
)


def current() -> SimFaults:
    row, _ = SimFaults.objects.get_or_create(pk=1)
    return row


def set(**settings: Any) -> SimFaults:
    """Change some fault settings (the others stay); a new `seed` restarts the sequence."""
    unknown = sorted(k for k in settings if k not in FIELDS)
    if unknown:
        raise InvalidInput(f"Không có thiết lập lỗi giả lập: {', '.join(unknown)}.")
    for name in RATES:
        if name in settings and not 0.0 <= float(settings[name]) <= 1.0:
            raise InvalidInput(f"{name} phải nằm trong khoảng 0–1.")
    for name in ("slow_seconds", "slow_answer_seconds"):
        if name in settings and not 0.0 <= float(settings[name]) <= 120.0:
            raise InvalidInput(f"{name} phải nằm trong khoảng 0–120 giây.")
    row = current()
    for name, value in settings.items():
        setattr(row, name, value)
    if "seed" in settings:
        row.draws = 0
    row.save()
    return row


def reset() -> SimFaults:
    """No faults, the default seed."""
    SimFaults.objects.filter(pk=1).delete()
    return current()


def _rng(purpose: str) -> random.Random:
    """A generator for one draw: seeded by (seed, purpose, counter); the counter advances."""
    with transaction.atomic():
        row = current()
        SimFaults.objects.filter(pk=1).update(draws=F("draws") + 1)
        return random.Random(f"{row.seed}:{purpose}:{row.draws}")


def hit(rate: float, purpose: str) -> bool:
    """Whether a fault of probability `rate` happens now (never for 0, always for 1)."""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return _rng(purpose).random() < rate


def shuffled(items: Sequence[T]) -> list[T]:
    out = list(items)
    _rng("shuffle").shuffle(out)
    return out
