"""Signed PDFs stored on dossiers (issue 21, item 2): each stored PDF is verified on the
worker with the real test PKI (tests/signing/pki.py), the verdict and signer are shown on
the dossier page (signer masked for readers without the personal-data right), and files of
components whose document requires a signature are flagged when unsigned, invalid,
untrusted or unreadable."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.template.loader import render_to_string
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cchc.audit.models import AuditEntry
from cchc.catalog.models import RequiredDocument
from cchc.dossiers import files, services, signature_checks
from cchc.dossiers.intake import Component
from cchc.dossiers.models import FileCheckState, FileSignature, StoredFile
from cchc.signing import sign_pdf
from tests.signing.conftest import desk_p12, pki, signing_config  # noqa: F401 (fixtures)
from tests.signing.pki import Pki, minimal_pdf

pytestmark = pytest.mark.django_db

DESK_SIGNER = "Bộ phận Một cửa Thử Nghiệm"
GARBAGE = b"%PDF-1.7\n garbage \x00\xff"


@pytest.fixture(scope="module")
def signed(pki: Pki, desk_p12: str) -> bytes:  # noqa: F811
    """A PDF signed once for the module by the desk's PKCS#12 key (PAdES B-LTA, real TSA)."""
    with override_settings(
        CCHC_SIGNING=signing_config(pki, desk_p12),
        CCHC_SIGNING_TRUST_ROOTS=[str(pki.files["root.pem"])],
    ):
        return sign_pdf(minimal_pdf(), profile="desk")


@pytest.fixture(autouse=True)
def _stores_and_trusts(settings: Any, tmp_path: Any, pki: Pki) -> Iterator[None]:  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    yield


def tampered(signed: bytes) -> bytes:
    at = signed.index(b"Phieu tiep nhan")
    return signed[:at] + b"X" + signed[at + 1 :]


def receive(world: Any, *parts: tuple[str, bytes], other: tuple[str, bytes] | None = None) -> Any:
    """A dossier received at the desk: `parts` uploaded on the first document (which
    requires a signature), `other` on the second (which does not)."""
    first, second = [d for d in world.procedure.documents.all() if d.mandatory][:2]
    RequiredDocument.objects.filter(pk=first.pk).update(signature_required=True)
    components = [
        Component(
            document_id=first.pk,
            originals=first.originals,
            copies=first.copies,
            uploads=[files.check(name, data) for name, data in parts],
        ),
        Component(
            document_id=second.pk,
            originals=second.originals,
            copies=second.copies,
            uploads=[files.check(*other)] if other else [],
        ),
    ]
    return world.intake(components=components)


def check_of(dossier: Any, name: str) -> FileSignature:
    return FileSignature.objects.get(file__dossier=dossier, file__name=name)


def test_signed_upload_is_valid_with_its_signer(world: Any, signed: bytes) -> None:
    d = receive(world, ("to-khai.pdf", signed))
    report = signature_checks.sweep()
    assert (report.checked, report.errors) == (1, [])
    row = check_of(d, "to-khai.pdf")
    assert row.state == FileCheckState.CHECKED and row.verdict == "valid"
    (sig,) = row.signatures
    assert sig["name"] == DESK_SIGNER and sig["organization"] == "Tỉnh Thử Nghiệm"
    assert sig["intact"] and sig["valid_at_signing_time"] and sig["trusted"]
    assert sig["time_source"] == "timestamp" and sig["serial"]
    assert row.trust_fingerprint == signature_checks.trust()[1]
    assert signature_checks.problems(d) == []
    panel = signature_checks.panel(world.desk_officer, d)
    (shown,) = panel["rows"]
    assert shown["verdict_text"] == "hợp lệ" and shown["signers"][0]["name"] == DESK_SIGNER
    html = render_to_string("dossiers/_file_signatures.html", {"file_signatures": panel})
    assert "hợp lệ" in html and DESK_SIGNER in html and "yêu cầu ký số" in html
    entry = AuditEntry.objects.get(action="dossier.file.signature_checked")
    assert entry.data["verdict"] == "valid" and entry.data["file"] == row.pk


def test_one_byte_changed_is_invalid_and_flagged(world: Any, signed: bytes) -> None:
    d = receive(world, ("to-khai.pdf", tampered(signed)))
    signature_checks.sweep()
    row = check_of(d, "to-khai.pdf")
    assert row.verdict == "invalid" and not row.signatures[0]["intact"]
    (problem,) = signature_checks.problems(d)
    assert problem.kind == "invalid" and not problem.waiting
    assert problem.message.startswith("Tệp yêu cầu chữ ký số nhưng chữ ký số không hợp lệ")
    panel = signature_checks.panel(world.desk_officer, d)
    assert panel["rows"][0]["verdict_text"] == "không hợp lệ"


def test_unsigned_is_flagged_only_where_required(world: Any) -> None:
    plain = minimal_pdf("Ban chup giay to")
    d = receive(world, ("to-khai.pdf", plain), other=("ban-chup.pdf", plain))
    report = signature_checks.sweep()
    assert report.checked == 2 and report.verdicts == {"unsigned": 2}
    assert check_of(d, "to-khai.pdf").verdict == "unsigned"
    (problem,) = signature_checks.problems(d)  # the second document does not require one
    assert problem.file_name == "to-khai.pdf" and problem.kind == "unsigned"
    assert problem.message == (
        "Tệp yêu cầu chữ ký số nhưng không có chữ ký số: «to-khai.pdf» "
        "(Tờ khai yêu cầu cấp phiếu lý lịch tư pháp)."
    )
    html = render_to_string(
        "dossiers/_file_signatures.html",
        {"file_signatures": signature_checks.panel(world.desk_officer, d)},
    )
    assert html.count('data-verdict="unsigned">không có chữ ký<') == 2
    assert html.count('data-problem="unsigned"') == 1


def test_untrusted_root_and_recheck_when_the_trust_list_changes(
    world: Any,
    signed: bytes,
    settings: Any,
    pki: Pki,  # noqa: F811
) -> None:
    d = receive(world, ("to-khai.pdf", signed))
    signature_checks.sweep()
    assert check_of(d, "to-khai.pdf").verdict == "valid"
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["other-root.pem"])]
    report = signature_checks.sweep()
    assert (report.checked, report.rechecked) == (0, 1)
    row = check_of(d, "to-khai.pdf")
    assert row.verdict == "untrusted" and row.signatures[0]["intact"]
    assert not row.signatures[0]["trusted"]
    (problem,) = signature_checks.problems(d)
    assert problem.kind == "untrusted" and "không tin cậy" in problem.message
    assert signature_checks.panel(world.desk_officer, d)["rows"][0]["verdict_text"] == (
        "không tin cậy"
    )
    assert AuditEntry.objects.filter(action="dossier.file.signature_rechecked").count() == 1
    # Back to the first list: trusted again.
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(pki.files["root.pem"])]
    assert signature_checks.sweep().rechecked == 1
    assert check_of(d, "to-khai.pdf").verdict == "valid"


def test_garbage_pdf_is_unreadable_without_a_crash(world: Any) -> None:
    d = receive(world, ("hong.pdf", GARBAGE))
    report = signature_checks.sweep()
    assert report.unreadable == 1 and report.errors == []
    row = check_of(d, "hong.pdf")
    assert row.state == FileCheckState.UNREADABLE and row.verdict == "" and row.error
    (problem,) = signature_checks.problems(d)
    assert problem.kind == "unreadable"
    html = render_to_string(
        "dossiers/_file_signatures.html",
        {"file_signatures": signature_checks.panel(world.desk_officer, d)},
    )
    assert "Không đọc được tệp PDF" in html
    # Unreadable stays unreadable: the next sweep does not try again.
    assert signature_checks.sweep().as_dict()["checked"] == 0


def test_signer_masked_for_a_reader_without_personal_data(world: Any, signed: bytes) -> None:
    d = receive(world, ("to-khai.pdf", signed))
    signature_checks.sweep()
    serial = check_of(d, "to-khai.pdf").signatures[0]["serial"]
    full = signature_checks.panel(world.desk_officer, d)
    masked = signature_checks.panel(world.supervisor, d)  # may view, no personal data
    assert not full["masked"] and masked["masked"]
    assert full["rows"][0]["signers"][0]["serial"] == serial
    signer = masked["rows"][0]["signers"][0]
    assert signer["name"] == "B*** p*** M*** c*** T*** N***" and signer["serial"] == ""
    html = render_to_string("dossiers/_file_signatures.html", {"file_signatures": masked})
    assert DESK_SIGNER not in html and serial not in html and "hợp lệ" in html


def test_the_sweep_is_idempotent(world: Any, signed: bytes) -> None:
    d = receive(world, ("a.pdf", signed), ("b.pdf", GARBAGE), other=("c.pdf", minimal_pdf()))
    first = signature_checks.sweep()
    assert (first.checked, first.unreadable) == (3, 1)
    before = {r.pk: (r.checked_at, r.attempts) for r in FileSignature.objects.all()}
    audits = AuditEntry.objects.count()
    second = signature_checks.sweep()
    assert second.as_dict() == signature_checks.SweepReport().as_dict()
    assert {r.pk: (r.checked_at, r.attempts) for r in FileSignature.objects.all()} == before
    assert AuditEntry.objects.count() == audits
    assert FileSignature.objects.filter(file__dossier=d).count() == 3


def test_sweep_records_pdfs_that_have_no_check(world: Any) -> None:
    """Files stored without the hook (imports, or the hook not yet applied) are found."""
    d = receive(world, ("to-khai.pdf", minimal_pdf()), other=("b.pdf", minimal_pdf("B")))
    FileSignature.objects.filter(file__dossier=d).delete()
    report = signature_checks.sweep()
    assert (report.tracked, report.checked) == (2, 2)
    assert signature_checks.sweep().tracked == 0


def test_limit_leaves_the_rest_for_the_next_run(world: Any) -> None:
    receive(world, *[(f"t{i}.pdf", minimal_pdf(f"Trang {i}")) for i in range(3)])
    first = signature_checks.sweep(limit=2)
    assert (first.checked, first.remaining) == (2, 1)
    second = signature_checks.sweep(limit=2)
    assert (second.checked, second.remaining) == (1, 0)


def test_only_pdfs_are_checked_and_other_files_flagged_where_required(world: Any) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    d = receive(world, ("anh-chup.png", png))
    assert signature_checks.sweep().tracked == 0
    assert not FileSignature.objects.exists()
    (problem,) = signature_checks.problems(d)
    assert problem.kind == "not_pdf" and "không phải PDF" in problem.message


def test_track_queues_the_check_after_commit(
    world: Any, signed: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    d = receive(world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored = services.store_file(d, files.check("ket-qua.pdf", signed), now=world.now)
        row = signature_checks.track(stored)
        assert row is not None and row.state == FileCheckState.PENDING
        # Pending before the worker ran: a waiting problem only where required (not here).
        assert signature_checks.problems(d) == []
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.state == FileCheckState.CHECKED and row.verdict == "valid"
    # The job again, or the sweep: nothing more to do.
    assert signature_checks.check_job(stored.pk)["skipped"]
    assert signature_checks.sweep().checked == 0


def test_pending_file_is_a_waiting_problem(world: Any, signed: bytes) -> None:
    d = receive(world, ("to-khai.pdf", signed))
    (problem,) = signature_checks.problems(d)  # no row yet: the sweep has not run
    assert problem.kind == "pending" and problem.waiting
    panel = signature_checks.panel(world.desk_officer, d)
    assert panel["rows"][0]["state_label"] == "Chờ kiểm tra chữ ký số"


def test_every_upload_service_records_its_pdf(
    world: Any, signed: bytes, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        d = receive(world, ("to-khai.pdf", signed))
    assert check_of(d, "to-khai.pdf").verdict == "valid"


def test_the_dossier_page_shows_verdicts_masked_for_readers_without_the_right(
    world: Any, signed: bytes, client: Any
) -> None:
    d = receive(world, ("to-khai.pdf", signed), other=("ban-chup.pdf", minimal_pdf()))
    signature_checks.sweep()
    client.force_login(world.desk_officer)
    page = client.get(reverse("dossiers:detail", args=[d.code])).content.decode()
    assert "Chữ ký số trên tệp PDF" in page and DESK_SIGNER in page
    assert 'data-verdict="valid">hợp lệ<' in page and 'data-verdict="unsigned"' in page
    client.force_login(world.supervisor)
    page = client.get(reverse("dossiers:detail", args=[d.code])).content.decode()
    assert "B*** p*** M*** c*** T*** N***" in page and DESK_SIGNER not in page


def test_panel_queries_do_not_grow_with_files(world: Any, signed: bytes) -> None:
    few = receive(world, ("a.pdf", signed))
    many = receive(world, *[(f"f{i}.pdf", signed) for i in range(6)], other=("o.pdf", signed))
    signature_checks.sweep()
    counts = []
    for d in (few, many):
        d = type(d).objects.get(pk=d.pk)
        with CaptureQueriesContext(connection) as ctx:
            panel = signature_checks.panel(world.desk_officer, d)
            render_to_string("dossiers/_file_signatures.html", {"file_signatures": panel})
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] and counts[0] <= 4, counts
    assert len(signature_checks.panel(world.desk_officer, many)["rows"]) == 7


def test_command_json_and_a_broken_trust_list(world: Any, settings: Any, tmp_path: Any) -> None:
    receive(world, ("to-khai.pdf", minimal_pdf()))
    out = io.StringIO()
    call_command("signatures", "check", "--json", stdout=out)
    counts = json.loads(out.getvalue())
    assert counts["checked"] == 1 and counts["verdicts"] == {"unsigned": 1}
    out = io.StringIO()
    call_command("signatures", "check", stdout=out)
    assert "kiểm tra 0 tệp" in out.getvalue()
    broken = tmp_path / "broken.pem"
    broken.write_bytes(b"not a certificate")
    settings.CCHC_SIGNING_TRUST_ROOTS = [str(broken)]
    with pytest.raises(CommandError) as caught:
        call_command("signatures", "check", "--json", stdout=io.StringIO())
    assert "chứng thư" in str(caught.value)
    assert StoredFile.objects.count() == FileSignature.objects.count() == 1
