"""Signals of the dossier engine.

`dossier_changed` is sent synchronously by `cchc.dossiers.services._append`, inside the
transaction of every dossier event, after the projection has been saved. Receivers (the
indicator aggregates, `cchc.indicators`) apply their change in the same transaction, so an
event and everything derived from it commit or roll back together.

Arguments: ``before`` — a dict of the dossier's stored fields (`TRACKED`) as they were before
the event, or None for a new dossier (its first event); ``after`` — the saved `Dossier`;
``event`` — the `DossierEvent` just appended.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

from cchc.dossiers.replay import Projection

dossier_changed = Signal()

# Sent by the bulk generator (`cchc.demo.generator.generate`) inside its transaction after
# writing rows directly, without events through `_append`: receivers recompute what they
# derive (``first_id``/``last_id``: the generated dossiers' id range).
dossiers_bulk_loaded = Signal()

# Sent by the dossier import (`cchc.dossiers.imported`) inside its transaction after writing
# dossiers directly: ``changes`` is a list of ``(before, after, electronic_before,
# electronic_after)`` — dicts of the `TRACKED` fields (``before`` None for a new dossier)
# and whether the dossier had, and has, an electronic result: what `dossier_changed` tells
# receivers one dossier at a time, for a whole batch.
dossiers_imported = Signal()

# Stored fields a receiver may compare before/after: the projection plus the intake facts.
TRACKED: tuple[str, ...] = (
    *Projection.STORED,
    "procedure_id",
    "receiving_agency_id",
    "competent_agency_id",
    "channel",
    "online_level",
    "return_channel",
    "fee_total",
    "digitised",
    "reused_data",
    "result_in_datastore",
    "certified_copy",
)


def snapshot(dossier: Any) -> dict[str, Any]:
    """The `TRACKED` fields of `dossier` as a plain dict."""
    return {name: getattr(dossier, name) for name in TRACKED}
