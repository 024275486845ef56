"""Scoping: an officer of agency A cannot read or change agency B's data anywhere."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cchc.accounts import policy
from cchc.accounts import services as accounts
from cchc.accounts.roles import Role
from cchc.errors import PermissionDenied
from cchc.org import services as org_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def leader_a(org, make_user):
    return make_user(Role.AGENCY_LEADER, agency=org.justice)


@pytest.fixture
def officer_a(org, make_user):
    return make_user(Role.PROCESSING_OFFICER, agency=org.justice)


def test_service_refuses_changing_another_agency(org, leader_a, now):
    with pytest.raises(PermissionDenied):
        org_services.update_agency_profile(leader_a, org.construction, now=now, phone="0123")
    org.construction.refresh_from_db()
    assert org.construction.phone == ""
    # ... but the leader's own agency and its sub-agencies are theirs.
    org_services.update_agency_profile(leader_a, org.justice_office, now=now, phone="0204 1")
    org.justice_office.refresh_from_db()
    assert org.justice_office.phone == "0204 1"


def test_officer_cannot_change_even_own_agency(org, officer_a, now):
    with pytest.raises(PermissionDenied):
        org_services.update_agency_profile(officer_a, org.justice, now=now, phone="1")


def test_scope_follows_role_assignment(org, officer_a, make_user):
    visible = set(policy.visible_agencies(officer_a))
    assert visible == {org.justice, org.justice_office}
    supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2024)
    assert org.city_committee in policy.visible_agencies(supervisor)  # the whole province tree
    assert org.justice_2025 not in policy.visible_agencies(supervisor)  # a later unit
    # Today's province sees its own agencies and the history of the units merged into it.
    successor_supervisor = make_user(Role.PROVINCIAL_SUPERVISOR, unit=org.province_2025)
    assert {org.justice_2025, org.city_committee} <= set(
        policy.visible_agencies(successor_supervisor)
    )
    citizen = make_user(Role.CITIZEN)
    assert not policy.visible_agencies(citizen).exists()
    revoked = officer_a.roles.get()
    accounts.revoke_role(accounts_admin(make_user), revoked, now=revoked.granted_at)
    officer_a.refresh_from_db()
    assert not policy.visible_agencies(officer_a).exists()


def accounts_admin(make_user):
    return make_user(Role.ADMINISTRATOR)


def test_pages_hide_other_agencies(client, org, officer_a):
    client.force_login(officer_a)
    assert client.get(reverse("web:agency", args=[org.justice.pk])).status_code == 200
    page = client.get(reverse("web:agency", args=[org.construction.pk]))
    assert page.status_code == 403
    assert "không thuộc phạm vi" in page.content.decode()
    listing = client.get(reverse("web:agencies") + "?ngay=2024-06-01").content.decode()
    assert "Sở Tư pháp tỉnh Bắc Giang" in listing
    assert "Sở Xây dựng tỉnh Bắc Giang" not in listing


def test_pages_refuse_editing_another_agency(client, org, leader_a):
    client.force_login(leader_a)
    url = reverse("web:agency_edit", args=[org.construction.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"phone": "999"}).status_code == 403
    org.construction.refresh_from_db()
    assert org.construction.phone == ""
    own = reverse("web:agency_edit", args=[org.justice.pk])
    response = client.post(
        own,
        {
            "phone": "0204 3854 000",
            "head_name": "Trần Thị B",
            "head_title": "Giám đốc",
            "email": "stp@bacgiang.gov.vn",
            "address": "",
        },
    )
    assert response.status_code == 302
    org.justice.refresh_from_db()
    assert org.justice.head_name == "Trần Thị B"


def test_api_hides_and_refuses_other_agencies(client, org, leader_a):
    client.force_login(leader_a)
    listed = client.get("/api/org/agencies?on=2024-06-01").json()
    assert {a["code"] for a in listed} == {"000.00.12.H06", "000.01.12.H06"}
    assert client.get(f"/api/org/agencies/{org.construction.pk}").status_code == 404
    patched = client.patch(
        f"/api/org/agencies/{org.construction.pk}", {"phone": "1"}, content_type="application/json"
    )
    assert patched.status_code == 404
    ok = client.patch(
        f"/api/org/agencies/{org.justice.pk}",
        {"head_name": "Lê C"},
        content_type="application/json",
    )
    assert ok.status_code == 200 and ok.json()["head_name"] == "Lê C"


def test_admin_is_for_administrators_only(client, org, leader_a, make_user):
    client.force_login(leader_a)
    response = client.get(
        reverse("admin:org_agency_change", args=[org.construction.pk]), follow=True
    )
    assert response.status_code == 403
    assert "chỉ dành cho quản trị" in response.content.decode()
    assert client.get(reverse("admin:index"), follow=True).status_code == 403
    client.logout()
    anonymous = client.get(reverse("admin:index"), follow=True)
    assert anonymous.redirect_chain[-1][0].startswith(reverse("web:login"))
    client.force_login(make_user(Role.ADMINISTRATOR))
    assert (
        client.get(reverse("admin:org_agency_change", args=[org.construction.pk])).status_code
        == 200
    )


def test_leader_grants_only_agency_roles_in_own_agency(org, leader_a, make_user, now):
    newcomer = make_user("")
    accounts.grant_role(leader_a, newcomer, Role.DESK_OFFICER, agency=org.justice, now=now)
    with pytest.raises(PermissionDenied):
        accounts.grant_role(leader_a, newcomer, Role.DESK_OFFICER, agency=org.construction, now=now)
    with pytest.raises(PermissionDenied):
        accounts.grant_role(leader_a, newcomer, Role.ADMINISTRATOR, now=now)


def test_officers_cannot_manage_catalogue_or_read_audit(client, org, officer_a):
    assert not policy.can(officer_a, "catalog.manage")
    client.force_login(officer_a)
    assert client.get(reverse("web:procedure_import")).status_code == 403
    assert client.get(reverse("web:audit")).status_code == 403
    assert client.get(reverse("web:procedures")).status_code == 200
