"""Who a record's owner is, for the access rules of the engines: the citizen who submitted a
dossier (its applicant) or sent a PAKN (its sender) acts on it and is named on its events by
the personal-data rules, unlike officers."""

from __future__ import annotations

from typing import Any


def is_owner(user: Any, owner_id: int | None) -> bool:
    """True if `user` is the signed-in owner `owner_id` of a record (None: no account)."""
    return owner_id is not None and getattr(user, "pk", None) is not None and owner_id == user.pk


def by_owner(event: Any, owner_id: int | None) -> bool:
    """True if `event` was taken by the record's owner `owner_id` (not by an officer or the
    system)."""
    return event.actor_id is not None and event.actor_id == owner_id
