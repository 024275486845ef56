"""The steps every event-log workflow takes, in this order (inside one transaction):

1. `lock` the record, refusing if its version is not the one the user saw;
2. `check_transition` the action against the engine's TRANSITIONS table;
3. (the engine prepares the action's payload);
4. `append` one event with the next sequence number;
5. (the engine re-derives its columns from the events) and `advance` the record to them
   and the next version, refusing if someone else advanced it meanwhile;
6. `audit_event`.

A refused action (any DomainError) leaves only `audit_refusal`, written in its own savepoint.
Actors are users, `cchc.accounts.policy.SYSTEM` or an anonymous sender: only a saved user is
stored as the actor (`actor_user`); everyone else is a label.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from cchc import legaltime
from cchc.audit import log
from cchc.errors import Conflict, DomainError
from cchc.eventlog.models import Event
from cchc.vietnamese import nfc_text

logger = logging.getLogger(__name__)

# action -> (states it may start from, state it leads to; None = unchanged)
Transitions = Mapping[str, tuple[frozenset[str], str | None]]

SYSTEM_LABEL = "hệ thống"


R = TypeVar("R", bound=models.Model)
E = TypeVar("E", bound=Event)


def local_now(now: dt.datetime | None) -> dt.datetime:
    """`now` (default: the current instant) in Vietnam's time zone."""
    return (now or timezone.now()).astimezone(legaltime.VN_TZ)


def actor_user(actor: Any) -> Any | None:
    """The user to store as the actor: `actor` if it is a saved user, else None (the system,
    an anonymous sender)."""
    return actor if getattr(actor, "pk", None) is not None else None


def actor_label(actor: Any, *, anonymous: str = SYSTEM_LABEL) -> str:
    """Who acted, as written on the event: a user's full name (else user name); `anonymous`
    for an actor without an account."""
    if actor_user(actor) is None:
        return anonymous
    return getattr(actor, "full_name", "") or actor.username


def reason_text(reason: str) -> str:
    """A reason, note or answer as stored: composed Unicode (NFC), spaces collapsed within
    each line, line breaks kept (at most one blank line in a row), outer blank space removed
    (`cchc.vietnamese.nfc_text`)."""
    return nfc_text(reason)


def lock(record: R, expected_version: int | None, *, stale: Callable[[R, int], Conflict]) -> R:
    """The record re-read with a row lock (`select_for_update`). If `expected_version` (the
    version the user saw) is given and differs, raise `stale(locked, expected_version)`."""
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    if expected_version is not None and locked.version != expected_version:
        raise stale(locked, expected_version)
    return locked


def check_transition(
    transitions: Transitions, action: str, state: str, *, illegal: Callable[[], DomainError]
) -> str | None:
    """The state `action` leads to from `state` (None: unchanged); raise `illegal()` when the
    table does not allow `action` from `state`."""
    allowed, target = transitions[action]
    if state not in allowed:
        raise illegal()
    return target


def possible_actions(transitions: Transitions, state: str) -> list[str]:
    """The actions the table allows from `state`, in table order."""
    return [action for action, (allowed, _) in transitions.items() if state in allowed]


def append(
    model: type[E],
    record: Any,
    action: str,
    *,
    actor: Any,
    label: str,
    now: dt.datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
    to_state: str | None = None,
) -> E:
    """Write the record's next event (sequence number `version + 1`) from its current state
    to `to_state` (default: unchanged), by `actor` named `label`, with the normalised
    `reason` (`reason_text`). The record's own columns are not touched (see `advance`)."""
    previous = record.state
    return model._default_manager.create(
        **{model.subject_field: record},
        seq=record.version + 1,
        action=action,
        from_state=previous if record.version else "",
        to_state=to_state or previous,
        actor=actor_user(actor),
        actor_label=label,
        at=now,
        reason=reason_text(reason),
        data=data or {},
    )


def advance(
    record: Any,
    derived: Mapping[str, Any],
    *,
    fields: Sequence[str],
    stale: Callable[[], Conflict],
) -> None:
    """Set the `derived` columns on `record` and move it to the next version. A record
    without events yet is saved whole (its workflow may have set more than the derived
    columns); otherwise only `fields` and the version are written, and only if nobody
    advanced the version meanwhile — else raise `stale()`."""
    old_version = record.version
    for name, value in derived.items():
        setattr(record, name, value)
    record.version = old_version + 1
    if old_version == 0:
        record.save()
        return
    changed = (
        type(record)
        ._default_manager.filter(pk=record.pk, version=old_version)
        .update(**{name: getattr(record, name) for name in (*fields, "version")})
    )
    if changed != 1:
        raise stale()


def audit_event(
    namespace: str,
    record: models.Model,
    event: Event,
    *,
    actor: Any,
    previous: str,
    agency_id: int | None,
) -> None:
    """The audit entry of an event: `<namespace>.<action>` on `record`, with the sequence
    number, the states before (`previous`) and after, and the event's data."""
    log.record(
        f"{namespace}.{event.action}",
        actor=actor_user(actor),
        obj=record,
        agency_id=agency_id,
        at=event.at,
        data={
            "seq": event.seq,
            "from": previous,
            "to": event.to_state,
            **event.data,
        },
    )


def audit_refusal(
    namespace: str,
    record: models.Model,
    action: str,
    error: DomainError,
    *,
    actor: Any,
    agency_id: int | None,
    now: dt.datetime,
) -> None:
    """Record a refused action (the only trace it leaves): `<namespace>.refused` on `record`
    by `actor` (a saved user, else the system), with the action and the error's code and
    message. Written in its own savepoint; a failure here is logged, never raised, so that
    it cannot mask the refusal itself."""
    try:
        with transaction.atomic():
            log.record(
                f"{namespace}.refused",
                actor=actor_user(actor),
                obj=record,
                agency_id=agency_id,
                at=now,
                data={"action": action, "code": error.code, "message": error.message},
            )
    except Exception:  # never mask the original refusal
        logger.exception("could not audit a refused %s action", namespace)
