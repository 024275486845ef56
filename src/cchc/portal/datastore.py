"""«Kho dữ liệu của tôi»: the documents the citizen's data store keeps (issue 21 item 4;
the store is `cchc.dossiers.datastore`, delivery `cchc.dossiers.datastore_delivery`).

Whose documents: the store is keyed by the holder's ID number, and the ID number on a
portal account is only proved when the account signed in with VNeID (its profile carries the
provider's subject). So a citizen sees the documents kept under their profile's ID number
when that number was proved by VNeID, and otherwise only those that came from their own
dossiers (submitted from this account) — typing someone else's ID number at registration
shows nothing of theirs. Anyone else gets 404 for a document (never a hint that it exists).

With the local store the bytes are served from here (checked against their hash,
audited as `portal.datastore.downloaded`). With the national store the page lists what this
system delivered there (receipts); the documents themselves are in the national store —
this page never calls it during a request."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cchc.audit import log
from cchc.dossiers import datastore, files
from cchc.dossiers.digitisation import normalise_id
from cchc.dossiers.models import DatastoreDelivery, DatastoreItem, DeliveryState
from cchc.errors import Conflict, NotFound
from cchc.portal.models import CitizenProfile


@dataclass(frozen=True)
class Holder:
    id_number: str
    proved: bool  # the ID number came from VNeID


def holder_of(user: Any) -> Holder:
    profile = CitizenProfile.objects.filter(user_id=getattr(user, "pk", None)).first()
    if profile is None:
        return Holder("", False)
    return Holder(normalise_id(profile.id_number), bool(profile.identity_subject))


def items(user: Any) -> QuerySet[DatastoreItem]:
    """The local store's documents `user` may see (rules: module docstring)."""
    holder = holder_of(user)
    if not holder.id_number:
        return DatastoreItem.objects.none()
    mine = DatastoreItem.objects.filter(holder_id_number=holder.id_number)
    if not holder.proved:
        mine = mine.filter(dossier__applicant_user_id=user.pk)
    return mine.order_by("-received_at", "-id")


def sent_elsewhere(user: Any) -> QuerySet[DatastoreDelivery]:
    """Deliveries of the citizen's results to another store (national), with receipts."""
    holder = holder_of(user)
    if not holder.id_number:
        return DatastoreDelivery.objects.none()
    rows = DatastoreDelivery.objects.filter(
        holder_id_number=holder.id_number, state=DeliveryState.SENT
    ).exclude(backend=datastore.LOCAL)
    if not holder.proved:
        rows = rows.filter(Q(dossier__applicant_user_id=user.pk))
    return rows.select_related("document", "dossier").order_by("-sent_at", "-id")


@dataclass(frozen=True)
class Download:
    filename: str
    content: bytes


def download(user: Any, pk: int, *, now: dt.datetime | None = None) -> Download:
    """One document of the citizen's local store, audited; NotFound for anyone else's."""
    item = items(user).filter(pk=pk).first()
    if item is None:
        raise NotFound(
            "Không tìm thấy văn bản này trong kho dữ liệu của bạn.", code="datastore.not_found"
        )
    path = files.open_stored(item.path)
    data = path.read_bytes() if path.is_file() else b""
    if hashlib.sha256(data).hexdigest() != item.sha256:
        raise Conflict(
            "Bản lưu trong kho dữ liệu không còn nguyên vẹn; liên hệ quản trị hệ thống.",
            code="datastore.damaged",
        )
    with transaction.atomic():
        log.record(
            "portal.datastore.downloaded",
            actor=user,
            obj=item.dossier,
            at=now or timezone.now(),
            data={"item": item.pk, "receipt": item.receipt},
        )
    return Download(item.filename, data)
