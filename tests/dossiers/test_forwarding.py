"""Forwarding (liên thông) only to an agency that may handle the dossier's procedure at that
date (issue 14, item 8): service, page and API.

The world's procedure is carried out at province level by Sở Tư pháp (2024 structure of
Bắc Giang): Sở Xây dựng (province) may receive it; the city's People's Committee (district
level) may not, nor Sở Tư pháp of the merged province, which exists only from 1/7/2025.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from cchc.accounts.policy import SYSTEM
from cchc.audit.models import AuditEntry
from cchc.catalog import competence
from cchc.dossiers import api as dossier_api
from cchc.dossiers import services
from cchc.errors import InvalidInput
from cchc.org.models import Agency
from cchc.org.structure import load_structure
from tests.dossiers.conftest import at
from tests.test_api_errors import assert_envelope

pytestmark = pytest.mark.django_db

MON = "2024-06-03"


def in_progress(w):
    d = w.intake(at=at(MON, "09:00"))
    services.act(w.leader, d, "assign", now=at(MON, "09:30"), data={"assignee": w.officer.pk})
    d.refresh_from_db()
    return d


def forward(w, d, agency, when="10:00"):
    return services.act(w.officer, d, "forward", now=at(MON, when), data={"agency": agency.pk})


def refusals(d):
    return [
        e.data["code"]
        for e in AuditEntry.objects.filter(action="dossier.refused", object_id=str(d.pk))
    ]


def test_forward_to_an_agency_that_may_not_handle_the_procedure_is_refused(world):
    d = in_progress(world)
    with pytest.raises(InvalidInput) as error:
        forward(world, d, world.org.city_committee)
    assert error.value.code == "dossier.agency_not_competent"
    assert "không có thẩm quyền giải quyết thủ tục «Cấp phiếu lý lịch tư pháp»" in (
        error.value.message
    )
    d.refresh_from_db()
    assert d.current_agency_id == world.org.justice.pk
    assert refusals(d) == ["dossier.agency_not_competent"]


def test_forward_to_an_agency_that_does_not_exist_yet_is_refused(world):
    d = in_progress(world)
    with pytest.raises(InvalidInput) as error:
        forward(world, d, world.org.justice_2025)  # valid from 1/7/2025
    assert error.value.code == "dossier.agency_not_competent"
    assert "không hoạt động vào ngày 03/06/2024" in error.value.message
    d.refresh_from_db()
    assert d.current_agency_id == world.org.justice.pk


def test_handling_agencies_follow_kind_level_and_date(world):
    import datetime as dt

    org = world.org
    day24 = dt.date(2024, 6, 3)
    handling = set(competence.handling_agencies(world.procedure, day24))
    assert {org.justice, org.construction} <= handling
    assert org.city_committee not in handling and org.justice_2025 not in handling
    assert competence.may_handle(world.procedure, org.justice_2025, dt.date(2025, 8, 1))
    assert not competence.may_handle(world.procedure, org.justice, dt.date(2025, 8, 1))


def test_page_offers_and_accepts_only_competent_agencies(client, world):
    # Pages act at the real "now": the 2024 agencies have been replaced since 1/7/2025 by
    # Sở Tư pháp of the merged province and, here, a ward's committee (commune level).
    ward = {
        "code": "000.00.99.H27",
        "name": "UBND phường Bắc Giang",
        "type": "ubnd-xa",
        "unit": "07999",
        "valid_from": "2025-07-01",
    }
    load_structure(SYSTEM, {"agencies": [ward]}, now=world.now)
    d = in_progress(world)
    client.force_login(world.officer)
    page = client.get(reverse("dossiers:detail", args=[d.code])).content.decode()
    select = re.search(r'<select name="agency">(.*?)</select>', page, re.S).group(1)
    offered = {int(v) for v in re.findall(r'<option value="(\d+)"', select)}
    today = timezone.localdate()
    assert offered == {a.pk for a in competence.handling_agencies(world.procedure, today)}
    assert offered < set(Agency.objects.valid_on(today).values_list("pk", flat=True))
    response = client.post(
        reverse("dossiers:act", args=[d.code]),
        {"action": "forward", "agency": world.org.city_committee.pk, "version": d.version},
        follow=True,
    )
    assert f"không thể chuyển hồ sơ {d.code} đến cơ quan này" in response.content.decode()
    d.refresh_from_db()
    assert d.current_agency_id == world.org.justice.pk


def test_api_refuses_forwarding_to_an_agency_that_may_not_handle_it(client, world, monkeypatch):
    d = in_progress(world)
    monkeypatch.setattr(dossier_api, "clock", lambda: at(MON, "10:00"))
    client.force_login(world.officer)
    response = client.post(
        f"/api/dossiers/{d.code}/transitions",
        {
            "action": "forward",
            "expected_version": d.version,
            "data": {"agency": world.org.city_committee.pk},
        },
        content_type="application/json",
    )
    error = assert_envelope(response, 400, "dossier.agency_not_competent")
    assert "không có thẩm quyền" in error["message"]
    d.refresh_from_db()
    assert d.current_agency_id == world.org.justice.pk
