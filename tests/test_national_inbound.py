"""Dossiers submitted on the national portal: fetched from the simulator over the real
protocol (in-process URL), stored once, created through the portal's intake service,
acknowledged; refused ones visible with their reason."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import include, path

from cchc.accounts.policy import SYSTEM
from cchc.dossiers.models import Channel, Dossier, State
from cchc.national import client, inbound
from cchc.national.models import InboundDossier, InboundState, NationalDossier

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SIM = {
    "CCHC_DVCQG_SIMULATOR": True,
    "CCHC_DVCQG": {
        "url": "/gia-lap-dvcqg/api/",
        "madonvi": "000.00.00.H06",
        "username": "cchc",
        "password": "simulator",
        "timeout": 5,
        "max_attempts": 3,
        "backoff_max_minutes": 1,
        "lease_minutes": 5,
        "on_time_hours": 24,
    },
    "ROOT_URLCONF": __name__,
}
# This module is the tests' urlconf: the administrators' pages (their include in the root
# urlconf is the lead's) and the simulator's test urlconf (the site and the simulated portal).
urlpatterns = [
    path("quan-tri-dvcqg/", include("cchc.national.urls")),
    path("", include("cchc.nationalsim.test_urls")),
]


@pytest.fixture
def sim(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"
    settings.CCHC_SMS_OUTBOX = tmp_path / "sms" / "outbox.jsonl"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.forget_sessions()
    with override_settings(**SIM):
        yield
    client.forget_sessions()


@pytest.fixture
def catalogue(org, now, sim):
    from cchc.catalog.services import DocumentData, ProcedureData, save_procedure

    procedure, _ = save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.009999",
            name="Cấp giấy phép hành nghề thử nghiệm",
            field_name="Thử nghiệm",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(3),
            fees=(("Lệ phí cấp giấy phép", 100_000),),
            documents=(
                DocumentData("Đơn đề nghị cấp giấy phép", originals=1),
                DocumentData("Bản chụp giấy tờ tùy thân", copies=1),
            ),
            online_level="full",
        ),
        now=now,
    )
    return procedure


def submit(code: str = "1.009999", *, name: str = "Nguyễn Thị Hoà", **changes: Any) -> Any:
    """A dossier submitted on the simulated portal, with a PDF for the first document."""
    from cchc.nationalsim import seeding

    row = seeding.submit_inbound(
        code,
        name,
        id_number="024190001234",
        phone="0912345678",
        email="hoa@example.vn",
        address="Số 5 Hoàng Văn Thụ",
        unit=SIM["CCHC_DVCQG"]["madonvi"],
    )
    body = dict(row.body)
    body["DanhSachTepDinhKem"] = [
        {
            "TenTepDinhKem": "don-de-nghi.pdf",
            "MaThanhPhanHoSo": f"{code}-GT0",
            "NoiDungBase64": base64.b64encode(PDF).decode("ascii"),
        }
    ]
    body.update(changes)
    row.body = body
    row.save(update_fields=["body"])
    return row


def test_a_dossier_listed_twice_and_shuffled_arrives_once_with_its_attachment(
    catalogue, now, make_user
):
    from cchc.nationalsim import faults
    from cchc.nationalsim.models import SimInbound

    first = submit()
    second = submit(name="Trần Văn Bình")
    faults.set(duplicate_inbound=True, shuffle_inbound=True)

    report = inbound.fetch(now)
    again = inbound.fetch(now)  # the portal lists them again (and the acknowledged ones)

    assert report.listed == 2 and report.stored == 2 and len(report.created) == 2
    assert again.listed >= 2 and again.stored == 0 and again.created == []
    assert InboundDossier.objects.count() == 2
    rows = {r.national_code: r for r in InboundDossier.objects.select_related("dossier")}
    assert {r.state for r in rows.values()} == {InboundState.CREATED}
    dossier = rows[first.ma_ho_so_qg].dossier
    assert Dossier.objects.count() == 2
    assert dossier.channel == Channel.ONLINE and dossier.state == State.SUBMITTED
    assert dossier.applicant_name == "Nguyễn Thị Hoà"
    assert dossier.applicant_id_number == "024190001234"
    assert dossier.procedure == catalogue
    assert dossier.competent_agency.code == "000.00.12.H06"
    component = dossier.components.get()
    assert component.document.name == "Đơn đề nghị cấp giấy phép"
    stored = list(dossier.files.all())
    assert len(stored) == 1 and stored[0].sha256 == hashlib.sha256(PDF).hexdigest()
    link = NationalDossier.objects.get(dossier=dossier)
    assert link.inbound and link.national_code == first.ma_ho_so_qg
    # Acknowledged on the portal with our code, and recorded as such.
    for sim_row in SimInbound.objects.all():
        local = rows[sim_row.ma_ho_so_qg].dossier.code
        assert sim_row.acknowledged_at is not None and sim_row.local_code == local
    assert all(r.acknowledged_at is not None for r in rows.values())
    assert rows[second.ma_ho_so_qg].dossier.applicant_name == "Trần Văn Bình"
    # The administrators' page links each to the dossier it became.
    from cchc.accounts.roles import Role

    web = Client()
    web.force_login(make_user(Role.ADMINISTRATOR))
    page = web.get("/quan-tri-dvcqg/ho-so-nhan/").content.decode()
    assert f'href="/ho-so/{dossier.code}/"' in page and first.ma_ho_so_qg in page


def test_a_stored_dossier_is_created_once_even_when_processed_twice(catalogue, now):
    submit()
    items = client.call(inbound.LIST_SERVICE, extra={"TuNgay": "20000101000000"})
    assert inbound.store(items + items, now=now) == 1
    assert inbound.store(items, now=now) == 0  # a second worker listing the same ones
    row = InboundDossier.objects.get()
    assert inbound.process(row.pk, now=now) is not None
    assert inbound.process(row.pk, now=now) is None  # already claimed
    assert Dossier.objects.count() == 1


def test_unknown_procedure_or_bad_file_is_refused_with_its_reason(catalogue, now, make_user, org):
    from cchc.nationalsim import seeding
    from cchc.nationalsim.models import SimInbound

    unknown = submit()
    body = dict(unknown.body, MaTTHC="9.999999", TenTTHC="Thủ tục lạ")
    SimInbound.objects.filter(pk=unknown.pk).update(body=body)
    # A text file attached on the portal: not a type dossiers accept.
    text = seeding.submit_inbound("1.009999", "Lê Văn Cường", unit=SIM["CCHC_DVCQG"]["madonvi"])
    text.body = dict(
        text.body,
        DanhSachTepDinhKem=[
            {
                "TenTepDinhKem": "don-de-nghi.txt",
                "MaThanhPhanHoSo": "1.009999-GT0",
                "NoiDungBase64": base64.b64encode(b"don de nghi").decode("ascii"),
            }
        ],
    )
    text.save(update_fields=["body"])

    report = inbound.fetch(now)

    assert report.created == [] and len(report.refused) == 2
    rows = {r.national_code: r for r in InboundDossier.objects.all()}
    assert rows[unknown.ma_ho_so_qg].state == InboundState.REFUSED
    assert "9.999999" in rows[unknown.ma_ho_so_qg].error
    assert "không có trong danh mục" in rows[unknown.ma_ho_so_qg].error
    assert rows[text.ma_ho_so_qg].state == InboundState.REFUSED
    assert "don-de-nghi.txt" in rows[text.ma_ho_so_qg].error
    assert Dossier.objects.count() == 0
    # Not acknowledged: the portal still lists them.
    assert SimInbound.objects.filter(acknowledged_at__isnull=True).count() == 2
    # Visible to administrators on the command line (names masked).
    out = io.StringIO()
    call_command("dvcqg", "inbound", "list", "--json", stdout=out)
    listed = json.loads(out.getvalue())
    assert {i["state"] for i in listed} == {"refused"}
    assert any("9.999999" in i["error"] for i in listed)
    assert all("Cường" not in i["ChuHoSo"] for i in listed)
    # And on their page, for administrators only.
    from cchc.accounts.roles import Role

    web = Client()
    web.force_login(make_user(Role.ADMINISTRATOR))
    page = web.get("/quan-tri-dvcqg/ho-so-nhan/?trang-thai=refused").content.decode()
    assert unknown.ma_ho_so_qg in page and "Thủ tục mã «9.999999»" in page
    assert "Lê Văn Cường" not in page
    web.force_login(make_user(Role.DESK_OFFICER, agency=org.justice))
    assert web.get("/quan-tri-dvcqg/ho-so-nhan/").status_code == 403
    # Fetching again does not create or refuse them twice.
    again = inbound.fetch(now)
    assert again.refused == [] and InboundDossier.objects.count() == 2


def test_an_acknowledgement_that_fails_is_sent_on_the_next_fetch(catalogue, now):
    from cchc.nationalsim import faults
    from cchc.nationalsim.models import SimInbound

    sent = submit()
    items = client.call(inbound.LIST_SERVICE, extra={"TuNgay": "20000101000000"})
    inbound.store(items, now=now)
    inbound.process(InboundDossier.objects.get().pk, now=now)
    faults.set(fail_rate=1.0)
    count, error = inbound.acknowledge(now=now)
    assert count == 0 and error
    assert InboundDossier.objects.get().acknowledged_at is None
    assert SimInbound.objects.get(pk=sent.pk).acknowledged_at is None

    faults.set(fail_rate=0.0)
    report = inbound.fetch(now)
    assert report.acknowledged == 1 and report.created == []
    row = InboundDossier.objects.select_related("dossier").get()
    assert row.acknowledged_at is not None
    assert SimInbound.objects.get(pk=sent.pk).local_code == row.dossier.code


def test_fetch_command_prints_json_and_fails_with_6_when_unreachable(catalogue, now, monkeypatch):
    from django.utils import timezone

    from cchc.nationalsim import faults

    monkeypatch.setattr(timezone, "now", lambda: now)  # the fixture's desk is open then
    submit()
    out = io.StringIO()
    call_command("dvcqg", "inbound", "fetch", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert len(report["created"]) == 1 and report["acknowledged"] == 1

    faults.set(fail_rate=1.0)
    client.forget_sessions()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as caught:
        call_command("dvcqg", "inbound", "fetch", "--json", stdout=io.StringIO())
    assert caught.value.returncode == 6


def test_a_refused_dossier_is_created_when_retried_after_the_catalogue_is_fixed(
    catalogue, now, monkeypatch
):
    from django.core.management.base import CommandError
    from django.utils import timezone

    from cchc.catalog.services import ProcedureData, save_procedure
    from cchc.nationalsim.models import SimInbound

    monkeypatch.setattr(timezone, "now", lambda: now)
    sent = submit(MaTTHC="1.000777", TenTTHC="Thủ tục mới của tỉnh")
    inbound.fetch(now)
    row = InboundDossier.objects.get()
    assert row.state == InboundState.REFUSED
    with pytest.raises(SystemExit) as exited:  # still unknown: exit 3
        call_command("dvcqg", "inbound", "retry", str(row.pk), stdout=io.StringIO())
    assert exited.value.code == 3
    save_procedure(
        SYSTEM,
        ProcedureData(
            code="1.000777",
            name="Thủ tục mới của tỉnh",
            field_name="Thử nghiệm",
            levels=("province",),
            agency_type="so-tu-phap",
            processing_time=Decimal(2),
        ),
        now=now,
    )
    out = io.StringIO()
    call_command("dvcqg", "inbound", "retry", str(row.pk), "--json", stdout=out)
    answer = json.loads(out.getvalue())
    assert answer["state"] == "created" and answer["acknowledged"] == 1
    assert SimInbound.objects.get(pk=sent.pk).local_code == answer["dossier"]
    # Only a refused one can be retried.
    with pytest.raises(CommandError, match="chỉ thử lại"):
        call_command("dvcqg", "inbound", "retry", str(row.pk), stdout=io.StringIO())


@pytest.mark.postgres_only
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (parallel connections and row locks)",
)
def test_workers_fetching_at_once_create_each_dossier_once(transactional_db, catalogue, now):
    import threading

    from django.db import connections

    from cchc.nationalsim import faults
    from cchc.nationalsim.models import SimInbound

    sent = [submit(name=f"Người nộp số {n}") for n in range(3)]
    faults.set(duplicate_inbound=True, shuffle_inbound=True)
    workers = 4
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=60)
            inbound.fetch(now)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert InboundDossier.objects.count() == 3
    assert Dossier.objects.count() == 3
    codes = dict(InboundDossier.objects.values_list("national_code", "dossier__code"))
    for row in SimInbound.objects.filter(pk__in=[s.pk for s in sent]):
        assert row.local_code == codes[row.ma_ho_so_qg]


def test_without_a_portal_the_periodic_fetches_do_nothing_and_succeed(db, settings, now):
    settings.CCHC_DVCQG = {**SIM["CCHC_DVCQG"], "url": ""}
    for argv in (("inbound", "fetch", "--json"), ("catalogue", "fetch", "--json")):
        out = io.StringIO()
        call_command("dvcqg", *argv, stdout=out)
        assert json.loads(out.getvalue()) == {"connected": False}
    assert InboundDossier.objects.count() == 0
    with pytest.raises(client.NotConnected):
        inbound.fetch(now)
