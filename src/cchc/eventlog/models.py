"""The event table of a record (a dossier, a PAKN): one shape for every engine.

`event_model` builds the abstract model an engine's event table inherits from: the foreign
key to the record, then `seq`, `action`, `from_state`, `to_state`, `actor`, `actor_label`,
`at`, `reason`, `data`, ordered and unique by (record, seq), append-only. The engines differ
only in the width of their action and state codes and the label of `reason`, which are
arguments. A builder rather than one abstract class because Django orders a model's columns
by field creation: the record's key must be created before the shared fields to stay the
second column (the bulk writers insert rows in column order).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.db import models


class Event(models.Model):
    """Base of every event table. Append-only: the model refuses to update or delete a row
    (and each table's database triggers refuse raw SQL too)."""

    # The name of the foreign key to the record ("dossier", "feedback").
    subject_field: ClassVar[str]
    # The shared columns, declared by `event_model` (annotations only, for readers and tools).
    seq: int
    action: str
    from_state: str
    to_state: str
    actor_label: str
    at: dt.datetime
    reason: str
    data: dict[str, Any]

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{getattr(self, f'{self.subject_field}_id')}#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError(f"{self.subject_field} events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{self.subject_field} events are append-only")


def event_model(
    subject: str,
    to: str,
    *,
    action_length: int,
    state_length: int,
    reason_label: str,
) -> type[Event]:
    """The abstract event model of records of model `to` ("app_label.Model"), linked by the
    foreign key `subject` (reverse name `events`), with action codes up to `action_length`
    characters and state codes up to `state_length`. Its Meta orders by (record, seq) and
    holds the constraint `<subject>_event_seq_unique`: a concrete model extends it with
    `class Meta(Base.Meta)`."""
    meta = type(
        "Meta",
        (),
        {
            "abstract": True,
            "ordering": [subject, "seq"],
            "constraints": [
                models.UniqueConstraint(fields=[subject, "seq"], name=f"{subject}_event_seq_unique")
            ],
        },
    )
    fields: dict[str, Any] = {
        subject: models.ForeignKey(to, on_delete=models.PROTECT, related_name="events"),
        "seq": models.PositiveIntegerField("Số thứ tự"),
        "action": models.CharField("Hành động", max_length=action_length),
        "from_state": models.CharField("Từ trạng thái", max_length=state_length, blank=True),
        "to_state": models.CharField("Sang trạng thái", max_length=state_length),
        "actor": models.ForeignKey(
            settings.AUTH_USER_MODEL,
            null=True,
            blank=True,
            on_delete=models.PROTECT,
            related_name="+",
        ),
        "actor_label": models.CharField("Người thực hiện", max_length=200),
        "at": models.DateTimeField("Thời điểm (máy chủ)"),
        "reason": models.TextField(reason_label, blank=True),
        "data": models.JSONField(default=dict, blank=True),
    }
    name = f"{subject.title().replace('_', '')}EventBase"
    attrs = {"__module__": __name__, "__qualname__": name, "subject_field": subject, "Meta": meta}
    return type(name, (Event,), {**attrs, **fields})
