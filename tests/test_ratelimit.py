"""The one rate limiter of anonymous requests (`cchc.ratelimit`): counting per address and
per target in a sliding window, shared by every database connection (so by every worker
process), and applied to each anonymous request that does work, answering 429."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test import Client, RequestFactory

from tests.conftest import VN
from tests.payments.conftest import pay, world  # noqa: F401 - fixtures re-exported

T0 = dt.datetime(2024, 6, 3, 9, 0, tzinfo=VN)


@pytest.mark.django_db
def test_counts_per_address_and_per_target_in_a_sliding_window():
    from cchc.ratelimit.limiter import RateLimited, check
    from cchc.ratelimit.models import Hit

    def hit(address, target, minutes=0.0):
        check(
            "t",
            address=address,
            target=target,
            limit=3,
            window=600,
            now=T0 + dt.timedelta(minutes=minutes),
        )

    for i in range(3):
        hit("1.1.1.1", "A", i)
    with pytest.raises(RateLimited) as err:
        hit("1.1.1.1", "B", 3)  # the address is spent
    assert err.value.http_status == 429 and err.value.retry_after == 60
    assert "quá 3 yêu cầu trong 10 phút" in err.value.message
    with pytest.raises(RateLimited):
        hit("2.2.2.2", "a", 3)  # so is the target (compared case-insensitively)
    hit("2.2.2.2", "C", 3)  # another address, another target: free
    # No boundary to burst across: 9 minutes after the first hits they still count...
    with pytest.raises(RateLimited):
        hit("1.1.1.1", "D", 9)
    # ...and once the window has slid past them they are gone.
    hit("1.1.1.1", "E", 13.5)
    # Nothing personal is stored: keys are keyed hashes.
    assert not Hit.objects.filter(key__contains="1.1.1.1").exists()
    assert all(len(h.key) == 64 for h in Hit.objects.all())


@pytest.mark.django_db
def test_an_address_over_its_limit_does_not_use_up_the_target():
    from cchc.ratelimit.limiter import RateLimited, check

    for _ in range(2):
        check("t", address="6.6.6.6", limit=2, window=600, now=T0)
    for _ in range(5):
        with pytest.raises(RateLimited):
            check("t", address="6.6.6.6", target="VICTIM", limit=2, window=600, now=T0)
    for _ in range(2):
        check("t", address="7.7.7.7", target="VICTIM", limit=2, window=600, now=T0)


@pytest.mark.django_db
def test_old_buckets_are_purged():
    from cchc.ratelimit.limiter import check
    from cchc.ratelimit.models import Hit

    for i in range(20):
        check("t", address=f"10.0.0.{i}", limit=5, window=60, now=T0)
    assert Hit.objects.count() == 20
    check("t", address="10.0.1.1", limit=5, window=60, now=T0 + dt.timedelta(hours=1))
    assert Hit.objects.count() == 1


def test_the_count_is_shared_between_database_connections(transactional_db):
    """Two hits on the default connection, the third on another thread's own connection."""
    from cchc.ratelimit.limiter import RateLimited, check

    for _ in range(2):
        check("t", address="3.3.3.3", limit=2, window=600)
    outcome: list[object] = []

    def other_connection() -> None:
        try:
            assert connections["default"] is not connection
            check("t", address="3.3.3.3", limit=2, window=600)
            outcome.append("admitted")
        except RateLimited as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_connection)
    worker.start()
    worker.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], RateLimited)


@pytest.mark.postgres_only
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_parallel_requests_admit_exactly_the_limit(transactional_db):
    from cchc.ratelimit.limiter import RateLimited, check

    parallel, limit = 12, 5
    barrier = threading.Barrier(parallel)
    results: list[str] = []
    lock = threading.Lock()

    def request() -> None:
        try:
            barrier.wait(timeout=60)
            check("t", address="4.4.4.4", limit=limit, window=600)
            verdict = "ok"
        except RateLimited:
            verdict = "limited"
        finally:
            connections.close_all()
        with lock:
            results.append(verdict)

    threads = [threading.Thread(target=request) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) == ["limited"] * (parallel - limit) + ["ok"] * limit


def test_client_address_believes_forwarded_headers_only_from_trusted_proxies(settings):
    from cchc.ratelimit.web import client_address

    factory = RequestFactory()
    forged = factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_address(forged) == "203.0.113.9"
    settings.CCHC_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxied = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7, 10.0.0.5"
    )
    assert client_address(proxied) == "198.51.100.7"  # the rightmost hop not a proxy
    assert client_address(forged) == "203.0.113.9"  # not from a proxy: header ignored


def test_limits_are_configured_in_one_setting():
    from cchc.config import build

    limits = build({"CCHC_RATE_LIMITS": "pakn=3/30, ipn=0/1"})["CCHC_RATE_LIMITS"]
    assert limits["pakn"] == (3, 30) and limits["ipn"] == (0, 1) and limits["register"] == (10, 60)
    for bad in ("pakn=3", "nope=1/1", "pakn=x/5"):
        with pytest.raises(ImproperlyConfigured):
            build({"CCHC_RATE_LIMITS": bad})
    with pytest.raises(ImproperlyConfigured):
        build({"CCHC_PAYMENT_IPN_ALLOW": "not-an-address"})
    assert build({"CCHC_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16"})["CCHC_TRUSTED_PROXIES"] == [
        "10.0.0.1",
        "10.1.0.0/16",
    ]


# -- every anonymous request that does work answers 429 over its limit -------------------------


def _track(pay):  # noqa: F811
    return "post", "/dich-vu-cong/tra-cuu/", {"code": pay.dossier.code, "factor": "1"}


def _register(pay):  # noqa: F811
    return "post", "/dich-vu-cong/dang-ky/", {"identifier": "a@example.vn", "full_name": "A"}


def _password_reset(pay):  # noqa: F811
    return "post", "/dich-vu-cong/quen-mat-khau/", {"identifier": "a@example.vn"}


def _pakn(pay):  # noqa: F811
    data = {
        "name": "Nguyễn Văn A",
        "phone": "0912000111",
        "agency": str(pay.dossier.competent_agency_id),
        "dossier_code": pay.dossier.code,
        "subject": "Chậm",
        "content": "Nội dung phản ánh đủ dài.",
    }
    return "post", "/dich-vu-cong/phan-anh/gui/", data


def _pakn_code(pay):  # noqa: F811
    return "post", "/dich-vu-cong/phan-anh/da-gui/PAKN-240603-0001/xac-nhan/", {"otp": "1"}


def _rating(pay):  # noqa: F811
    return "post", "/dich-vu-cong/phan-anh/PAKN-240603-0001/danh-gia/", {"t": "x"}


def _payment_start(pay):  # noqa: F811
    from cchc.payments import services

    token = services.pay_token(pay.desk_dossier)
    return "post", f"/thanh-toan/ho-so/{pay.desk_dossier.code}/", {"gateway": "vnpay", "t": token}


def _payment_return(pay):  # noqa: F811
    return "get", "/thanh-toan/ket-qua/", {"cong": "vnpay", "vnp_TxnRef": "X1"}


def _ipn(pay):  # noqa: F811
    return "get", "/thanh-toan/ipn/vnpay/", {"vnp_TxnRef": "X1", "vnp_SecureHash": "00"}


ENDPOINTS = {
    "track": _track,
    "register": _register,
    "password_reset": _password_reset,
    "pakn": _pakn,
    "pakn_code": _pakn_code,
    "rating": _rating,
    "payment": _payment_start,
    "payment_return": _payment_return,
    "ipn": _ipn,
}


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_each_anonymous_request_is_limited_across_connections(
    name,
    transactional_db,
    pay,  # noqa: F811
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SMS_OUTBOX = tmp_path / "sms.jsonl"
    settings.PORTAL_LOOKUP_LIMIT = 2
    scope = {"payment_return": "payment"}.get(name, name)
    settings.CCHC_RATE_LIMITS = {**settings.CCHC_RATE_LIMITS, scope: (2, 15)}
    method, url, data = ENDPOINTS[name](pay)

    def send() -> object:
        return getattr(Client(), method)(url, data, REMOTE_ADDR="192.0.2.10")

    first = [send() for _ in range(2)]
    assert all(r.status_code != 429 for r in first), [r.status_code for r in first]
    answers: list[object] = []

    def other_connection() -> None:
        try:
            answers.append(send())
        finally:
            connections.close_all()

    worker = threading.Thread(target=other_connection)
    worker.start()
    worker.join(timeout=60)
    [limited] = answers
    assert limited.status_code == 429
    if name == "ipn":
        assert limited.json() == {"RspCode": "99", "Message": "Too many requests"}
    else:
        assert "Vui lòng thử lại sau" in limited.content.decode()
        assert name == "track" or limited["Retry-After"] == "90"
