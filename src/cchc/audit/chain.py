"""The audit log's hash chain (chuỗi mã băm): each entry carries the SHA-256 of its own
content and of the previous entry's hash, so that altering, removing or reordering an entry
breaks the chain at that point (`verify`).

- Content hashed: a canonical JSON (sorted keys, no spaces, UTF-8) of action, actor_id,
  actor_label, at (ISO 8601 in UTC), object_type, object_id, object_repr, agency_id and
  data, followed by the previous hash. The id is not hashed: it is only known after the
  INSERT, and rows cannot be updated afterwards. The chain's order is the order of ids.
- The first entry's previous hash is `GENESIS` (64 zeros).
- Appends are serialised so the chain cannot fork: on PostgreSQL the writer takes a
  transaction-level advisory lock before reading the head, so a second writer waits until
  the first commits or rolls back, then reads the new head; its ids come from the sequence
  after that, so they follow. On SQLite every transaction begins IMMEDIATE (cchc.config), so
  the head is read under the database's write lock.
- Limitation: the hash has no secret. Someone able to write the table (bypassing the
  triggers) could rewrite every entry from a point on with fresh hashes, or drop the last
  entries. `verify` catches the second with an anchor (an entry id and hash recorded outside
  the database, e.g. from yesterday's `cchc audit verify` output) and the first when the
  anchor lies after the rewritten point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64
# pg_advisory_xact_lock key: "cchc audit chain" (any constant, used for nothing else).
ADVISORY_LOCK_KEY = 0x63636863_61756474
HASHED_FIELDS = (
    "action",
    "actor_id",
    "actor_label",
    "at",
    "object_type",
    "object_id",
    "object_repr",
    "agency_id",
    "data",
)


def _number_stable(value: Any) -> Any:
    """Integral floats as ints: PostgreSQL's jsonb gives back 1e20 as an integer."""
    if isinstance(value, dict):
        return {k: _number_stable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number_stable(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _utc(instant: dt.datetime) -> str:
    return instant.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical(values: dict[str, Any]) -> bytes:
    """The bytes hashed for an entry given its `HASHED_FIELDS` values."""
    content = {name: values[name] for name in HASHED_FIELDS}
    content["at"] = _utc(content["at"])
    # Through JSON and back: tuples become lists, keys strings, as the stored JSON reads.
    content["data"] = _number_stable(json.loads(json.dumps(content["data"] or {})))
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(values: dict[str, Any], prev_hash: str) -> str:
    """Hex SHA-256 of the entry's canonical content followed by `prev_hash`."""
    return hashlib.sha256(canonical(values) + prev_hash.encode()).hexdigest()


def values_of(entry: Any) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


def head(connection: Any) -> str:
    """The last entry's hash, read after taking the chain's append lock (PostgreSQL) or
    under the write lock (SQLite). Call inside the transaction that will append."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        cursor.execute("SELECT hash FROM audit_auditentry ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    return row[0] if row and row[0] else GENESIS


def link(entries: Iterable[Any], connection: Any) -> None:
    """Set `prev_hash` and `hash` on unsaved `entries`, in the order they will be
    inserted, after the current head."""
    prev = head(connection)
    for entry in entries:
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(values_of(entry), prev)


@dataclass(frozen=True)
class Problem:
    """Where the chain breaks. kind: altered (the entry's content or hash changed),
    broken (the link to the previous entry: an entry between was deleted, or the previous
    one altered and re-hashed), anchor_missing, anchor_mismatch."""

    kind: str
    entry_id: int
    after_id: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "entry_id": self.entry_id,
            "after_id": self.after_id,
            "message": self.message,
        }


@dataclass
class Report:
    checked: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    problem: Problem | None = None
    anchors: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "checked": self.checked,
            "head": {"id": self.head_id, "hash": self.head_hash},
            "anchors_checked": self.anchors,
            "problem": self.problem.as_dict() if self.problem else None,
        }


def _rows(batch: int) -> Iterator[dict[str, Any]]:
    from cchc.audit.models import AuditEntry  # the model imports this module

    names = ["id", "prev_hash", "hash", *HASHED_FIELDS]
    qs = AuditEntry.objects.order_by("id").values(*names)
    yield from qs.iterator(chunk_size=batch)


def verify(*, anchors: dict[int, str] | None = None, batch: int = 5000) -> Report:
    """Walk the log in id order and report the first entry whose hash or link does not
    hold, and any anchor (id → hash recorded elsewhere) that is gone or differs."""
    anchors = dict(anchors or {})
    report = Report()
    prev_hash, prev_id = GENESIS, None
    for row in _rows(batch):
        report.checked += 1
        entry_id = row["id"]
        if entry_hash(row, row["prev_hash"]) != row["hash"]:
            report.problem = Problem(
                "altered",
                entry_id,
                prev_id,
                f"Bản ghi nhật ký #{entry_id} đã bị sửa: nội dung không khớp mã băm đã lưu.",
            )
            return report
        if row["prev_hash"] != prev_hash:
            where = f"giữa #{prev_id} và #{entry_id}" if prev_id else f"trước #{entry_id}"
            report.problem = Problem(
                "broken",
                entry_id,
                prev_id,
                f"Chuỗi nhật ký bị đứt {where}: có bản ghi bị xóa"
                + (f", hoặc bản ghi #{prev_id} bị sửa rồi tính lại mã băm." if prev_id else "."),
            )
            return report
        if entry_id in anchors:
            expected = anchors.pop(entry_id)
            report.anchors.append(entry_id)
            if expected != row["hash"]:
                report.problem = Problem(
                    "anchor_mismatch",
                    entry_id,
                    prev_id,
                    f"Bản ghi mốc #{entry_id} có mã băm {row['hash']}, khác mã đã ghi nhận "
                    f"{expected}: nhật ký đã bị viết lại từ bản ghi này trở về trước.",
                )
                return report
        prev_hash, prev_id = row["hash"], entry_id
    report.head_id, report.head_hash = prev_id, prev_hash
    if anchors:
        missing = min(anchors)
        report.problem = Problem(
            "anchor_missing",
            missing,
            prev_id,
            f"Không còn bản ghi mốc #{missing} trong nhật ký (bản ghi cuối hiện là "
            f"#{prev_id or '—'}): các bản ghi từ #{missing} đã bị xóa.",
        )
    return report
