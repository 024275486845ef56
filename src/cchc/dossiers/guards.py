"""Pre-action guards: rules other engines add to the dossier workflow without this engine
importing them (the layers contract in pyproject.toml).

A guard is called as ``guard(actor, locked_dossier, action, data, now)`` by
`cchc.dossiers.services.act`, inside its transaction and under the dossier's row lock, after
the transition is checked and before the event is appended. It may refuse the action (raise
a DomainError: `act` records the refusal in the audit log), or do work that must commit or
roll back with the action (e.g. collect the fees in the same step; it then returns True,
having appended events of its own, so `act` re-reads the dossier). It takes the keys of
`data` it handles out of it, so that they never reach the event's payload. Engines that
follow dossiers register theirs in their AppConfig.ready(), like the registries of other
apps (`notifications.delivery.ATTACHMENT_RENDERERS`): `cchc.payments` refuses a result while
fees are owed (`payments.services.fees_before_result`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

PreActionGuard = Callable[[Any, Any, str, dict[str, Any], dt.datetime], bool]
PRE_ACTION_GUARDS: list[PreActionGuard] = []


def register_pre_action_guard(guard: PreActionGuard) -> None:
    """Add `guard` to the guards `act` runs (once, however often it is registered)."""
    if guard not in PRE_ACTION_GUARDS:
        PRE_ACTION_GUARDS.append(guard)


def run(actor: Any, dossier: Any, action: str, data: dict[str, Any], now: dt.datetime) -> bool:
    """Run every registered guard; True when one of them wrote events on the dossier."""
    wrote = False
    for guard in PRE_ACTION_GUARDS:
        wrote = bool(guard(actor, dossier, action, data, now)) or wrote
    return wrote
