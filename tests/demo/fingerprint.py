"""A fingerprint of what the demo data writes: a SHA-256 per table over every row of the
dossier tables (dossiers, events, components, fees, results, code counters), the payment
records the generator writes (receipts, paid gateway orders, receipt counters) and the
indicator cells rebuilt after the load, rows ordered by primary key.

Used to show that a refactoring of the generator (or of the payload builders it shares with
the services) leaves every generated row unchanged: `tests/demo/test_generator_fingerprint.py`
(golden hashes for a small load) and `scripts/generator_fingerprint.py` (any size, on a
fresh SQLite file). Only the columns named in the golden file are hashed, so that a column
added later by another change does not hide which table changed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tests.conftest import VN

GOLDEN = Path(__file__).with_name("generator_fingerprint.json")
BASE_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)  # the base demo set (live dossiers)
YEAR_NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=VN)  # the year 2024 is over
TABLES = (
    "dossiers.Dossier",
    "dossiers.DossierEvent",
    "dossiers.DossierComponent",
    "dossiers.DossierFee",
    "dossiers.DossierResult",
    "dossiers.CodeCounter",
    "payments.Receipt",
    "payments.PaymentOrder",
    "payments.ReceiptCounter",
    "indicators.Cell",
)


def restart_ids() -> None:
    """Ids as in a new database, so the hashes (which include ids and foreign keys) do not
    depend on the tests that ran before on the same worker: SQLite's AUTOINCREMENT keeps
    counting past rows that earlier transactional tests committed and flushed. Without its
    counters the next id is max(id) + 1, 1 in an empty table. Rolled back with the test."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sqlite_sequence")


def load(n: int, *, seed: int) -> Any:
    """The base demo set, then `n` dossiers of 2024 with `seed` (as `cchc demo --dossiers`)."""
    from cchc.demo import scale
    from cchc.demo.loader import load_demo

    load_demo(now=BASE_NOW, password="mat-khau-dau-van-tay-2024")
    return scale.generate_year(n, year=2024, seed=seed, now=YEAR_NOW)


def _columns(label: str) -> list[str]:
    from django.apps import apps

    model = apps.get_model(label)
    return [f.column for f in model._meta.concrete_fields]


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)  # key order kept: it is stored
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


def fingerprint(columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """{table label: {"columns", "rows", "sha256"}} over the current database. `columns`
    restricts each table to the named columns (default: all of its current columns)."""
    from django.apps import apps

    out: dict[str, Any] = {}
    for label in TABLES:
        model = apps.get_model(label)
        names = (columns or {}).get(label) or _columns(label)
        fields = {f.column: f.attname for f in model._meta.concrete_fields}
        attnames = [fields[c] for c in names]
        digest = hashlib.sha256()
        count = 0
        for row in model.objects.order_by("pk").values_list(*attnames).iterator(2000):
            line = json.dumps([_value(v) for v in row], ensure_ascii=False, default=str)
            digest.update(line.encode())
            digest.update(b"\n")
            count += 1
        out[label] = {"columns": names, "rows": count, "sha256": digest.hexdigest()}
    return out


def golden(case: str) -> dict[str, Any]:
    """The recorded tables of `case`."""
    return dict(json.loads(GOLDEN.read_text(encoding="utf-8"))[case]["tables"])


def check_or_record(case: str, **params: Any) -> list[str]:
    """Compare the database with the golden fingerprint of `case` (differences, [] when
    equal); with CCHC_RECORD_FINGERPRINT set, record it instead (returns [])."""
    if os.environ.get("CCHC_RECORD_FINGERPRINT"):
        cases = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
        cases[case] = {**params, "tables": fingerprint()}
        GOLDEN.write_text(json.dumps(cases, indent=1) + "\n", encoding="utf-8")
        return []
    want = golden(case)
    got = fingerprint({label: t["columns"] for label, t in want.items()})
    return differences(got, want)


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Tables whose row count or hash differ."""
    return [
        f"{label}: {want[label]['rows']} rows {want[label]['sha256'][:12]} → "
        f"{got[label]['rows']} rows {got[label]['sha256'][:12]}"
        for label in want
        if (got[label]["rows"], got[label]["sha256"])
        != (want[label]["rows"], want[label]["sha256"])
    ]
