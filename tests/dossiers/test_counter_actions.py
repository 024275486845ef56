"""After intake and appointments on working time (issue 17, part "counter"): the dossier page
puts printing first and dangerous actions last behind a confirmation; any appointment an
officer types must fall in the calendar's working time, on the page and in the API."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cchc.dossiers import services
from cchc.dossiers.models import State
from cchc.errors import InvalidInput
from tests.conftest import NOW, VN

SATURDAY = "2024-06-08T08:00"


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: NOW)


def _in_progress(world):
    d = world.intake(at=NOW)
    services.act(world.leader, d, "assign", now=NOW, data={"assignee": world.officer.pk})
    d.refresh_from_db()
    return d


def _details(page: str) -> list[tuple[str, bool, bool]]:
    """(action code, open, dangerous) of each action on the page, in order."""
    out = []
    for m in re.finditer(
        r'<details class="action"( open)? id="act-(\w+)">\s*<summary class="(\w*)"', page
    ):
        out.append((m.group(2), bool(m.group(1)), m.group(3) == "danger"))
    return out


def test_received_dossier_page_prints_first_and_keeps_danger_last(client, world):
    d = world.intake(at=NOW)
    client.force_login(world.desk_officer)
    page = client.get(reverse("dossiers:detail", args=[d.code])).content.decode()
    receipt = reverse("dossiers:form", args=[d.code, "receipt"])
    top = page.index('class="print-first"')
    assert top < page.index('id="act-h"')
    assert f'href="{receipt}"' in page[top : top + 400]
    assert "In giấy tiếp nhận và hẹn trả kết quả" in page[top : top + 400]
    actions = _details(page)
    assert actions, "the desk officer has actions on a received dossier"
    dangerous = [a for a in actions if a[2]]
    assert dangerous and actions[-len(dangerous) :] == dangerous  # dangerous last
    assert not actions[0][2]
    assert not any(opened for _, opened, danger in actions if danger)
    withdraw = page[page.index('id="act-withdraw"') :]
    withdraw = withdraw[: withdraw.index("</details>")]
    assert re.search(r'<textarea name="reason"[^>]*required', withdraw)
    assert re.search(r'name="confirm" value="1" required', withdraw)
    assert f"Tôi xác nhận thao tác «Rút hồ sơ» đối với hồ sơ {d.code}" in withdraw


def test_banner_after_intake_offers_form_01_once(client, world):
    from tests.dossiers.test_counter_intake import _form

    client.force_login(world.desk_officer)
    response = client.post(reverse("dossiers:intake"), _form(world))
    first = client.get(response["Location"]).content.decode()
    code = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    receipt = reverse("dossiers:form", args=[code, "receipt"])
    banner = re.search(r'<div class="messages">.*?</div>', first, re.S).group(0)
    assert "Đã tiếp nhận hồ sơ" in banner
    assert f'<a class="button primary" href="{receipt}"' in banner
    assert "print-first" not in first  # one print button, in the banner
    again = client.get(response["Location"]).content.decode()
    assert '<div class="messages">' not in again and "print-first" in again


def test_a_dangerous_action_needs_the_confirmation(client, world):
    d = world.intake(at=NOW)
    client.force_login(world.desk_officer)
    url = reverse("dossiers:act", args=[d.code])
    reason = "Người nộp xin rút hồ sơ để nộp lại sau."
    response = client.post(url, {"action": "withdraw", "reason": reason, "version": d.version})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Đánh dấu ô «Tôi xác nhận…» để rút hồ sơ" in page
    assert reason in page  # what was typed is kept
    assert ("withdraw", True, True) in _details(page)  # the refused action stays open
    d.refresh_from_db()
    assert d.state == State.RECEIVED
    response = client.post(
        url, {"action": "withdraw", "reason": reason, "confirm": "1", "version": d.version}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == State.WITHDRAWN


def test_working_instant_check_explains_and_proposes(world):
    d = _in_progress(world)
    proposal = services.propose_appointment(d, now=NOW)
    with pytest.raises(InvalidInput) as caught:
        services.check_working_instant(d, SATURDAY, proposal=proposal)
    error = caught.value
    assert error.code == "dossier.non_working_instant"
    assert "Thứ Bảy 08/06/2024 là ngày nghỉ theo lịch «" in error.message
    assert re.search(r"; giờ làm việc 07:30–11:30, 13:30–17:[03]0\. Đề xuất", error.message)
    assert f"Đề xuất: {proposal.astimezone(VN):%H:%M %d/%m/%Y}." in error.message
    assert error.details["proposal"] == proposal.astimezone(VN).isoformat()
    # Outside the sessions of a working day; the next working instant proposed.
    with pytest.raises(InvalidInput) as caught:
        services.check_working_instant(d, "2024-06-10T12:15")
    assert "12:15 Thứ Hai 10/06/2024 nằm ngoài giờ làm việc" in caught.value.message
    assert "Đề xuất: 13:30 10/06/2024." in caught.value.message
    with pytest.raises(InvalidInput) as caught:
        services.check_working_instant(d, "2024-06-10T18:00")
    assert "Đề xuất: 07:30 11/06/2024." in caught.value.message
    # Session bounds are working instants; naive input is local time.
    assert services.check_working_instant(d, "2024-06-10T07:30") == dt.datetime(
        2024, 6, 10, 7, 30, tzinfo=VN
    )
    with pytest.raises(InvalidInput, match="không đúng định dạng"):
        services.check_working_instant(d, "thứ hai")


def test_saturday_appointment_refused_on_the_page_and_the_proposal_accepted(client, world):
    d = _in_progress(world)
    client.force_login(world.leader)
    url = reverse("dossiers:act", args=[d.code])
    reason = "Hồ sơ cần xác minh thêm tại cơ quan công an."
    response = client.post(
        url,
        {
            "action": "apologise",
            "new_due": SATURDAY,
            "reason": reason,
            "reference": "12/STP-XL",
            "delivery": "email",
            "version": d.version,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Thứ Bảy 08/06/2024 là ngày nghỉ theo lịch" in page
    proposal = services.propose_appointment(d, now=NOW).astimezone(VN)
    assert f"Đề xuất: {proposal:%H:%M %d/%m/%Y}" in page
    assert f'name="new_due" value="{proposal:%Y-%m-%dT%H:%M}"' in page  # prefilled
    assert reason in page and 'value="12/STP-XL"' in page
    d.refresh_from_db()
    assert d.extensions == 0
    response = client.post(
        url,
        {
            "action": "apologise",
            "new_due": f"{proposal:%Y-%m-%dT%H:%M}",
            "reason": reason,
            "reference": "12/STP-XL",
            "delivery": "email",
            "version": d.version,
        },
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.extensions == 1 and d.due == proposal


def test_saturday_appointment_refused_by_the_api(client, world):
    from cchc.dossiers import api as dossier_api

    d = _in_progress(world)
    client.force_login(world.leader)
    body = {
        "action": "apologise",
        "reason": "Cần xác minh thêm.",
        "expected_version": d.version,
        "data": {"new_due": SATURDAY + ":00+07:00"},
    }
    url = f"/api/dossiers/{d.code}/transitions"
    pytest.MonkeyPatch().setattr(dossier_api, "clock", lambda: NOW)
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "dossier.non_working_instant"
    assert "Thứ Bảy 08/06/2024 là ngày nghỉ" in error["message"]
    body["data"]["new_due"] = error["details"]["proposal"]
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200, response.content
    d.refresh_from_db()
    assert d.due == dt.datetime.fromisoformat(error["details"]["proposal"])


def test_detail_page_queries_do_not_grow_with_the_dossier(client, world):
    small = world.intake(at=NOW)
    big = _in_progress(world)
    for n in range(5):
        services.act(world.officer, big, "note", now=NOW, reason=f"Ghi chú {n}")
    client.force_login(world.desk_officer)
    counts = []
    for d in (small, big):
        with CaptureQueriesContext(connection) as q:
            assert client.get(reverse("dossiers:detail", args=[d.code])).status_code == 200
        counts.append(len(q.captured_queries))
    assert counts[1] <= counts[0] + 2, counts  # an assignee and officers list at most
    assert max(counts) <= 45, counts
