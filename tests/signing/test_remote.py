"""Remote signing through the local simulator over real HTTP: the officer's "phone" is a
thread that finds the pending request and confirms or refuses it."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from cchc.signing import SigningError, SigningUnavailable, sign_pdf, verify_pdf
from cchc.signing.simulator import RemoteSigningSimulator
from tests.signing.conftest import signing_config
from tests.signing.pki import Pki

API_KEY, USER = "khoa-thu-nghiem", "001099012345"
PROFILE = "agency:000.00.02.H00"


@pytest.fixture
def simulator(pki: Pki) -> Iterator[RemoteSigningSimulator]:
    sim = RemoteSigningSimulator(
        pki.officer.key,
        pki.officer.cert,
        chain=[pki.intermediate.cert],
        user_id=USER,
        api_key=API_KEY,
    )
    sim.start()
    yield sim
    sim.stop()


def remote_profile(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "backend": "remote",
        "url": url,
        "user_id": USER,
        "api_key": API_KEY,
        "timeout": 3,
        "wait_seconds": 10,
        "poll_seconds": 0.05,
        **changes,
    }


@pytest.fixture
def remote(
    settings: Any, pki: Pki, desk_p12: str, simulator: RemoteSigningSimulator
) -> dict[str, Any]:
    settings.CCHC_SIGNING = signing_config(
        pki, desk_p12, **{PROFILE: remote_profile(simulator.url)}
    )
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    return settings.CCHC_SIGNING  # type: ignore[no-any-return]


def http(method: str, url: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the simulator's local address
        url,
        data=b"" if method == "POST" else None,
        method=method,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=3) as answer:  # noqa: S310
        return json.loads(answer.read())


def phone(url: str, action: str) -> threading.Thread:
    """The officer: wait for a pending request (over HTTP), then confirm or refuse it."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pending = http("GET", url + "transactions")["pending"]
            if pending:
                http("POST", f"{url}transactions/{pending[0]}/{action}")
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_confirmed_on_the_phone(
    remote: dict[str, Any], simulator: RemoteSigningSimulator, pdf: bytes
) -> None:
    thread = phone(simulator.url, "confirm")
    signed = sign_pdf(pdf, profile=PROFILE, purpose="ket-qua")
    thread.join(5)
    report = verify_pdf(signed)
    assert report.verdict == "valid", report.as_dict()
    (sig,) = report.signatures
    assert sig.signer_name == "Nguyễn Văn Ký" and sig.time_source == "timestamp"
    (tx,) = simulator.transactions.values()
    assert tx.status == "signed" and tx.user_id == USER and "ChuKySo_ket-qua" in tx.description


def test_refused_on_the_phone(
    remote: dict[str, Any], simulator: RemoteSigningSimulator, pdf: bytes
) -> None:
    phone(simulator.url, "refuse")
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(pdf, profile=PROFILE)
    assert caught.value.code == "remote_refused"
    assert "từ chối" in caught.value.message


def test_nobody_answers_in_time(
    settings: Any, remote: dict[str, Any], simulator: RemoteSigningSimulator, pdf: bytes
) -> None:
    remote["profiles"][PROFILE] = remote_profile(simulator.url, wait_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(pdf, profile=PROFILE)
    assert caught.value.code == "remote_timeout"
    assert time.monotonic() - started < 5
    assert simulator.pending()  # still waiting on the phone; a retry starts a new request


def test_request_expires_at_the_provider(
    remote: dict[str, Any], simulator: RemoteSigningSimulator, pdf: bytes
) -> None:
    simulator.ttl = 0.3
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(pdf, profile=PROFILE)
    assert caught.value.code == "remote_expired"


def test_provider_unreachable(remote: dict[str, Any], pdf: bytes) -> None:
    remote["profiles"][PROFILE] = remote_profile("http://127.0.0.1:9/api/", timeout=1)
    with pytest.raises(SigningUnavailable) as caught:
        sign_pdf(pdf, profile=PROFILE)
    assert caught.value.code == "remote_down"


def test_provider_does_not_answer_in_time(remote: dict[str, Any], pdf: bytes) -> None:
    """A server that accepts the connection and never answers costs `timeout` seconds."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        port = silent.getsockname()[1]
        remote["profiles"][PROFILE] = remote_profile(f"http://127.0.0.1:{port}/", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(SigningUnavailable):
            sign_pdf(pdf, profile=PROFILE)
        assert time.monotonic() - started < 5
    finally:
        silent.close()


def test_wrong_credentials_are_permanent(
    remote: dict[str, Any], simulator: RemoteSigningSimulator, pdf: bytes
) -> None:
    remote["profiles"][PROFILE] = remote_profile(simulator.url, api_key="sai")
    with pytest.raises(SigningError) as caught:
        sign_pdf(pdf, profile=PROFILE)
    assert caught.value.code == "remote_rejected"
