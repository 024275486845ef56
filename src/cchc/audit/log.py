"""Writing audit entries. Every service calls `record` inside its transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection, models
from django.utils import timezone

from cchc.audit import chain
from cchc.audit.models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, models.QuerySet):
        return [str(pk) for pk in value.values_list("pk", flat=True)]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    action: str,
    *,
    actor: Any,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    agency_id: int | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append an audit entry for `action` (namespaced, e.g. ``catalog.procedure.updated``).

    Must run inside the transaction of the change it records, so that the change and its
    entry commit or roll back together; outside a transaction it raises RuntimeError.
    `actor` is a user or None for the system itself.
    """
    if not connection.in_atomic_block:
        raise RuntimeError(f"audit.record({action!r}) called outside a transaction")
    entry = entry_for(action, actor=actor, obj=obj, data=data, agency_id=agency_id, at=at)
    entry.save()
    return entry


def entry_for(
    action: str,
    *,
    actor: Any,
    obj: models.Model | None = None,
    data: dict[str, Any] | None = None,
    agency_id: int | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """The unsaved entry `record` would write (for `record_many`)."""
    user = actor if getattr(actor, "pk", None) is not None else None
    label = getattr(actor, "username", "") if user is not None else "hệ thống"
    return AuditEntry(
        action=action,
        actor=user,
        actor_label=label,
        at=at or timezone.now(),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        agency_id=agency_id,
        data=_jsonable(data or {}),
    )


def record_many(entries: list[AuditEntry]) -> None:
    """Append many entries made by `entry_for` at once (a batch of changes in one
    transaction, such as an import), chained in list order after one locked read of the
    head."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit.record_many called outside a transaction")
    if not entries:
        return
    chain.link(entries, connection)
    AuditEntry.objects.bulk_create(entries, batch_size=2000)


def changes(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The {field: [old, new]} map of `fields` that differ from the `before` snapshot."""
    out: dict[str, Any] = {}
    for name in fields:
        new = getattr(instance, name)
        if before.get(name) != new:
            out[name] = [_jsonable(before.get(name)), _jsonable(new)]
    return out


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}
