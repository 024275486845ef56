"""The one back-off rule of the outboxes the worker delivers (e-mail and SMS, the national
portal's sync, signatures): after the n-th failed attempt wait 1, 2, 4 … minutes, capped,
times a random factor in [0.75, 1.25) so that the rows queued behind an outage do not all
retry in the same second."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable


def backoff(
    attempts: int, *, cap_minutes: float, jitter: Callable[[], float] = random.random
) -> dt.timedelta:
    base = min(2.0 ** max(attempts - 1, 0), cap_minutes)
    return dt.timedelta(minutes=base * (0.75 + 0.5 * jitter()))


def no_jitter() -> float:
    """The factor's middle (exactly 1, 2, 4 … minutes): for a queue too small to spread."""
    return 0.5
