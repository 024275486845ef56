"""The holder's data store (kho quản lý dữ liệu điện tử của tổ chức, cá nhân; issue 21 item 4):
where a signed e-result is delivered so that the citizen or organisation keeps it.

`Store` is the adapter interface: `deliver(parcel)` hands one signed issued document to the
store of its holder — identified by the holder's ID number (số định danh cá nhân / mã số
thuế) — with its kind, title, dossier code, procedure code, issue date, SHA-256, file name
and bytes, under an idempotency key (a repeated delivery with the same key returns the same
receipt and keeps one copy); it returns the store's receipt id. `delivered(holder, key)`
asks whether (and under which receipt) a delivery was kept; `documents(holder)` lists what
the store keeps for a holder.

Two implementations, chosen by `CCHC_DATASTORE`:

- `local` (`LocalStore`, the default): the store inside this system — one `DatastoreItem`
  row per document, the bytes kept by content hash in the file store (`dossiers.files`).
  A province without the national connection uses it; it is what the citizen sees at
  "Kho dữ liệu của tôi" on the portal.
- `national` (`NationalStore`): HTTP JSON to `CCHC_DATASTORE_URL` with a bearer token
  (`CCHC_DATASTORE_TOKEN`) and a time-out (`CCHC_DATASTORE_TIMEOUT`). Errors are classified
  as in `cchc.national.client`: a time-out, a refused connection, HTTP 5xx/408/429 or an
  unreadable answer is *transient* (retried with back-off by the worker); a refusal of the
  content (``ok: false`` with a 4xx-like ``error_code``) is *permanent*. The protocol is
  this system's own (UNVERIFIED against the national store, whose interface is not public);
  `cchc.nationalsim.datastore` serves it for development and tests. A relative URL is served
  in-process, as the national client does for its simulator.

`off` delivers nothing. Only the worker calls a store (`cchc.dossiers.datastore_delivery`),
never a request.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from cchc.dossiers import files
from cchc.dossiers.models import DatastoreItem
from cchc.errors import RemoteError
from cchc.jobs import remote

LOCAL, NATIONAL, OFF = "local", "national", "off"


class DatastoreError(RemoteError):
    """A delivery to the holder's data store failed. `transient`: worth retrying later."""

    code = "datastore.error"


@dataclass(frozen=True)
class Parcel:
    """One signed issued document for the holder's store."""

    holder_id_number: str
    key: str  # idempotency key: the same on every attempt
    kind: str  # IssuedKind value
    title: str
    dossier_code: str
    procedure_code: str
    issued_on: dt.date
    sha256: str
    filename: str
    content: bytes


@dataclass(frozen=True)
class StoredDocument:
    """What a store keeps for a holder (one row of "Kho dữ liệu của tôi")."""

    receipt: str
    kind: str
    title: str
    dossier_code: str
    procedure_code: str
    issued_on: dt.date
    sha256: str
    filename: str
    size: int
    received_at: dt.datetime
    item_id: int | None = None  # the local store's row (download link)


class Store(Protocol):
    """The adapter every data store implements."""

    name: str

    def deliver(self, parcel: Parcel) -> str:
        """Keep `parcel` in its holder's store; return the receipt id (the same receipt for
        a repeated key). Raises `DatastoreError`."""
        ...

    def delivered(self, holder_id_number: str, key: str) -> str | None:
        """The receipt of the delivery `key` to `holder_id_number`, or None if not kept."""
        ...

    def documents(self, holder_id_number: str) -> list[StoredDocument]:
        """What the store keeps for `holder_id_number`, newest first."""
        ...


def config() -> dict[str, Any]:
    return dict(getattr(settings, "CCHC_DATASTORE", {}) or {})


def backend() -> str:
    """The configured store: "local", "national" or "off"."""
    name = str(config().get("backend", LOCAL) or LOCAL)
    return name if name in (LOCAL, NATIONAL, OFF) else LOCAL


def store() -> Store | None:
    """The configured store, or None when delivery is off."""
    name = backend()
    if name == OFF:
        return None
    if name == NATIONAL:
        return NationalStore(config())
    return LocalStore()


def new_receipt() -> str:
    return "KDL-" + base64.b32encode(secrets.token_bytes(10)).decode("ascii")


# -- local -----------------------------------------------------------------------------------


def _stored(item: DatastoreItem) -> StoredDocument:
    return StoredDocument(
        receipt=item.receipt,
        kind=item.kind,
        title=item.title,
        dossier_code=item.dossier_code,
        procedure_code=item.procedure_code,
        issued_on=item.issued_on,
        sha256=item.sha256,
        filename=item.filename,
        size=item.size,
        received_at=item.received_at,
        item_id=item.pk,
    )


class LocalStore:
    """The store inside this system: `DatastoreItem` rows, bytes by content hash."""

    name = LOCAL

    def __init__(self, *, document_id: int | None = None, dossier_id: int | None = None) -> None:
        # The issued document and dossier the next parcel comes from (local rows link them).
        self.document_id = document_id
        self.dossier_id = dossier_id

    def deliver(self, parcel: Parcel) -> str:
        if self.document_id is None or self.dossier_id is None:
            raise DatastoreError(
                "Kho dữ liệu trong hệ thống chỉ nhận văn bản đã phát hành của hồ sơ.",
                transient=False,
                error_code="local.no_document",
            )
        found = DatastoreItem.objects.filter(key=parcel.key).first()
        if found is not None:
            return self._same(found, parcel)
        upload = files.Upload(parcel.filename, "application/pdf", parcel.content, parcel.sha256)
        path = files.store(upload)
        try:
            with transaction.atomic():
                item = DatastoreItem.objects.create(
                    holder_id_number=parcel.holder_id_number,
                    key=parcel.key,
                    receipt=new_receipt(),
                    document_id=self.document_id,
                    dossier_id=self.dossier_id,
                    kind=parcel.kind,
                    title=parcel.title[:300],
                    dossier_code=parcel.dossier_code,
                    procedure_code=parcel.procedure_code,
                    issued_on=parcel.issued_on,
                    filename=parcel.filename[:200],
                    sha256=parcel.sha256,
                    size=len(parcel.content),
                    path=path,
                    received_at=timezone.now(),
                )
        except IntegrityError:  # the same key delivered concurrently: one row wins
            won = DatastoreItem.objects.filter(key=parcel.key).first()
            if won is None:
                raise
            return self._same(won, parcel)
        return item.receipt

    @staticmethod
    def _same(item: DatastoreItem, parcel: Parcel) -> str:
        if item.holder_id_number != parcel.holder_id_number or item.sha256 != parcel.sha256:
            raise DatastoreError(
                "Khóa gửi đã được dùng cho một văn bản khác.",
                transient=False,
                error_code="local.key_reused",
            )
        return item.receipt

    def delivered(self, holder_id_number: str, key: str) -> str | None:
        return (
            DatastoreItem.objects.filter(holder_id_number=holder_id_number, key=key)
            .values_list("receipt", flat=True)
            .first()
        )

    def documents(self, holder_id_number: str) -> list[StoredDocument]:
        if not holder_id_number:
            return []
        rows = DatastoreItem.objects.filter(holder_id_number=holder_id_number)
        return [_stored(item) for item in rows.order_by("-received_at", "-id")]


# -- national (HTTP JSON) ---------------------------------------------------------------------


class NationalStore:
    """The national data store over HTTP JSON (protocol: module docstring; UNVERIFIED).

    Every call POSTs one JSON object ``{"action": …, …}`` with ``Authorization: Bearer
    <token>``; an answer is ``{"ok": true, …}`` or ``{"ok": false, "error_code": …,
    "message": …}``. Actions: ``deliver`` (fields of `Parcel`, ``content_base64``; answer
    ``receipt``), ``status`` (``holder``, ``key``; answer ``delivered``, ``receipt``),
    ``list`` (``holder``; answer ``documents``)."""

    name = NATIONAL

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        self.url = str(cfg.get("url") or "")
        self.token = str(cfg.get("token") or "")
        self.timeout = float(cfg.get("timeout", 15))

    def deliver(self, parcel: Parcel) -> str:
        answer = self._call(
            {
                "action": "deliver",
                "holder": parcel.holder_id_number,
                "key": parcel.key,
                "kind": parcel.kind,
                "title": parcel.title,
                "dossier_code": parcel.dossier_code,
                "procedure_code": parcel.procedure_code,
                "issued_on": parcel.issued_on.isoformat(),
                "sha256": parcel.sha256,
                "filename": parcel.filename,
                "content_base64": base64.b64encode(parcel.content).decode("ascii"),
            },
            key=parcel.key,
        )
        receipt = str(answer.get("receipt") or "")
        if not receipt:
            raise DatastoreError(
                "Kho dữ liệu quốc gia không trả mã biên nhận.", transient=True, error_code=""
            )
        return receipt[:120]

    def delivered(self, holder_id_number: str, key: str) -> str | None:
        answer = self._call({"action": "status", "holder": holder_id_number, "key": key})
        if not answer.get("delivered"):
            return None
        return str(answer.get("receipt") or "")[:120] or None

    def documents(self, holder_id_number: str) -> list[StoredDocument]:
        answer = self._call({"action": "list", "holder": holder_id_number})
        out = []
        for item in answer.get("documents") or []:
            try:
                out.append(
                    StoredDocument(
                        receipt=str(item["receipt"]),
                        kind=str(item.get("kind", "")),
                        title=str(item.get("title", "")),
                        dossier_code=str(item.get("dossier_code", "")),
                        procedure_code=str(item.get("procedure_code", "")),
                        issued_on=dt.date.fromisoformat(str(item["issued_on"])),
                        sha256=str(item.get("sha256", "")),
                        filename=str(item.get("filename", "")),
                        size=int(item.get("size", 0)),
                        received_at=dt.datetime.fromisoformat(str(item["received_at"])),
                    )
                )
            except (KeyError, TypeError, ValueError):
                raise DatastoreError(
                    "Kho dữ liệu quốc gia trả về danh sách không hợp lệ.", transient=True
                ) from None
        return out

    # The transport, classified like cchc.national.client.
    def _call(self, body: Mapping[str, Any], *, key: str = "") -> dict[str, Any]:
        if not self.url:
            raise DatastoreError(
                "Chưa cấu hình địa chỉ kho dữ liệu quốc gia (CCHC_DATASTORE_URL).",
                transient=False,
                error_code="not_configured",
            )
        answer = remote.post_json(
            self.url,
            body,
            timeout=self.timeout,
            name="Kho dữ liệu quốc gia",
            error=DatastoreError,
            key=key,
            headers={"Authorization": f"Bearer {self.token}"},
            simulator_off="Mô phỏng kho dữ liệu không được bật (CCHC_DVCQG_SIMULATOR).",
        )
        if answer.get("ok") is True:
            return answer
        code = str(answer.get("error_code", "") or "")
        message = str(answer.get("message") or f"mã lỗi {code or 'không rõ'}")
        raise DatastoreError(
            f"Kho dữ liệu quốc gia từ chối: {message}"[:500],
            transient=code.startswith("5") or code in ("408", "429"),
            error_code=code[:20],
        )
