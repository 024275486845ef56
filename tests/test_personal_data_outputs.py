"""Personal data follows the viewer in every output (issue 14, item 1; NĐ 13/2023).

For each output that carries an applicant's data — the dossier page (with the messages sent
to the applicant and the timeline), the work queue, the API, each printed form, the
receipt, the register workbook, the CSV/XLSX/Parquet exports and the dashboard drill-down —
a role with `dossier.personal_data` over the dossier gets the full name, identity number,
address, phone and e-mail, and the provincial supervisor (who sees every dossier of the
province but lacks the grant) gets none of them, only their masked forms.

Reports carry no personal data (aggregates only), and the staff inbox carries none either
(risk warnings and PAKN reminders name the dossier or PAKN by code); neither is tested here.
"""

# ruff: noqa: F811  (the `world` and `dash` fixtures are imported, then requested by name)

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
import unicodedata
from typing import Any

import pytest
from django.urls import reverse

from cchc import privacy
from cchc.audit.models import AuditEntry
from cchc.dossiers import intake, services
from tests.dashboard.conftest import dash  # noqa: F401  (the `dash` fixture)
from tests.dossiers.conftest import at, world  # noqa: F401  (the `world` fixture)
from tests.dossiers.factories import applicant, components_for

pytestmark = pytest.mark.django_db

NAME = "Nguyễn Thị Hoà"  # the default applicant of tests.dossiers.factories
ID_NUMBER = "024190001234"
ADDRESS = "Số 5 đường Hoàng Văn Thụ, phường Trần Phú"
PHONE = "0912345678"
EMAIL = "hoa@example.vn"
EVERYTHING = (NAME, ID_NUMBER, ADDRESS, PHONE, EMAIL)
MASKED = {
    NAME: "N*** T*** H***",
    ID_NUMBER: "*********234",
    ADDRESS: privacy.WITHHELD,
    PHONE: "*******678",
    EMAIL: "h***@example.vn",
}
PDFTOTEXT = shutil.which("pdftotext")


def words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    out = subprocess.run(
        [PDFTOTEXT or "pdftotext", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    return words(out.stdout.decode("utf-8"))


def assert_full(text: str, values: tuple[str, ...]) -> None:
    for value in values:
        assert value in text, f"{value!r} missing for a reader with the grant"


def assert_masked(text: str, values: tuple[str, ...], *, shown: tuple[str, ...] = ()) -> None:
    """None of `values` in `text`; the masked forms of `shown` are there instead."""
    for value in values:
        assert value not in text, f"{value!r} leaked to a reader without the grant"
    for value in shown:
        assert MASKED[value] in text, f"masked {value!r} missing"


def get(client: Any, user: Any, url: str, **params: Any) -> Any:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return response


def assign(w: Any, d: Any, when: dt.datetime) -> None:
    services.act(w.leader, d, "assign", now=when, data={"assignee": w.officer.pk})


# -- the rule itself ------------------------------------------------------------------------------


def test_one_rule_table_masks_each_field():
    seen = privacy.Person.seen(
        full=False, name=NAME, id_number=ID_NUMBER, address=ADDRESS, phone=PHONE, email=EMAIL
    )
    assert (seen.name, seen.id_number, seen.address, seen.phone, seen.email) == tuple(
        MASKED[v] for v in EVERYTHING
    )
    assert seen.masked
    full = privacy.Person.seen(
        full=True, name=NAME, id_number=ID_NUMBER, address=ADDRESS, phone=PHONE, email=EMAIL
    )
    assert (full.name, full.id_number, full.address, full.phone, full.email) == EVERYTHING
    assert privacy.shown(privacy.Field.EMAIL, "", full=False) == ""
    assert privacy.mask_email("no-at-sign") == "*******ign"
    assert set(privacy.RULES) == set(privacy.Field)


def test_feedback_contact_uses_the_same_rule(world):
    from cchc.feedback import access as feedback_access
    from cchc.feedback.models import Feedback

    feedback = Feedback(
        code="PAKN-1",
        agency_id=world.org.justice.pk,
        name=NAME,
        phone=PHONE,
        email=EMAIL,
    )
    masked = feedback_access.contact(world.supervisor, feedback)
    assert (masked["name"], masked["phone"], masked["email"]) == (
        MASKED[NAME],
        MASKED[PHONE],
        MASKED[EMAIL],
    )
    full = feedback_access.contact(world.officer, feedback)
    assert (full["name"], full["phone"], full["email"]) == (NAME, PHONE, EMAIL)


# -- pages and API --------------------------------------------------------------------------------


def test_dossier_page_with_timeline_and_messages_to_the_applicant(client, world):
    from cchc.notifications.models import Notification

    online = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at("2024-06-03", "08:15"),
    )
    services.act(world.desk_officer, online, "receive", now=at("2024-06-03", "09:00"))
    channels = set(
        Notification.objects.filter(dossier_id=online.pk).values_list("channel", flat=True)
    )
    assert {"email", "sms"} <= channels  # the page lists them with their addresses
    url = reverse("dossiers:detail", args=[online.code])
    citizen = world.citizen.full_name  # the actor of the submission, on the timeline
    assert citizen and citizen != NAME

    full = get(client, world.leader, url).content.decode()
    assert_full(full, (*EVERYTHING, citizen))
    masked = get(client, world.supervisor, url).content.decode()
    assert_masked(masked, (*EVERYTHING, citizen), shown=EVERYTHING)
    assert privacy.mask_name(citizen) in masked


def test_work_queue_page(client, world):
    d = world.intake()
    url = reverse("dossiers:queue")
    assert d.code in get(client, world.leader, url, trang_thai="all").content.decode()
    assert NAME in get(client, world.leader, url, trang_thai="all").content.decode()
    masked = get(client, world.supervisor, url, trang_thai="all").content.decode()
    assert d.code in masked
    assert_masked(masked, (NAME,), shown=(NAME,))


def test_searching_the_queue_by_name_reveals_nothing_without_the_grant(client, world):
    """A reader who sees the name masked must not confirm it by searching for it; the code
    and the procedure remain searchable for them."""
    d = world.intake()
    url = reverse("dossiers:queue")
    surname = NAME.split()[-1]  # "Hoà": a search by part of the name
    for text in (NAME, surname, "nguyen thi hoa"):
        assert d.code in get(client, world.leader, url, trang_thai="all", q=text).content.decode()
        found = get(client, world.supervisor, url, trang_thai="all", q=text).content.decode()
        assert d.code not in found, f"{text!r} found the dossier for the supervisor"
    by_procedure = world.procedure.name.split()[-1]
    found = get(client, world.supervisor, url, trang_thai="all", q=by_procedure).content.decode()
    assert d.code in found
    found = get(client, world.supervisor, url, trang_thai="all", q=d.code).content.decode()
    assert d.code in found


def test_api_dossier_detail_and_queue(client, world):
    online = intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at("2024-06-03", "08:15"),
    )
    services.act(world.desk_officer, online, "receive", now=at("2024-06-03", "09:00"))
    citizen = world.citizen.full_name

    def seen(user: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        detail = get(client, user, f"/api/dossiers/{online.code}").json()
        queue = get(client, user, "/api/dossiers/", state="all").json()["items"]
        return detail, queue

    detail, queue = seen(world.desk_officer)
    person = detail["applicant"]
    assert (person["name"], person["id_number"], person["address"]) == (NAME, ID_NUMBER, ADDRESS)
    assert (person["phone"], person["email"], person["masked"]) == (PHONE, EMAIL, False)
    assert detail["events"][0]["actor"] == citizen
    assert [i["applicant_name"] for i in queue if i["code"] == online.code] == [NAME]

    detail, queue = seen(world.supervisor)
    person = detail["applicant"]
    assert [person[k] for k in ("name", "id_number", "address", "phone", "email")] == [
        MASKED[v] for v in EVERYTHING
    ]
    assert person["masked"] is True
    assert detail["events"][0]["actor"] == privacy.mask_name(citizen)
    assert [i["applicant_name"] for i in queue if i["code"] == online.code] == [MASKED[NAME]]
    assert_masked(repr(detail) + repr(queue), (*EVERYTHING, citizen))


# -- printed forms --------------------------------------------------------------------------------


def _walked(w: Any, purpose: str) -> Any:
    """A dossier (TT 01/2018) on which the form for `purpose` can be printed."""
    d = w.intake(at=at("2024-06-07", "15:30"))
    if purpose in ("supplement", "apology"):
        assign(w, d, at("2024-06-10", "10:00"))
        services.act(
            w.officer, d, "request_supplement", now=at("2024-06-10", "14:00"), reason="Thiếu."
        )
    if purpose == "apology":
        services.act(w.desk_officer, d, "supplement_received", now=at("2024-06-11", "10:00"))
        services.act(
            w.officer, d, "apologise", now=at("2024-06-11", "10:30"), reason="Cần xác minh."
        )
    if purpose == "refusal":
        assign(w, d, at("2024-06-10", "10:00"))
        services.act(w.leader, d, "refuse", now=at("2024-06-10", "11:00"), reason="Không đủ.")
    d.refresh_from_db()
    return d


# purpose -> the applicant's data the form prints
FORMS = {
    "receipt": EVERYTHING[:1] + EVERYTHING[2:],  # 01: name, address, phone, e-mail
    "supplement": EVERYTHING[:1] + EVERYTHING[2:],  # 02
    "refusal": EVERYTHING[:1] + EVERYTHING[2:],  # 03
    "apology": (NAME,),  # 04
    "control": (NAME,),  # 05 (TT 01/2018), 06 (TT 03/2025)
}


@pytest.mark.parametrize("purpose", list(FORMS))
def test_form_pdf_follows_the_reader_and_is_audited(client, world, purpose):
    d = _walked(world, purpose)
    url = reverse("dossiers:form", args=[d.code, purpose])
    printed = FORMS[purpose]

    full = pdf_text(get(client, world.desk_officer, url).content)
    assert_full(full, printed)
    assert "đã được che" not in full
    masked = pdf_text(get(client, world.supervisor, url).content)
    assert_masked(masked, EVERYTHING, shown=printed)
    assert "dữ liệu cá nhân của người nộp đã được che" in masked

    entries = AuditEntry.objects.filter(
        action="dossier.form.printed", object_id=str(d.pk)
    ).order_by("id")
    assert [(e.actor, e.data["purpose"], e.data["personal_data"]) for e in entries] == [
        (world.desk_officer, purpose, True),
        (world.supervisor, purpose, False),
    ]


def test_stop_form_of_tt03(client, world, make_user):
    from cchc.accounts.policy import SYSTEM
    from cchc.accounts.roles import Role
    from cchc.org.models import Desk
    from cchc.org.structure import load_structure

    load_structure(
        SYSTEM,
        {
            "desks": [
                {
                    "code": "ttpvhcc-bn",
                    "name": "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
                    "unit": "24",
                    "host_agency": "000.00.12.H27",
                    "receives_for": ["000.00.12.H27"],
                    "calendar": "vn-civil-service",
                    "valid_from": "2025-07-01",
                }
            ]
        },
        now=world.now,
    )
    desk = Desk.objects.get(code="ttpvhcc-bn")
    justice = world.org.justice_2025
    desk_officer = make_user(Role.DESK_OFFICER, agency=justice, desk=desk)
    leader = make_user(Role.AGENCY_LEADER, agency=justice)
    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=world.org.province_2025)
    d = intake.receive_at_desk(
        desk_officer,
        desk=desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at("2025-08-01", "09:00"),
    )
    services.act(leader, d, "stop", now=at("2025-08-05", "09:00"), reason="Dừng để xác minh.")
    url = reverse("dossiers:form", args=[d.code, "stop"])
    assert_full(pdf_text(get(client, leader, url).content), (NAME,))
    masked = pdf_text(get(client, supervisor, url).content)
    assert "Mẫu số 05" in masked
    assert_masked(masked, EVERYTHING, shown=(NAME,))


def test_the_applicants_emailed_copy_is_complete(world):
    from cchc.dossiers.access import TO_APPLICANT
    from cchc.dossiers.documents import render_form

    d = world.intake()
    _, data = render_form(d, "receipt", viewer=TO_APPLICANT)
    assert_full(pdf_text(data), FORMS["receipt"])


# -- receipt and register -------------------------------------------------------------------------


def test_receipt_pdf_names_the_payer_by_the_name_rule(client, world):
    from cchc.payments import services as payments

    d = world.intake()
    receipt = payments.record_cash(world.desk_officer, d, 200_000)
    url = reverse("payments:receipt", args=[receipt.number])
    assert_full(pdf_text(get(client, world.desk_officer, url).content), (NAME,))
    masked = pdf_text(get(client, world.supervisor, url).content)
    assert receipt.number in masked
    assert_masked(masked, EVERYTHING, shown=(NAME,))
    entries = AuditEntry.objects.filter(action="payment.receipt.printed").order_by("id")
    assert [(e.actor, e.data["personal_data"]) for e in entries] == [
        (world.desk_officer, True),
        (world.supervisor, False),
    ]


def test_register_workbook(client, world):
    from openpyxl import load_workbook

    d = world.intake(at=at("2024-06-03", "09:00"))
    url = reverse("dossiers:register")

    def cells(user: Any) -> str:
        response = get(client, user, url, start="2024-06-01", end="2024-06-30")
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c]
        assert d.code in values
        return " | ".join(values)

    assert_full(cells(world.desk_officer), (NAME, ADDRESS, PHONE))
    assert_masked(cells(world.supervisor), EVERYTHING, shown=(NAME, ADDRESS, PHONE))
    entries = AuditEntry.objects.filter(action="dossier.register.downloaded").order_by("id")
    assert [(e.actor, e.data["rows"], e.data["personal_data"]) for e in entries] == [
        (world.desk_officer, 1, True),
        (world.supervisor, 1, False),
    ]


# -- exports and the drill-down -------------------------------------------------------------------


def _export_text(user: Any, fmt: str, tmp_path: Any) -> str:
    from cchc.interop import exports

    export = exports.dossier_export(user, exports.ExportFilters())
    path = tmp_path / f"{user.pk}.{fmt}"
    exports.write_file(export, fmt, path)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        rows = [
            list(r) for r in load_workbook(path, read_only=True).active.iter_rows(values_only=True)
        ]
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        rows = [table.column_names, *[list(r.values()) for r in table.to_pylist()]]
    header = rows[0]
    assert "Điện thoại người nộp" in header  # the same columns for every reader
    return repr(rows)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_dossier_export(world, tmp_path, fmt):
    world.intake()
    assert_full(_export_text(world.leader, fmt, tmp_path), EVERYTHING)
    assert_masked(_export_text(world.supervisor, fmt, tmp_path), EVERYTHING, shown=EVERYTHING)


def test_event_export_names_the_acting_applicant_by_the_name_rule(world):
    from cchc.interop import exports

    intake.submit_online(
        world.citizen,
        desk=world.desk,
        procedure=world.procedure,
        applicant=applicant(),
        components=components_for(world.procedure),
        now=at("2024-06-03", "08:15"),
    )
    citizen = world.citizen.full_name

    def actors(user: Any) -> set[str]:
        return {row[6] for row in exports.event_export(user, exports.ExportFilters()).rows}

    assert actors(world.leader) == {citizen}
    assert actors(world.supervisor) == {privacy.mask_name(citizen)}


def test_dashboard_drill_down(client, dash):
    url = reverse("dashboard:drill", args=["T4"])
    params = {"period": "2024-06", "agency": dash.world.org.justice.pk}
    assert_full(get(client, dash.world.leader, url, **params).content.decode(), (NAME, ID_NUMBER))
    masked = get(client, dash.world.supervisor, url, **params).content.decode()
    assert_masked(masked, EVERYTHING, shown=(NAME, ID_NUMBER))


def test_pakn_page_names_a_signed_in_sender_by_the_name_rule(client, world):
    """The staff PAKN page: contact block and timeline. A signed-in citizen's name is the
    actor of the submission; the supervisor (feedback.view without feedback.handle) sees it
    by the name rule, the handling officer in full."""
    from cchc.feedback import services as feedback_services

    sender = world.citizen.full_name
    pakn = feedback_services.submit(
        world.citizen,
        feedback_services.Submission(
            name=sender,
            phone=PHONE,
            email=EMAIL,
            subject="Chậm trả kết quả",
            content="Hồ sơ đã quá hẹn mà chưa có kết quả.",
            agency_id=world.org.justice.pk,
        ),
        now=at("2024-06-03", "08:00"),
    )
    url = reverse("feedback:detail", args=[pakn.code])
    full = get(client, world.leader, url).content.decode()
    assert sender in full and PHONE in full
    masked = get(client, world.supervisor, url).content.decode()
    assert sender not in masked and PHONE not in masked and EMAIL not in masked
    assert privacy.mask_name(sender) in masked
