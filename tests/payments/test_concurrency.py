"""The same success IPN delivered 8 times at once (PostgreSQL, one connection per thread):
exactly one confirmation, one receipt, one `pay` event."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL (parallel connections and row locks); "
        "run with DATABASE_URL=postgres://…",
    ),
]

PARALLEL = 8


def test_parallel_duplicate_ipns_pay_once(transactional_db, pay):
    from urllib.parse import parse_qsl, urlsplit

    from cchc.dossiers.models import DossierEvent
    from cchc.payments import callbacks, simulator
    from cchc.payments.gateways import vnpay
    from cchc.payments.models import Receipt

    order, url = pay.start()
    checked = simulator.check_request(dict(parse_qsl(urlsplit(url).query)))
    gw = checked.gateway
    assert gw is not None
    from django.utils import timezone

    params = simulator._result_params(gw, checked.params, "success", now=timezone.now())
    assert vnpay.verify_params(gw.hash_secret, params)
    barrier = threading.Barrier(PARALLEL)
    answers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def deliver() -> None:
        try:
            barrier.wait(timeout=60)
            answer, _body = callbacks.handle_ipn("vnpay", params)
            with lock:
                answers.append(answer.code)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(answers) == ["00"] + ["02"] * (PARALLEL - 1)
    assert DossierEvent.objects.filter(dossier=pay.dossier, action="pay").count() == 1
    assert Receipt.objects.filter(order=order).count() == 1
