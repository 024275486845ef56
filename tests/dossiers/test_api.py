"""The dossier REST API: intake, online submission, queue, detail, transitions and files,
with the pages' permissions and the one error envelope; plus its published contract."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.accounts import tokens
from cchc.dossiers import api as dossier_api
from cchc.dossiers import files
from cchc.dossiers.models import Dossier
from tests.conftest import fresh
from tests.dossiers.conftest import at
from tests.test_api_errors import assert_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(built_world, db):
    """The dossier world, built once for this module; each test gets its own copy and runs
    in its own savepoint."""
    return fresh(built_world)


PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n"


class Clock:
    """The API's clock for a test: starts at the world's now, moves when told."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "files"


@pytest.fixture
def clock(world, monkeypatch):
    c = Clock(world.now)
    monkeypatch.setattr(dossier_api, "clock", c)
    return c


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def intake_payload(world, **changes):
    payload = {
        "desk": world.desk.code,
        "procedure": world.procedure.code,
        "applicant": {
            "name": "Trần Văn Bình",
            "id_number": "024190009876",
            "phone": "0987654321",
            "email": "binh@example.vn",
            "address": "Số 12 phố Nguyễn Văn Cừ",
        },
        "components": [
            {"document_id": d.pk, "originals": d.originals, "copies": d.copies}
            for d in world.procedure.documents.filter(mandatory=True)
        ],
    }
    payload.update(changes)
    return payload


def post(client, url, payload):
    return client.post(url, payload, content_type="application/json")


def move(client, dossier_code, action, version, **extra):
    return post(
        client,
        f"/api/dossiers/{dossier_code}/transitions",
        {"action": action, "expected_version": version, **extra},
    )


# -- intake -----------------------------------------------------------------------------------


def test_desk_intake_gives_code_due_and_appointment(world, clock, as_user):
    response = post(as_user(world.desk_officer), "/api/dossiers/", intake_payload(world))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["code"].startswith("000.00.30.H06-240603-")
    assert body["state"] == "received" and body["state_label"] == "Đã tiếp nhận"
    clocks = body["clocks"]
    assert clocks["received_at"] and clocks["original_due"] == clocks["due"]
    assert dt.datetime.fromisoformat(clocks["due"]) > world.now
    assert clocks["appointment"] and all(isinstance(line, str) for line in clocks["appointment"])
    assert clocks["steps"][0]["name"] == "Tiếp nhận, chuyển hồ sơ"
    assert all(s["due"] for s in clocks["steps"])
    assert [e["action"] for e in body["events"]] == ["submit", "receive"]
    assert body["fees"] == [{"name": "Phí cung cấp thông tin lý lịch tư pháp", "amount": 200000}]
    assert body["applicant"]["id_number"] == "024190009876"  # the desk sees it
    assert {"withdraw", "attach", "note"} <= {a["action"] for a in body["actions"]}
    assert Dossier.objects.get(code=body["code"]).version == body["version"] == 2


def test_intake_refusals(world, clock, as_user):
    client = as_user(world.desk_officer)
    error = assert_envelope(
        post(client, "/api/dossiers/", intake_payload(world, components=[])),
        400,
        "dossier.incomplete",
    )
    assert "Thiếu «Tờ khai yêu cầu cấp phiếu lý lịch tư pháp»" in error["message"]
    error = assert_envelope(
        post(client, "/api/dossiers/", intake_payload(world, channel=2, colour="red")),
        422,
        "invalid",
    )
    assert {tuple(e["loc"])[-1] for e in error["details"]["errors"]} == {"channel", "colour"}
    assert_envelope(
        post(client, "/api/dossiers/", intake_payload(world, desk="khong-co")),
        400,
        "dossier.desk",
    )
    # Only desk officers receive.
    assert_envelope(
        post(as_user(world.officer), "/api/dossiers/", intake_payload(world)), 403, "forbidden"
    )
    assert not Dossier.objects.exists()


def test_online_submission_then_desk_receives(world, clock, as_user):
    payload = intake_payload(world)
    response = post(as_user(world.citizen), "/api/dossiers/online", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "submitted" and body["channel"] == 2
    # The applicant may only withdraw their own submission.
    assert body["clocks"]["due"] is None
    assert [a["action"] for a in body["actions"]] == ["withdraw"]
    assert body["applicant"]["masked"] is False  # the applicant sees their own data

    clock.now = at("2024-06-04", "10:00")
    desk = as_user(world.desk_officer)
    moved = move(desk, body["code"], "receive", body["version"])
    assert moved.status_code == 200, moved.content
    assert moved.json()["state"] == "received"
    received = dt.datetime.fromisoformat(moved.json()["clocks"]["received_at"])
    assert received == clock.now


# -- reading ----------------------------------------------------------------------------------


def test_queue_pages_by_cursor_and_is_scoped(world, clock, as_user):
    codes = [world.intake(at=at("2024-06-03", f"0{h}:00")).code for h in (8, 9)]
    codes.append(world.intake(at=at("2024-06-04")).code)
    client = as_user(world.leader)
    first = client.get("/api/dossiers/", {"limit": 2}).json()
    assert [d["code"] for d in first["items"]] == codes[:2] and first["next"]
    second = client.get("/api/dossiers/", {"limit": 2, "after": first["next"]}).json()
    assert [d["code"] for d in second["items"]] == codes[2:] and second["next"] is None
    found = client.get("/api/dossiers/", {"q": codes[1]}).json()["items"]
    assert [d["code"] for d in found] == [codes[1]]
    assert client.get("/api/dossiers/", {"state": "returned"}).json()["items"] == []
    assert_envelope(client.get("/api/dossiers/", {"state": "bogus"}), 400, "queue.state")
    assert_envelope(client.get("/api/dossiers/", {"limit": 1000}), 422, "invalid")
    assert as_user(world.outsider).get("/api/dossiers/").json()["items"] == []


def test_detail_masks_personal_data_for_the_supervisor(world, clock, as_user):
    code = world.intake().code
    seen = as_user(world.supervisor).get(f"/api/dossiers/{code}")
    assert seen.status_code == 200
    applicant = seen.json()["applicant"]
    assert applicant["masked"] is True
    assert applicant["id_number"] == "*********234"
    assert applicant["phone"] == "*******678"
    assert "Hoàng Văn Thụ" not in applicant["address"]
    assert "hoa@" not in applicant["email"]
    assert seen.json()["actions"] == []
    leader_view = as_user(world.leader).get(f"/api/dossiers/{code}").json()
    assert leader_view["applicant"]["id_number"] == "024190001234"
    assert {a["action"] for a in leader_view["actions"]} >= {"assign", "request_supplement"}


def test_someone_elses_dossier_is_not_revealed(world, clock, as_user):
    code = world.intake().code
    client = as_user(world.outsider)
    hidden = assert_envelope(client.get(f"/api/dossiers/{code}"), 404, "dossier.not_found")
    absent = assert_envelope(client.get("/api/dossiers/X-000000-0000"), 404, "dossier.not_found")
    assert hidden["message"] == f"Không tìm thấy hồ sơ {code}."
    assert absent["message"] == "Không tìm thấy hồ sơ X-000000-0000."
    assert_envelope(
        move(client, code, "request_supplement", 2, reason="x"), 404, "dossier.not_found"
    )


# -- transitions ------------------------------------------------------------------------------


def test_a_dossier_goes_from_desk_to_result(world, clock, as_user, client):
    code = world.intake().code
    leader, officer = world.leader, world.officer

    clock.now = at("2024-06-03", "10:00")
    client.force_login(leader)
    body = move(client, code, "assign", 2, data={"assignee": officer.pk}).json()
    assert body["state"] == "in_progress" and body["assignee"]["id"] == officer.pk

    client.force_login(officer)
    clock.now = at("2024-06-04", "10:00")
    body = move(client, code, "propose", body["version"]).json()
    assert body["state"] == "awaiting_approval"

    client.force_login(leader)
    body = move(
        client, code, "approve", body["version"], data={"results": [{"title": "Phiếu LLTP số 1"}]}
    ).json()
    assert body["state"] == "resolved"
    assert body["results"][0]["code"] == f"{code}-KQ1"

    client.force_login(world.desk_officer)
    clock.now = at("2024-06-05", "09:00")
    body = move(client, code, "return_result", body["version"]).json()
    assert body["state"] == "returned" and body["outcome"] == "early"
    assert [e["action"] for e in body["events"]][-4:] == [
        "assign",
        "propose",
        "approve",
        "return_result",
    ]
    slip = body["clocks"]["handoffs"]
    assert slip and all(h["outcome"] in ("early", "on_time", "overdue") for h in slip)
    assert {a["action"] for a in body["actions"]} <= {"attach", "note"}


def test_illegal_transition_is_refused_and_leaves_no_event(world, clock, as_user):
    dossier = world.intake()
    client = as_user(world.desk_officer)
    error = assert_envelope(
        move(client, dossier.code, "return_result", dossier.version),
        400,
        "dossier.illegal_transition",
    )
    assert "chưa được giải quyết xong" in error["message"]
    dossier.refresh_from_db()
    assert dossier.version == 2 and dossier.events.count() == 2


def test_action_outside_ones_role_is_forbidden(world, clock, as_user):
    dossier = world.intake()
    response = move(
        as_user(world.supervisor), dossier.code, "request_supplement", 2, reason="Thiếu ảnh"
    )
    assert_envelope(response, 403, "dossier.forbidden")


def test_stale_version_is_a_conflict(world, clock, as_user):
    dossier = world.intake()
    client = as_user(world.leader)
    assert move(client, dossier.code, "note", 2, reason="Đã xem").status_code == 200
    error = assert_envelope(
        move(client, dossier.code, "request_supplement", 2, reason="Thiếu ảnh"),
        409,
        "dossier.conflict",
    )
    assert "phiên bản 2, hiện tại là 3" in error["message"]


def test_transition_input_is_validated(world, clock, as_user):
    code = world.intake().code
    client = as_user(world.leader)
    assert_envelope(move(client, code, "teleport", 2), 422, "invalid")
    assert_envelope(
        post(client, f"/api/dossiers/{code}/transitions", {"action": "note"}), 422, "invalid"
    )
    assert_envelope(
        move(client, code, "request_supplement", 2, reason="  "), 400, "dossier.reason_required"
    )


def test_bearer_token_acts_with_the_users_permissions(world, clock, client):
    issued = tokens.create_token(world.leader, world.leader, name="Tích hợp", now=world.now)
    code = world.intake().code
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.key}"}
    response = client.post(
        f"/api/dossiers/{code}/transitions",
        {"action": "assign", "expected_version": 2, "data": {"assignee": world.officer.pk}},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 200, response.content
    assert response.json()["events"][-1]["actor"] == world.leader.full_name


# -- files ------------------------------------------------------------------------------------


def upload(client, code, name, content, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        f"/api/dossiers/{code}/files", {"file": SimpleUploadedFile(name, content), **fields}
    )


def test_upload_then_download(world, clock, as_user):
    code = world.intake().code
    client = as_user(world.desk_officer)
    response = upload(client, code, "to-khai.pdf", PDF, reason="Bản quét tờ khai")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["file"]["content_type"] == "application/pdf" and body["file"]["size"] == len(PDF)
    assert body["dossier"]["events"][-1]["action"] == "attach"
    assert body["dossier"]["events"][-1]["files"] == [body["file"]["id"]]

    got = as_user(world.leader).get(body["file"]["url"])
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF
    assert got["Content-Disposition"].startswith("attachment")
    assert_envelope(as_user(world.supervisor).get(body["file"]["url"]), 403, "file.forbidden")
    assert_envelope(as_user(world.outsider).get(body["file"]["url"]), 404, "dossier.not_found")
    assert_envelope(
        as_user(world.leader).get(f"/api/dossiers/{code}/files/999999"), 404, "file.not_found"
    )


def test_bad_files_are_refused_with_the_reason(world, clock, as_user, monkeypatch):
    dossier = world.intake()
    client = as_user(world.desk_officer)
    error = assert_envelope(upload(client, dossier.code, "virus.exe", b"MZ"), 400, "file.type")
    assert "«virus.exe» có định dạng không được chấp nhận" in error["message"]
    error = assert_envelope(upload(client, dossier.code, "anh.png", PDF), 400, "file.content")
    assert "không đúng định dạng .png" in error["message"]
    monkeypatch.setattr(files, "MAX_BYTES", 8)
    assert_envelope(upload(client, dossier.code, "to-khai.pdf", PDF), 400, "file.too_large")
    assert_envelope(
        upload(as_user(world.supervisor), dossier.code, "to-khai.pdf", PDF),
        403,
        "dossier.forbidden",
    )
    dossier.refresh_from_db()
    assert dossier.version == 2 and not dossier.files.exists()


# -- the published contract -------------------------------------------------------------------

DOSSIER_PATHS = {
    "/api/dossiers/": {"get", "post"},
    "/api/dossiers/online": {"post"},
    "/api/dossiers/{code}": {"get"},
    "/api/dossiers/{code}/transitions": {"post"},
    "/api/dossiers/{code}/files": {"post"},
    "/api/dossiers/{code}/files/{file_id}": {"get"},
}


def _ref(schema: dict) -> str:
    return schema.get("$ref", "").rsplit("/", 1)[-1]


def test_openapi_contract(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    for path, methods in DOSSIER_PATHS.items():
        assert methods <= set(paths.get(path, {})), path

    # Separate input and output schemas for every dossier operation with a JSON body.
    for path in DOSSIER_PATHS:
        for op in paths[path].values():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            given = _ref(body["schema"])
            returned = {
                _ref(r["content"]["application/json"]["schema"])
                for status, r in op["responses"].items()
                if status.startswith("2")
            }
            assert given and not given.endswith("Out") and given not in returned
            assert all(name.endswith("Out") for name in returned)

    # Every documented error response, anywhere in the API, is the envelope.
    envelope = schemas["ErrorOut"]
    assert envelope["required"] == ["error"]
    body = schemas[_ref(envelope["properties"]["error"])]
    assert set(body["required"]) == {"code", "message", "details"}
    for path, ops in paths.items():
        for method, op in ops.items():
            for status, r in op["responses"].items():
                if int(status) >= 400:
                    ref = _ref(r["content"]["application/json"]["schema"])
                    assert ref == "ErrorOut", (method, path, status)
    for path in DOSSIER_PATHS:
        for op in paths[path].values():
            expected = {"401", "422"} | ({"404"} if "{code}" in path else set())
            assert expected <= set(op["responses"]), path
    assert {"BearerToken", "SessionAuth"} <= set(spec["components"]["securitySchemes"])
