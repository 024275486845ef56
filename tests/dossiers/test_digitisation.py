"""Digitisation the system knows (issue 21, item 5): scans recorded per component at intake,
reuse by a later dossier of the same ID number, derived flags, and 766 "Số hóa hồ sơ" (3b,
3d) computed from those facts. Real services, real database, real files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string

from cchc.audit.models import AuditEntry
from cchc.dossiers import digitisation, files
from cchc.dossiers.intake import Component
from cchc.dossiers.models import (
    ComponentReuse,
    DigitisedComponent,
    Dossier,
    DossierComponent,
    StoredFile,
)
from cchc.errors import InvalidInput
from cchc.indicators import aggregates, periods, services
from tests.conftest import VN
from tests.dossiers.factories import applicant

pytestmark = pytest.mark.django_db

HOLDER = "024190001234"
OTHER = "024190009999"
JUNE = periods.parse("2024-06")
REPORT_AT = dt.datetime(2024, 7, 10, 9, 0, tzinfo=VN)


def pdf(text: str) -> files.Upload:
    """A small, well-formed one-page PDF whose content differs by `text`."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return files.check(f"{text}.pdf", bytes(out))


def docs(world: Any) -> list[Any]:
    """The procedure's two mandatory documents: the form and the identity paper."""
    return [d for d in world.procedure.documents.all() if d.mandatory]


def intake(
    world: Any,
    *,
    scan: tuple[bool, bool],
    id_number: str = HOLDER,
    at: dt.datetime | None = None,
    reuse: dict[int, int] | None = None,
    tick: bool = False,
) -> Dossier:
    """A desk intake of the procedure's mandatory documents; `scan[i]`: the i-th is scanned
    (a file attached at the desk); `reuse`: position -> DigitisedComponent id; `tick`: the
    old checkboxes ticked on every component (they must not count)."""
    components = []
    for i, doc in enumerate(docs(world)):
        given = (reuse or {}).get(i)
        components.append(
            Component(
                document_id=doc.pk,
                originals=0 if given else doc.originals,
                copies=0 if given else doc.copies,
                uploads=[pdf(f"scan-{id_number}-{i}-{at}")] if scan[i] else [],
                reuse=given,
                digitised=tick,
                reused=tick,
            )
        )
    return world.intake(
        applicant=applicant(id_number=id_number), components=components, at=at or world.now
    )


def test_scans_at_intake_are_recorded_per_component_and_flags_are_derived(world):
    d = intake(world, scan=(False, True), tick=True)
    rows = list(DigitisedComponent.objects.filter(dossier=d))
    assert len(rows) == 1
    row = rows[0]
    identity = DossierComponent.objects.get(dossier=d, position=1)
    assert row.component_id == identity.pk
    assert row.file == StoredFile.objects.get(component=identity)
    assert row.file.content_type == "application/pdf"
    assert (row.id_number, row.scanned_by_id, row.reused_count) == (
        HOLDER,
        world.desk_officer.pk,
        0,
    )
    assert row.type_code == digitisation.type_code_of(identity.name)
    # Ticked boxes count for nothing: the form was not scanned, nothing was reused.
    form = DossierComponent.objects.get(dossier=d, position=0)
    assert (form.digitised, form.reused) == (False, False)
    assert (identity.digitised, identity.reused) == (True, False)
    d.refresh_from_db()
    assert (d.digitised, d.reused_data) == (False, False)
    assert AuditEntry.objects.filter(
        action=digitisation.DIGITISED_AUDIT, object_id=str(d.pk)
    ).exists()

    full = intake(world, scan=(True, True))
    full.refresh_from_db()
    assert (full.digitised, full.reused_data) == (True, False)
    assert DigitisedComponent.objects.filter(dossier=full).count() == 2


def test_same_citizen_reuses_a_scan_and_reused_is_derived(world):
    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    later = intake(world, scan=(True, False), at=world.now + dt.timedelta(days=1))
    found = digitisation.reusable(
        "024 190 001 234", world.procedure, on=dt.date(2024, 6, 4), exclude_dossier=later
    )
    assert identity in found
    assert {r.dossier_id for r in found} == {first.pk}
    assert later.reused_data is False
    target = DossierComponent.objects.get(dossier=later, position=1)
    assert target.digitised is False

    link = digitisation.reuse(
        world.desk_officer, later, target, identity, now=world.now + dt.timedelta(days=1, hours=1)
    )
    assert (link.component_id, link.digitised_id, link.reused_by_id) == (
        target.pk,
        identity.pk,
        world.desk_officer.pk,
    )
    target.refresh_from_db()
    assert (target.digitised, target.reused) == (True, True)
    assert not StoredFile.objects.filter(component=target).exists()  # no new upload
    assert (later.digitised, later.reused_data) == (True, True)  # refreshed by the service
    identity.refresh_from_db()
    assert identity.reused_count == 1
    event = later.events.order_by("-seq").first()
    assert event.action == "note" and event.data["reuse"]["digitised"] == identity.pk
    entry = AuditEntry.objects.get(action=digitisation.REUSED_AUDIT, object_id=str(later.pk))
    assert entry.data["file"] == identity.file_id
    # The reuse reached the indicator cells through the event: nothing to repair.
    assert aggregates.verify().clean

    # Reused twice: refused.
    with pytest.raises(InvalidInput) as twice:
        digitisation.reuse(world.desk_officer, later, target, identity)
    assert twice.value.code == "dossier.reuse_twice"


def test_reuse_at_intake_links_without_upload(world):
    first = intake(world, scan=(False, True))
    identity = DigitisedComponent.objects.get(dossier=first)
    later = intake(world, scan=(True, False), reuse={1: identity.pk})
    later.refresh_from_db()
    assert (later.digitised, later.reused_data) == (True, True)
    link = ComponentReuse.objects.get(dossier=later)
    assert link.digitised == identity and link.component.position == 1
    assert DigitisedComponent.objects.get(pk=identity.pk).reused_count == 1
    assert aggregates.verify().clean


def test_another_id_number_cannot_reuse(world):
    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    stranger = intake(world, scan=(True, False), id_number=OTHER)
    assert identity not in digitisation.reusable(OTHER, world.procedure, on=dt.date(2024, 6, 3))
    target = DossierComponent.objects.get(dossier=stranger, position=1)
    version = stranger.version
    with pytest.raises(InvalidInput) as refused:
        digitisation.reuse(world.desk_officer, stranger, target, identity)
    assert refused.value.code == "dossier.reuse_other_holder"
    assert "số định danh khác" in refused.value.message
    assert not ComponentReuse.objects.exists()
    stranger.refresh_from_db()
    assert (stranger.version, stranger.reused_data) == (version, False)
    assert DigitisedComponent.objects.get(pk=identity.pk).reused_count == 0
    refusal = AuditEntry.objects.get(action="dossier.refused", object_id=str(stranger.pk))
    assert refusal.data["code"] == "dossier.reuse_other_holder"
    # Nor at intake.
    with pytest.raises(InvalidInput) as at_intake:
        intake(world, scan=(True, False), id_number=OTHER, reuse={1: identity.pk})
    assert at_intake.value.code == "dossier.reuse_other_holder"


def test_expired_scan_is_not_offered_nor_reusable(world):
    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    DigitisedComponent.objects.filter(pk=identity.pk).update(valid_until=dt.date(2024, 6, 3))
    assert identity not in digitisation.reusable(HOLDER, world.procedure, on=dt.date(2024, 6, 4))
    later = intake(world, scan=(True, False), at=world.now + dt.timedelta(days=1))
    target = DossierComponent.objects.get(dossier=later, position=1)
    identity.refresh_from_db()
    with pytest.raises(InvalidInput) as expired:
        digitisation.reuse(
            world.desk_officer, later, target, identity, now=world.now + dt.timedelta(days=1)
        )
    assert expired.value.code == "dossier.reuse_expired"


def test_only_the_desk_may_reuse(world):
    from cchc.errors import PermissionDenied

    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    later = intake(world, scan=(True, False))
    target = DossierComponent.objects.get(dossier=later, position=1)
    with pytest.raises(PermissionDenied):
        digitisation.reuse(world.outsider, later, target, identity)
    assert not ComponentReuse.objects.exists()


def _subs(idx: Any) -> dict[str, Any]:
    return {s.code: s for g in idx.groups for s in g.subs}


def test_766_digitisation_figures_equal_the_stored_facts(world):
    """3b (hồ sơ được số hóa) and 3d (tái sử dụng dữ liệu số hóa) over June 2024, against
    counts made by hand from the stored scans and reuses."""
    june = [world.now + dt.timedelta(days=n) for n in range(4)]
    a = intake(world, scan=(True, True), at=june[0])  # fully scanned
    b = intake(world, scan=(False, True), at=june[0], id_number=OTHER)  # partly scanned
    c = intake(world, scan=(False, False), at=june[1], id_number=OTHER)  # nothing
    identity = DigitisedComponent.objects.get(dossier=a, component__position=1)
    # Reused at intake, the form scanned: fully digitised and reused.
    d = intake(world, scan=(True, False), at=june[2], reuse={1: identity.pk})
    # Reused after intake: the identity paper reused, the form not scanned.
    e = intake(world, scan=(False, False), at=june[3])
    digitisation.reuse(
        world.desk_officer,
        e,
        DossierComponent.objects.get(dossier=e, position=1),
        identity,
        now=june[3] + dt.timedelta(hours=1),
    )
    # By hand from the facts: a dossier is digitised when every component has a scan or a
    # reuse; it reused data when one of its components has a reuse.
    received = [a, b, c, d, e]
    scanned = set(
        StoredFile.objects.filter(component__isnull=False).values_list("component_id", flat=True)
    )
    linked = set(ComponentReuse.objects.values_list("component_id", flat=True))
    by_hand_digitised = sum(
        all(c.pk in scanned | linked for c in DossierComponent.objects.filter(dossier=x))
        for x in received
    )
    by_hand_reused = len({r.dossier_id for r in ComponentReuse.objects.all()})
    assert (by_hand_digitised, by_hand_reused) == (2, 2)  # a, d; d, e
    assert DigitisedComponent.objects.count() == 4  # a: 2, b: 1, d: 1 (the form)

    s = _subs(services.index766(JUNE, now=REPORT_AT))
    b3, d3 = s["3b"], s["3d"]
    assert (b3.numerator, b3.denominator) == (by_hand_digitised, len(received))
    assert (d3.numerator, d3.denominator) == (by_hand_reused, len(received))
    assert b3.rate == Decimal("40.00") and d3.rate == Decimal("40.00")
    assert b3.points == Decimal("2.00")  # 40 % × 4 ÷ 80 %
    assert d3.points == Decimal("1.00")  # 40 % × 2 ÷ 80 %
    report = aggregates.verify()
    assert report.clean, report.differences


def test_fragment_masks_the_id_number_and_files(world):
    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    later = intake(world, scan=(True, False))
    digitisation.reuse(
        world.desk_officer, later, DossierComponent.objects.get(dossier=later, position=1), identity
    )
    later.refresh_from_db()
    seen = digitisation.fragment(world.desk_officer, later)
    assert seen.files_visible and seen.holder == HOLDER
    assert [r.source_dossier for r in seen.reuses] == [first.code]
    html = render_to_string("dossiers/_digitised.html", {"digitisation": seen})
    assert first.code in html and "Thành phần tái sử dụng dữ liệu đã số hóa" in html
    outsider = digitisation.fragment(world.outsider, first)
    assert not outsider.files_visible
    assert outsider.holder == "*********234"
    assert all(r.file_name == "(đã ẩn — dữ liệu cá nhân)" for r in outsider.scans)
    html = render_to_string("dossiers/_digitised.html", {"digitisation": outsider})
    assert HOLDER not in html and "scan-" not in html


def test_desk_form_offers_the_applicants_scans_and_reuses_one(client, world, monkeypatch):
    """The counter form (diff in the handoff): "Tìm giấy tờ đã số hóa" lists the applicant's
    reusable scans per document; choosing one receives the dossier with the reuse linked."""
    from django.urls import reverse
    from django.utils import timezone

    from tests.dossiers.test_counter_intake import _form

    monkeypatch.setattr(timezone, "now", lambda: world.now)
    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    id_doc = docs(world)[1]
    client.force_login(world.desk_officer)
    page = client.post(reverse("dossiers:intake"), _form(world, lookup="1", outcome=None))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'name="doc_{id_doc.pk}_reuse"' in html and f'value="{identity.pk}"' in html
    assert not Dossier.objects.exclude(pk=first.pk).exists()  # a lookup submits nothing
    stranger = client.post(
        reverse("dossiers:intake"), _form(world, lookup="1", outcome=None, id_number=OTHER)
    )
    assert f'value="{identity.pk}"' not in stranger.content.decode()

    client.post(
        reverse("dossiers:intake"),
        _form(world, **{f"doc_{id_doc.pk}_reuse": str(identity.pk), "intake_key": "r" * 32}),
    )
    made = Dossier.objects.exclude(pk=first.pk).get()
    assert (made.reused_data, made.digitised) == (True, False)
    assert ComponentReuse.objects.get(dossier=made).digitised == identity


def test_dossier_page_shows_the_fragment(client, world):
    """The dossier page includes `_digitised.html` (diff in the handoff)."""
    from django.urls import reverse

    first = intake(world, scan=(True, True))
    identity = DigitisedComponent.objects.get(dossier=first, component__position=1)
    later = intake(world, scan=(True, False), reuse={1: identity.pk})
    client.force_login(world.desk_officer)
    html = client.get(reverse("dossiers:detail", args=[later.code])).content.decode()
    assert "Số hóa thành phần hồ sơ" in html
    assert "Thành phần tái sử dụng dữ liệu đã số hóa" in html and first.code in html
