"""Writing a batch of the columnar dossier import (`cchc.interop.columnar` reads and checks
it): existing dossiers fetched for the batch's codes in one query and the content digests
compared in bulk (unchanged rows write nothing; changed rows and rows of another source go
through `imported.store`, the reference); new dossiers built by column — the projection of
`replay.project_import`, the outcome by `legaltime.bulk.bulk_classify`, the event's JSON by
string concatenation — and written with one executemany (SQLite) or COPY (PostgreSQL) per
table (`cchc.dossiers.rows.Writer`).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import polars as pl
from django.db import connection

from cchc.dossiers import imported, signals
from cchc.dossiers.imported import WITH_RESULT, Outcome
from cchc.dossiers.models import (
    OPEN_STATES,
    Dossier,
    DossierEvent,
    DossierResult,
    PaymentChannel,
    State,
)
from cchc.dossiers.rows import COLUMNS, Writer
from cchc.dossiers.services import _label
from cchc.interop.columnar import US, UTC, VN_US, Batch, _from_us, _us
from cchc.legaltime.bulk import bulk_classify, outcomes
from cchc.vietnamese import fold

# -- writing a batch ---------------------------------------------------------------------------


def _existing(codes: list[str]) -> dict[str, tuple[int, str, str]]:
    existing: dict[str, tuple[int, str, str]] = {}
    for lo in range(0, len(codes), 2000):
        for pk, code, src, digest in Dossier.objects.filter(
            code__in=codes[lo : lo + 2000]
        ).values_list("pk", "code", "source", "source_digest"):
            existing[code] = (pk, src, digest)
    return existing


def store(
    batch: Batch,
    *,
    source: str,
    run_id: int | None,
    actor: Any,
    now: dt.datetime,
    dry_run: bool = False,
) -> list[Outcome]:
    """`imported.store` for a columnar batch: same outcomes, same rows. Must run inside a
    transaction; with `dry_run` only decides."""
    codes = batch.frame["code"].to_list()
    digests = batch.frame["digest"].to_list()
    existing = _existing(codes)
    out: list[Outcome | None] = [None] * len(codes)
    new: list[int] = []
    other: list[int] = []  # existing, not unchanged: the reference path decides
    for i, code in enumerate(codes):
        found = existing.get(code)
        if found is None:
            new.append(i)
            out[i] = Outcome(i, "created")
        elif found[1] == source and found[2] == digests[i]:
            out[i] = Outcome(i, "unchanged")
        else:
            other.append(i)
    if other:
        decided = imported.store(
            batch.facts(other), source=source, run_id=run_id, actor=actor, now=now,
            dry_run=dry_run,
        )  # fmt: skip
        for o in decided:
            i = other[o.index]
            out[i] = Outcome(i, o.outcome, o.reason)
    if new and not dry_run:
        _create(batch, new, source=source, run_id=run_id, actor=actor, now=now)
    return [o for o in out if o is not None]


def _stamps(values: pl.Expr, postgres: bool) -> pl.Expr:
    """UTC text of epoch-µs instants as `imported._create` writes them."""
    moment = values.cast(pl.Datetime("us"))
    whole = moment.dt.strftime("%Y-%m-%d %H:%M:%S")
    frac = values % US
    text_ = (
        pl.when(frac != 0).then(whole + "." + frac.cast(pl.String).str.zfill(6)).otherwise(whole)
    )
    return text_ + "+00" if postgres else text_


def _iso(values: pl.Expr) -> pl.Expr:
    """JSON of `dt.datetime.isoformat()` of the instants in Vietnamese time (null: null)."""
    local = values + VN_US
    whole = local.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S")
    frac = values % US
    text_ = (
        pl.when(frac != 0).then(whole + "." + frac.cast(pl.String).str.zfill(6)).otherwise(whole)
    )
    return pl.when(values.is_null()).then(pl.lit("null")).otherwise('"' + text_ + '+07:00"')


def _json_bool(values: pl.Expr) -> pl.Expr:
    return pl.when(values).then(pl.lit("true")).otherwise(pl.lit("false"))


def _create(
    batch: Batch,
    indices: list[int],
    *,
    source: str,
    run_id: int | None,
    actor: Any,
    now: dt.datetime,
) -> None:
    """New dossiers: their rows built by column, one bulk insert per table."""
    postgres = connection.vendor == "postgresql"
    c = pl.col
    frame = batch.frame[indices] if len(indices) != len(batch) else batch.frame
    n = frame.height
    dossier_ids = imported._Ids.take(Dossier, n)
    event_ids = imported._Ids.take(DossierEvent, n)
    procs = batch.procedures
    desks = batch.desks
    proc_frame = pl.DataFrame(
        {
            "proc": list(range(len(procs))),
            "proc_id": [p.id for p in procs],
            "proc_name": [p.name for p in procs],
            "proc_title": [f"Kết quả giải quyết: {p.name}"[:300] for p in procs],
            "proc_matter": [p.name[:500] for p in procs],
            "proc_level": [p.online_level for p in procs],
            "proc_spec": [p.duration_spec for p in procs],
            "proc_folded": [p.folded for p in procs],
            "proc_json": [json.dumps(p.code, ensure_ascii=False) for p in procs],
        },
        schema_overrides={"proc": pl.Int64},
    )
    desk_frame = pl.DataFrame(
        {
            "desk": list(range(len(desks))),
            "desk_id": [d.id for d in desks],
            "calendar_code": [d.calendar_code for d in desks],
            "saturday_reception": [d.saturday_reception for d in desks],
        },
        schema_overrides={"desk": pl.Int64},
    )
    now_us = _us(now)
    f = (
        frame.with_columns(
            id=pl.Series(dossier_ids, dtype=pl.Int64), event_id=pl.Series(event_ids, dtype=pl.Int64)
        )
        .join(proc_frame, on="proc", how="left", maintain_order="left")
        .join(desk_frame, on="desk", how="left", maintain_order="left")
    )
    # Payment (`Facts.payment`), outcome (`legaltime.classify` in bulk), search text.
    paid_cash = c("paid") | (c("paid").is_null() & (c("state") == State.RETURNED))
    has_fee = c("fee") != 0
    f = f.with_columns(
        paid_amount=pl.when(has_fee & (c("paid_online") | paid_cash)).then(c("fee")).otherwise(0),
        payment_channel=pl.when(has_fee & c("paid_online"))
        .then(pl.lit(PaymentChannel.NATIONAL_PORTAL.value))
        .when(has_fee & paid_cash)
        .then(pl.lit(PaymentChannel.CASH.value))
        .otherwise(pl.lit("")),
    )
    judged = f.select(c("finished").is_not_null() & c("due").is_not_null())[:, 0].to_numpy()
    outcome = np.full(n, "", dtype=object)
    if judged.any():
        # Epoch seconds as `legaltime.to_epoch` takes them (truncated).
        due_s = np.trunc(f["due"].to_numpy()[judged] / US).astype(np.int64)
        done_s = np.trunc(f["finished"].to_numpy()[judged] / US).astype(np.int64)
        outcome[judged] = [str(o) for o in outcomes(bulk_classify(due_s, done_s, 0))]
    folded = [
        fold(f"{code} {name}")
        for code, name in zip(f["code"].to_list(), f["applicant_name"].to_list(), strict=True)
    ]
    rulesets: dict[dt.date, str] = {}
    days = [
        _from_us(v).date()  # type: ignore[union-attr]
        for v in f.select(pl.coalesce("received", "submitted"))[:, 0].to_list()
    ]
    f = f.with_columns(
        outcome=pl.Series(outcome.tolist(), dtype=pl.String),
        search_text=(pl.Series(folded, dtype=pl.String) + " " + c("proc_folded")).str.slice(0, 800),
        ruleset=pl.Series([imported.ruleset(rulesets, d) for d in days], dtype=pl.String),
    )
    # The event's data, as ``json.dumps(_event_data(...), ensure_ascii=False)`` writes it.
    src_json = json.dumps(source, ensure_ascii=False)
    run_json = json.dumps(run_id)
    data = pl.concat_str(
        [
            pl.lit('{"received_at": '), _iso(c("received")),
            pl.lit(', "due": '), _iso(c("due")),
            pl.lit(', "finished_at": '), _iso(c("finished")),
            pl.lit(', "returned_at": '), _iso(c("returned")),
            pl.lit(', "supplements": '), c("supplements").cast(pl.String),
            pl.lit(', "paid_amount": '), c("paid_amount").cast(pl.String),
            pl.lit(', "payment_channel": "'), c("payment_channel"),
            pl.lit('", "rating": "'), c("rating"),
            pl.lit('", "complaint": '), _json_bool(c("complaint")),
            pl.lit(', "agency": '), c("competent_id").cast(pl.String),
            pl.lit(', "procedure": '), c("proc_json"),
            pl.lit(', "channel": '), c("channel").cast(pl.String),
            pl.lit(', "fee_total": '), c("fee").cast(pl.String),
            pl.lit(', "digitised": '), _json_bool(c("digitised")),
            pl.lit(', "electronic_result": '), _json_bool(c("electronic")),
            pl.lit(f', "source": {src_json}, "run": {run_json}, "line": '),
            c("line").cast(pl.String),
            pl.lit("}"),
        ]
    )  # fmt: skip
    online = c("channel") == 2
    values: dict[str, pl.Expr] = {
        "id": c("id"),
        "code": c("code"),
        "ruleset": c("ruleset"),
        "procedure_id": c("proc_id"),
        "desk_id": c("desk_id"),
        "receiving_agency_id": c("receiving_id"),
        "competent_agency_id": c("competent_id"),
        "channel": c("channel"),
        "online_level": pl.when(online).then(c("proc_level")).otherwise(pl.lit("none")),
        "applicant_kind": pl.lit("person"),
        "applicant_name": c("applicant_name"),
        "applicant_id_number": c("applicant_id_number"),
        "applicant_address": c("applicant_address"),
        "applicant_phone": c("applicant_phone"),
        "applicant_email": pl.lit(""),
        "applicant_user_id": pl.lit(None, dtype=pl.Int64),
        "matter": pl.when(c("matter") != "").then(c("matter")).otherwise(c("proc_matter")),
        "sets": pl.lit(1),
        "return_channel": pl.when(online & c("electronic"))
        .then(pl.lit("online"))
        .otherwise(pl.lit("desk")),
        "duration_spec": c("proc_spec"),
        "step_plan": pl.lit("[]"),
        "calendar_code": c("calendar_code"),
        "saturday_reception": c("saturday_reception"),
        "submitted_at": c("submitted"),
        "search_text": c("search_text"),
        "is_demo": pl.lit(False),
        "fee_total": c("fee"),
        "digitised": c("digitised"),
        "reused_data": pl.lit(False),
        "source": pl.lit(source),
        "source_digest": c("digest"),
        "version": pl.lit(1),
        "state": c("state"),
        "is_open": c("state").is_in([str(s) for s in OPEN_STATES]),
        "queue_at": pl.coalesce("due", "received", pl.lit(now_us, dtype=pl.Int64)),
        "received_at": c("received"),
        "clock_start": c("received"),
        "original_due": c("due"),
        "due": c("due"),
        "paused_seconds": pl.lit(0),
        "paused_since": pl.lit(None, dtype=pl.Int64),
        "calendar_version": pl.lit(""),
        "extensions": pl.lit(0),
        "supplement_requests": c("supplements"),
        "step_index": pl.lit(0),
        "step_due": pl.lit(None, dtype=pl.Int64),
        "current_agency_id": c("competent_id"),
        "assignee_id": pl.lit(None, dtype=pl.Int64),
        "finished_at": c("finished"),
        "returned_at": c("returned"),
        "outcome": c("outcome"),
        "outcome_original": c("outcome"),
        "has_apology": pl.lit(False),
        "paid_amount": c("paid_amount"),
        "payment_channel": c("payment_channel"),
        "rating": c("rating"),
        "has_complaint": c("complaint"),
        "at_risk": pl.lit(False),
        "risk_note": pl.lit(""),
        "risk_checked_at": pl.lit(None, dtype=pl.Int64),
    }
    instants = {name for name in imported.INSTANTS} | {"submitted_at", "risk_checked_at"}
    # Columns this module does not know (added later to the model): their defaults.
    for name in COLUMNS[Dossier]:
        if name not in values:
            field = next(fl for fl in Dossier._meta.concrete_fields if fl.column == name)
            values[name] = pl.lit(field.get_db_prep_save(field.get_default(), connection))
    snapshot_frame = f.select(
        *(values[name].alias(name) for name in signals.TRACKED if name in values)
    )
    dossier_cols = COLUMNS[Dossier]
    dossiers = f.select(
        *(
            (_stamps(values[name], postgres) if name in instants else values[name]).alias(name)
            for name in dossier_cols
        )
    )
    event_cols = COLUMNS[DossierEvent]
    now_text = imported_stamp(now, postgres)
    event_values: dict[str, pl.Expr] = {
        "id": c("event_id"),
        "dossier_id": c("id"),
        "seq": pl.lit(1),
        "action": pl.lit("import"),
        "from_state": pl.lit(""),
        "to_state": c("state"),
        "actor_id": pl.lit(actor.pk if getattr(actor, "pk", None) is not None else None),
        "actor_label": pl.lit(_label(actor)),
        "at": pl.lit(now_text),
        "reason": pl.lit(f"Nhập từ {source}"),
        "data": data,
    }
    events = f.select(*(event_values[name].alias(name) for name in event_cols))
    with_result = f.filter(c("state").is_in([str(s) for s in WITH_RESULT]))
    result_ids = imported._Ids.take(DossierResult, with_result.height)
    result_values: dict[str, pl.Expr] = {
        "id": c("rid"),
        "dossier_id": c("id"),
        "number": pl.lit(1),
        "code": c("code") + "-KQ1",
        "title": c("proc_title"),
        "electronic": c("electronic"),
        "file_id": pl.lit(None, dtype=pl.Int64),
        "event_id": c("event_id"),
        "issued_at": _stamps(c("finished"), postgres),
    }
    results = with_result.with_columns(rid=pl.Series(result_ids, dtype=pl.Int64)).select(
        *(result_values[name].alias(name) for name in COLUMNS[DossierResult])
    )
    writer = Writer()
    writer.insert(Dossier, dossier_cols, dossiers.rows())
    writer.insert(DossierEvent, event_cols, events.rows())
    writer.insert(DossierResult, COLUMNS[DossierResult], results.rows())
    # The indicator cells: the batch's snapshots, as `imported._create` sends them.
    electronic = f.select(c("electronic") & c("state").is_in([str(s) for s in WITH_RESULT]))[
        :, 0
    ].to_list()
    rows = snapshot_frame.to_dicts()
    for row in rows:
        for name in instants:
            if name in row:
                row[name] = _from_us(row[name])
    changes = [(None, row, False, e) for row, e in zip(rows, electronic, strict=True)]
    signals.dossiers_imported.send(sender=Dossier, changes=changes)


def imported_stamp(value: dt.datetime, postgres: bool) -> str:
    text_ = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return text_ + "+00" if postgres else text_


__all__ = ["imported_stamp", "store"]
