"""Receiving a dossier whose procedure requires signed documents (issue 21 leftovers, item
3): a file already checked and found unsigned or invalid blocks the desk's receive action
with a Vietnamese message naming the component and the file; a file the worker has not
checked yet never blocks (a warning, and the dossier page keeps the flag); a valid signature
passes. Real PDFs signed by the test PKI, real checks (`signature_checks.sweep`, the
worker's job), real database, the real dossier page."""

# ruff: noqa: F811  (the signing tests' fixtures, imported below, are parameters here)
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse

from cchc.audit.models import AuditEntry
from cchc.catalog.models import RequiredDocument
from cchc.dossiers import files, intake, services, signature_checks
from cchc.dossiers.intake import Component
from cchc.dossiers.models import FileSignature, State
from cchc.errors import InvalidInput
from cchc.signing import sign_pdf
from tests.dossiers.conftest import at
from tests.dossiers.factories import applicant
from tests.signing.conftest import desk_p12, pki, signing_config  # noqa: F401 (fixtures)
from tests.signing.pki import Pki, minimal_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def signed(pki: Pki, desk_p12: str) -> bytes:
    with override_settings(
        CCHC_SIGNING=signing_config(pki, desk_p12),
        CCHC_SIGNING_TRUST_ROOTS=[str(pki.files["root.pem"])],
    ):
        return sign_pdf(minimal_pdf(), profile="desk")


@pytest.fixture(autouse=True)
def _stores_and_trusts(settings: Any, tmp_path: Any, pki: Pki) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    yield


def components(world: Any, name: str, data: bytes) -> tuple[list[Component], str]:
    """Every mandatory document; the first requires a signature and carries the upload."""
    docs = [d for d in world.procedure.documents.all() if d.mandatory]
    RequiredDocument.objects.filter(pk=docs[0].pk).update(signature_required=True)
    out = [
        Component(
            document_id=d.pk,
            originals=d.originals,
            copies=d.copies,
            uploads=[files.check(name, data)] if i == 0 else [],
        )
        for i, d in enumerate(docs)
    ]
    return out, docs[0].name


def online(world: Any, name: str, data: bytes) -> tuple[Any, str]:
    parts, component = components(world, name, data)
    d = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=parts,
        now=at("2024-06-03", "08:15"),
    )
    return d, component


def test_an_unsigned_file_blocks_the_receipt_with_the_component_and_file(world: Any) -> None:
    d, component = online(world, "don-de-nghi.pdf", minimal_pdf("Don de nghi"))
    assert signature_checks.sweep().checked == 1  # the worker's check: "unsigned"
    with pytest.raises(InvalidInput) as caught:
        services.act(world.desk_officer, d, "receive", now=at("2024-06-03", "09:00"))
    assert caught.value.code == "dossier.signature_required"
    message = caught.value.message
    assert message.startswith(f"Không tiếp nhận được hồ sơ {d.code}: ")
    assert (
        f"Thành phần «{component}» yêu cầu chữ ký số hợp lệ: tệp «don-de-nghi.pdf» không có "
        "chữ ký số" in message
    )
    d.refresh_from_db()
    assert d.state == State.SUBMITTED and d.received_at is None
    refused = AuditEntry.objects.filter(action__endswith="refused").last()
    assert refused is not None and "don-de-nghi.pdf" in str(refused.data)


def test_an_invalid_signature_blocks_and_the_page_says_why(
    world: Any, signed: bytes, client: Any
) -> None:
    at_byte = signed.index(b"Phieu tiep nhan")
    tampered = signed[:at_byte] + b"X" + signed[at_byte + 1 :]
    d, component = online(world, "to-khai.pdf", tampered)
    signature_checks.sweep()
    client.force_login(world.desk_officer)
    response = client.post(
        reverse("dossiers:act", args=[d.code]), {"action": "receive", "version": d.version}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"Thành phần «{component}» yêu cầu chữ ký số hợp lệ" in page
    assert "tệp «to-khai.pdf» chữ ký số không hợp lệ" in page
    assert 'data-problem="invalid"' in page  # the dossier page's flag
    d.refresh_from_db()
    assert d.state == State.SUBMITTED


def test_a_file_not_checked_yet_never_blocks_the_desk(
    world: Any, signed: bytes, client: Any
) -> None:
    d, component = online(world, "to-khai.pdf", signed)
    FileSignature.objects.filter(file__dossier=d).delete()  # the worker is behind
    assert [p.kind for p in signature_checks.problems(d)] == ["pending"]
    client.force_login(world.desk_officer)
    response = client.post(
        reverse("dossiers:act", args=[d.code]),
        {"action": "receive", "version": d.version},
        follow=True,
    )
    assert response.status_code == 200
    d.refresh_from_db()
    assert d.state == State.RECEIVED
    page = response.content.decode()
    assert "Đã tiếp nhận, nhưng chữ ký số chưa được kiểm tra xong" in page
    assert f"Thành phần «{component}»" in page and 'data-problem="pending"' in page
    # The check comes later: valid, and the flag goes away.
    signature_checks.sweep()
    assert signature_checks.problems(d) == []


def test_a_valid_signature_is_received_without_a_warning(world: Any, signed: bytes) -> None:
    d, _ = online(world, "to-khai.pdf", signed)
    signature_checks.sweep()
    services.act(world.desk_officer, d, "receive", now=at("2024-06-03", "09:00"))
    d.refresh_from_db()
    assert d.state == State.RECEIVED
    assert signature_checks.receipt_warnings(d) == []


def test_the_counter_receives_and_then_flags_an_unsigned_file(world: Any) -> None:
    """At the counter the file comes with the receipt itself: checked just after it, never
    blocking; the officer is told, and the page flags it."""
    parts, component = components(world, "don.pdf", minimal_pdf("Don"))
    d = world.intake(components=parts)
    assert d.state == State.RECEIVED
    signature_checks.sweep()
    (warning,) = signature_checks.receipt_warnings(d)
    assert warning.startswith("Chữ ký số không đạt — ")
    assert f"Thành phần «{component}» yêu cầu chữ ký số hợp lệ: tệp «don.pdf»" in warning
