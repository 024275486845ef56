"""E-results delivered to the holder's data store (issue 21 item 4; 766 sub-indicator 3e).

End to end on the real path: an online dossier is returned, its owner downloads the e-result
(issued), the worker's job signs it with a real certificate (tests/signing/pki.py), the
signing transaction queues the delivery, the worker's job delivers it to the local store or
to the national store's simulator (`cchc.nationalsim.datastore`, in-process and over real
HTTP from pytest-django's live server), the dossier gets `result_in_datastore` through a
"note" event, and the 766 cell follows. Jobs run at once in-process (`CCHC_JOBS_SYNC`)
when their transaction's on-commit callbacks run."""

# ruff: noqa: F811  (fixtures imported from other test packages are parameters here)
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.test import Client

from cchc.audit.models import AuditEntry
from cchc.dossiers import datastore, datastore_delivery, issued
from cchc.dossiers.models import (
    DatastoreDelivery,
    DatastoreItem,
    DeliveryState,
    Dossier,
    IssuedDocument,
    IssuedKind,
    SignState,
)
from cchc.indicators import aggregates, periods
from cchc.indicators import services as indicators
from cchc.indicators.models import Cell
from cchc.indicators.services import Filters
from cchc.nationalsim import datastore as sim
from cchc.portal.models import CitizenProfile
from tests.portal.conftest import _private_dirs, clock, portal  # noqa: F401
from tests.portal.test_citizen_results import returned, signed_in
from tests.signing.conftest import desk_p12, pki, signing_config  # noqa: F401

pytestmark = pytest.mark.django_db

SIM_URL = "/gia-lap-dvcqg/kho-du-lieu/api/"
HOLDER = "024190001234"  # the portal fixture's citizens (both typed the same ID number)


@pytest.fixture(autouse=True)
def _signing(settings: Any, pki: Any, desk_p12: str) -> None:
    config = signing_config(pki, desk_p12)
    config["profiles"]["agency"] = dict(config["profiles"]["desk"], reason="Cấp kết quả")
    settings.CCHC_SIGNING = config
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    settings.CCHC_JOBS_SYNC = True
    settings.CCHC_DATASTORE = {
        "backend": "local",
        "url": "",
        "token": "",
        "timeout": 5,
        "max_attempts": 4,
        "backoff_max_minutes": 60,
        "lease_minutes": 10,
    }
    sim.reset()


@pytest.fixture
def national(settings: Any) -> Any:
    settings.CCHC_DVCQG_SIMULATOR = True
    settings.CCHC_DATASTORE = {
        **settings.CCHC_DATASTORE,
        "backend": "national",
        "url": SIM_URL,
        "token": sim.TOKEN,
    }
    return sim.STATE


def signed_result(portal: Any, capture: Any) -> tuple[Dossier, IssuedDocument]:
    """A returned online dossier whose e-result the owner downloads (issued), then signed
    and delivered by the jobs the commits queue."""
    dossier = returned(portal)
    with capture(execute=True):
        response = signed_in(portal.citizen).get(f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/")
    assert response.status_code == 200
    doc = IssuedDocument.objects.get(dossier=dossier, kind=IssuedKind.RESULT)
    assert doc.signed == SignState.SIGNED, doc.sign_error  # signed by the worker's job
    dossier.refresh_from_db()
    return dossier, doc


def cells_3e() -> int:
    return int(Cell.objects.aggregate(n=Sum("datastore"))["n"] or 0)


def sub_3e(now: dt.datetime) -> Any:
    idx = indicators.index766(periods.parse(f"{now:%Y-%m}"), Filters(), now=now)
    return {s.code: s for g in idx.groups for s in g.subs}["3e"]


def run(*args: str) -> str:
    out = StringIO()
    call_command("datastore", *args, stdout=out)
    return out.getvalue()


# -- local store, end to end ------------------------------------------------------------------


def test_local_store_end_to_end_owner_only(
    portal: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert cells_3e() == 0
    dossier, doc = signed_result(portal, django_capture_on_commit_callbacks)
    row = DatastoreDelivery.objects.get()
    assert (row.state, row.backend, row.attempts) == (DeliveryState.SENT, "local", 1)
    assert row.holder_id_number == HOLDER and row.receipt.startswith("KDL-")
    item = DatastoreItem.objects.get()
    assert (item.receipt, item.sha256, item.dossier_code) == (row.receipt, doc.sha256, dossier.code)
    assert item.procedure_code == portal.procedure.code and item.kind == IssuedKind.RESULT
    assert item.title.startswith("Kết quả giải quyết")
    # The signed bytes are what the store keeps (same content hash, same stored file).
    assert item.path == doc.path and doc.unsigned_sha256 and doc.unsigned_sha256 != doc.sha256
    # The dossier's fact, carried by a "note" event to the cells; audited.
    assert dossier.result_in_datastore
    note = dossier.events.order_by("-seq").first()
    assert note.action == "note" and note.data["datastore"]["receipt"] == row.receipt
    assert "đã ký số được gửi vào kho dữ liệu" in note.reason
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"dossier.datastore.queued", "dossier.datastore.sent"} <= actions
    assert cells_3e() == 1 and aggregates.verify().clean

    # The owner's «Kho dữ liệu của tôi»: listed and downloadable, byte-identical.
    owner = signed_in(portal.citizen)
    page = owner.get("/dich-vu-cong/kho-du-lieu/").content.decode()
    assert "Kho dữ liệu của tôi" in page and row.receipt in page and dossier.code in page
    got = owner.get(f"/dich-vu-cong/kho-du-lieu/{item.pk}/")
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert got.content == issued.content(doc)
    assert hashlib.sha256(got.content).hexdigest() == item.sha256
    assert AuditEntry.objects.filter(action="portal.datastore.downloaded").count() == 1
    listing = owner.get("/dich-vu-cong/ho-so/").content.decode()
    assert 'href="/dich-vu-cong/kho-du-lieu/"' in listing
    detail = owner.get(f"/dich-vu-cong/ho-so/{dossier.code}/").content.decode()
    assert "Đã gửi vào kho dữ liệu của người nộp lúc" in detail and row.receipt in detail

    # Another citizen who typed the same (unproved) ID number sees nothing of it: 404.
    other = signed_in(portal.other_citizen)
    assert row.receipt not in other.get("/dich-vu-cong/kho-du-lieu/").content.decode()
    assert other.get(f"/dich-vu-cong/kho-du-lieu/{item.pk}/").status_code == 404
    # A VNeID-proved account of another ID number: nothing either.
    CitizenProfile.objects.filter(user=portal.other_citizen).update(
        id_number="001099000111", identity_provider="vneid", identity_subject="sub-2"
    )
    assert other.get(f"/dich-vu-cong/kho-du-lieu/{item.pk}/").status_code == 404
    anonymous = Client().get(f"/dich-vu-cong/kho-du-lieu/{item.pk}/")
    assert anonymous.status_code == 302 and "/dang-nhap/" in anonymous["Location"]
    officer = signed_in(portal.desk_officer).get("/dich-vu-cong/kho-du-lieu/")
    assert officer.status_code == 302
    assert AuditEntry.objects.filter(action="portal.datastore.downloaded").count() == 1
    # A second delivery run has nothing to do: the key keeps one copy.
    assert datastore_delivery.deliver(row.pk) == datastore_delivery.SKIPPED
    assert datastore_delivery.queue_missing() == 0
    assert DatastoreItem.objects.count() == 1


def test_nothing_is_queued_without_an_id_number_or_when_off(
    portal: Any, clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "backend": "off"}
    dossier, _ = signed_result(portal, django_capture_on_commit_callbacks)
    assert not DatastoreDelivery.objects.exists() and not dossier.result_in_datastore
    assert json.loads(run("deliver", "--json")) == {"backend": "off", "queued": 0}
    with pytest.raises(CommandError) as off:
        run("deliver", "--dossier", dossier.code)
    assert off.value.returncode == 2
    # Switched on again: the sweep finds the signed result without a delivery.
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "backend": "local"}
    with django_capture_on_commit_callbacks(execute=False):
        counts = json.loads(run("deliver", "--json"))
    assert (counts["queued"], counts["sent"]) == (1, 1)
    # A dossier without the applicant's ID number: nothing to deliver to.
    Dossier.objects.filter(pk=dossier.pk).update(applicant_id_number="")
    other = IssuedDocument(dossier=Dossier.objects.get(pk=dossier.pk), kind=IssuedKind.RESULT)
    other.signed = SignState.SIGNED
    assert datastore_delivery.on_signed(other) is None


# -- the national store (simulator) -------------------------------------------------------------


def test_national_store_retries_a_5xx_then_delivers_once(
    portal: Any, clock: Any, national: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sim.set_faults(fail_next=1)
    dossier, doc = signed_result(portal, django_capture_on_commit_callbacks)
    row = DatastoreDelivery.objects.get()
    assert (row.state, row.backend, row.attempts) == (DeliveryState.WAITING, "national", 1)
    assert row.error == "Kho dữ liệu quốc gia trả lỗi HTTP 503." and row.error_code == "503"
    assert row.next_attempt_at is not None and not dossier.result_in_datastore
    # Not due yet: the sweep leaves it; after the back-off it is delivered.
    assert datastore_delivery.deliver_due(now=clock())["sent"] == 0
    status = run("status")
    assert "chờ gửi 1" in status and "Lần gửi lại gần nhất: " in status
    later = row.next_attempt_at + dt.timedelta(seconds=1)
    # The answer of the next call is lost after the work: the retry keeps one copy.
    sim.set_faults(lost_next=1)
    assert datastore_delivery.deliver_due(now=later)["retry"] == 1
    row.refresh_from_db()
    assert datastore_delivery.deliver_due(now=row.next_attempt_at)["sent"] == 1
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.SENT, 3)
    assert [c[2] for c in national.calls] == ["failed", "lost", "ok"]
    assert {c[1] for c in national.calls} == {row.key}  # the same key on every attempt
    assert len(national.documents) == 1 and row.receipt == "QG-KDL-000001"
    kept = national.documents[row.key]
    assert kept["holder"] == HOLDER and kept["content"] == issued.content(doc)
    assert kept["dossier_code"] == dossier.code and kept["procedure_code"] == "1.009999"
    dossier.refresh_from_db()
    assert dossier.result_in_datastore and cells_3e() == 1
    assert not DatastoreItem.objects.exists()  # kept nationally, not here
    # The adapter's other questions, against the simulator.
    store = datastore.store()
    assert store is not None and store.delivered(HOLDER, row.key) == row.receipt
    assert store.delivered(HOLDER, "khac") is None
    (listed,) = store.documents(HOLDER)
    assert listed.receipt == row.receipt and listed.sha256 == doc.sha256
    # The citizen's store page lists the national receipt (no call during the request).
    page = signed_in(portal.citizen).get("/dich-vu-cong/kho-du-lieu/").content.decode()
    assert "Đã gửi vào kho dữ liệu quốc gia" in page and row.receipt in page


def test_a_refusal_is_failed_visible_and_retried_on_demand(
    portal: Any, clock: Any, national: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sim.set_faults(refuse_holders={HOLDER})
    dossier, _ = signed_result(portal, django_capture_on_commit_callbacks)
    row = DatastoreDelivery.objects.get()
    assert (row.state, row.attempts, row.error_code) == (DeliveryState.FAILED, 1, "403")
    assert row.error.startswith("Kho dữ liệu quốc gia từ chối: Chủ thể 024…234 chưa kích hoạt")
    assert AuditEntry.objects.filter(action="dossier.datastore.failed").count() == 1
    found = json.loads(run("status", "--json"))
    assert (found["failed"], found["sent"], found["backend"]) == (1, 0, "national")
    assert found["failed_deliveries"][0]["dossier"] == dossier.code
    assert "không thành công 1" in run("status")
    detail = signed_in(portal.citizen).get(f"/dich-vu-cong/ho-so/{dossier.code}/")
    assert "Gửi vào kho dữ liệu không thành công: Kho dữ liệu quốc gia từ chối" in (
        detail.content.decode()
    )
    with pytest.raises(CommandError) as failed:
        run("deliver", "--dossier", dossier.code)
    assert failed.value.returncode == 1
    # Retried while the store is down: waiting, exit 6.
    sim.set_faults(refuse_holders=set(), fail_next=1)
    with django_capture_on_commit_callbacks(execute=False), pytest.raises(CommandError) as down:
        run("retry", "--dossier", dossier.code)
    assert down.value.returncode == 6
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.WAITING, 1)
    clock.advance(minutes=5)
    assert "Đã gửi 1" in run("deliver", "--dossier", dossier.code)
    row.refresh_from_db()
    assert row.state == DeliveryState.SENT and cells_3e() == 1
    with pytest.raises(CommandError) as unknown:
        run("deliver", "--dossier", "KHONG-CO")
    assert unknown.value.returncode == 4


def test_attempts_are_spent_then_failed(
    portal: Any, clock: Any, national: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "max_attempts": 2}
    sim.set_faults(fail_next=5)
    signed_result(portal, django_capture_on_commit_callbacks)
    row = DatastoreDelivery.objects.get()
    assert row.state == DeliveryState.WAITING
    assert datastore_delivery.deliver(row.pk, now=row.next_attempt_at) == datastore_delivery.FAILED
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == (DeliveryState.FAILED, 2, None)
    assert datastore_delivery.backoff(1, jitter=lambda: 0.5) == dt.timedelta(minutes=1)
    assert datastore_delivery.backoff(3, jitter=lambda: 0.5) == dt.timedelta(minutes=4)


def test_a_worker_that_died_mid_send_is_taken_back(
    portal: Any, clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "backend": "off"}
    _, doc = signed_result(portal, django_capture_on_commit_callbacks)
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "backend": "local"}
    row = datastore_delivery.on_signed(doc)
    assert row is not None
    start = clock()
    DatastoreDelivery.objects.filter(pk=row.pk).update(
        state=DeliveryState.SENDING, claimed_at=start, attempts=1
    )
    assert datastore_delivery.deliver_due(now=start + dt.timedelta(minutes=5))["reclaimed"] == 0
    counts = datastore_delivery.deliver_due(now=start + dt.timedelta(minutes=11))
    assert (counts["reclaimed"], counts["sent"]) == (1, 1)
    row.refresh_from_db()
    assert (row.state, row.attempts) == (DeliveryState.SENT, 2)


# -- over real HTTP: a time-out --------------------------------------------------------------


def test_the_national_adapter_over_http_times_out_then_delivers(
    live_server: Any, settings: Any
) -> None:
    settings.CCHC_DVCQG_SIMULATOR = True
    settings.CCHC_DATASTORE = {
        **settings.CCHC_DATASTORE,
        "backend": "national",
        "url": live_server.url + SIM_URL,
        "token": sim.TOKEN,
        "timeout": 1,
    }
    content = b"%PDF-1.7\n% ket qua thu nghiem\n%%EOF\n"
    parcel = datastore.Parcel(
        holder_id_number=HOLDER,
        key="240603-0001:kq1:abcd",
        kind="result",
        title="Giấy phép thử nghiệm",
        dossier_code="240603-0001",
        procedure_code="1.009999",
        issued_on=dt.date(2024, 6, 3),
        sha256=hashlib.sha256(content).hexdigest(),
        filename="240603-0001-KQ1.pdf",
        content=content,
    )
    store = datastore.store()
    assert isinstance(store, datastore.NationalStore)
    sim.set_faults(slow_seconds=2.5)
    with pytest.raises(datastore.DatastoreError) as slow:
        store.deliver(parcel)
    assert slow.value.transient and slow.value.error_code == "timeout"
    assert "hết thời gian chờ" in slow.value.message
    sim.set_faults(slow_seconds=0)
    deadline = time.monotonic() + 10  # the slow request ends on the server before we go on
    while not sim.STATE.calls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sim.STATE.calls == [("deliver", parcel.key, "ok")]  # it did the work, late
    receipt = store.deliver(parcel)
    assert store.deliver(parcel) == receipt  # idempotent by key
    assert store.delivered(HOLDER, parcel.key) == receipt
    assert len(sim.STATE.documents) == 1
    # A wrong token is refused by the store (HTTP 401): permanent.
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "token": "sai"}
    with pytest.raises(datastore.DatastoreError) as refused:
        datastore.store().deliver(parcel)  # type: ignore[union-attr]
    assert not refused.value.transient and refused.value.error_code == "401"
    # Nothing listens: transient.
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "url": "http://127.0.0.1:9/api/"}
    with pytest.raises(datastore.DatastoreError) as closed:
        datastore.store().deliver(parcel)  # type: ignore[union-attr]
    assert closed.value.transient


def test_766_3e_counts_dossiers_whose_result_reached_the_store(
    portal: Any, clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "backend": "off"}
    first, _ = signed_result(portal, django_capture_on_commit_callbacks)
    settings.CCHC_DATASTORE = {**settings.CCHC_DATASTORE, "backend": "local"}
    second, _ = signed_result(portal, django_capture_on_commit_callbacks)
    paper = returned(portal, result_type="paper")  # returned, no electronic result
    assert second.result_in_datastore and not first.result_in_datastore
    s = sub_3e(clock())
    assert s.source == "dossiers" and (s.numerator, s.denominator) == (1, 2)
    assert s.points == Decimal("2.00")  # 4 points × 1/2
    assert cells_3e() == Dossier.objects.filter(result_in_datastore=True).count() == 1
    # The late delivery of the first result moves the cell through its "note" event.
    with django_capture_on_commit_callbacks(execute=True):
        run("deliver")
    assert cells_3e() == 2 and sub_3e(clock()).numerator == 2
    assert aggregates.verify().clean
    assert aggregates.rebuild() and cells_3e() == 2  # the rebuild agrees
    assert not Dossier.objects.get(pk=paper.pk).result_in_datastore
