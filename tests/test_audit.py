"""The audit log: written with every change, in the same transaction, never editable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cchc.accounts.roles import Role
from cchc.audit import log
from cchc.audit.models import AppendOnlyError, AuditEntry
from cchc.errors import InvalidInput
from cchc.org import services as org_services

pytestmark = pytest.mark.django_db


def test_profile_change_is_audited_with_old_and_new_values(org, make_user, now):
    leader = make_user(Role.AGENCY_LEADER, agency=org.justice)
    org_services.update_agency_profile(leader, org.justice, now=now, phone="0204 1")
    entry = AuditEntry.objects.filter(action="org.agency.updated").latest("id")
    assert entry.actor == leader and entry.at == now
    assert entry.agency_id == org.justice.pk
    assert entry.data == {"phone": ["", "0204 1"]}


def test_a_no_op_change_writes_nothing(org, make_user, now):
    leader = make_user(Role.AGENCY_LEADER, agency=org.justice)
    before = AuditEntry.objects.count()
    org_services.update_agency_profile(leader, org.justice, now=now, head_name="Nguyễn Văn A")
    assert AuditEntry.objects.count() == before


def test_failed_change_leaves_no_entry(org, make_user, now):
    leader = make_user(Role.AGENCY_LEADER, agency=org.justice)
    before = AuditEntry.objects.count()
    with pytest.raises(InvalidInput):
        org_services.update_agency_profile(leader, org.justice, now=now, code="X")
    with pytest.raises(ValidationError) as invalid:
        org_services.update_agency_profile(leader, org.justice, now=now, email="not-an-email")
    assert set(invalid.value.message_dict) == {"email"}
    assert AuditEntry.objects.count() == before


def test_user_and_role_changes_are_audited(org, make_user):
    officer = make_user(Role.DESK_OFFICER, agency=org.justice)
    actions = list(
        AuditEntry.objects.filter(
            object_id__in=[str(officer.pk)] + [str(r.pk) for r in officer.roles.all()]
        ).values_list("action", flat=True)
    )
    assert "accounts.user.created" in actions and "accounts.role.granted" in actions


def test_admin_changes_are_audited(client, org, make_user):
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    url = reverse("admin:org_unitlevel_change", args=[org.city.level.pk])
    response = client.post(url, {"code": "district", "name": "Cấp huyện (cũ)", "rank": 2})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.org.unitlevel.updated")
    assert entry.actor == admin
    assert entry.data["name"] == ["Cấp huyện", "Cấp huyện (cũ)"]


def test_entries_cannot_be_changed_or_deleted_through_the_orm(org):
    entry = AuditEntry.objects.first()
    entry.action = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()


def test_database_refuses_update_and_delete(org):
    entry = AuditEntry.objects.first()
    for statement in (
        "UPDATE audit_auditentry SET action = 'forged' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(statement, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, action=entry.action).exists()


def test_queryset_update_is_refused_by_the_database(org):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(action="forged")


def test_record_outside_a_transaction_is_a_programming_error(org):
    # pytest-django wraps each test in a transaction; leave it to test the guard.
    from django.db import connection as conn

    conn.in_atomic_block, saved = False, conn.in_atomic_block
    try:
        with pytest.raises(RuntimeError, match="outside a transaction"):
            log.record("x.y", actor=None)
    finally:
        conn.in_atomic_block = saved


def test_auditors_see_the_log_and_nobody_edits_it(client, org, make_user):
    auditor = make_user(Role.AUDITOR)
    client.force_login(auditor)
    page = client.get(reverse("web:audit"))
    assert page.status_code == 200 and "org.agency.created" in page.content.decode()
    admin = make_user(Role.ADMINISTRATOR)
    client.force_login(admin)
    entry = AuditEntry.objects.first()
    change = client.post(
        reverse("admin:audit_auditentry_change", args=[entry.pk]), {"action": "forged"}
    )
    assert change.status_code in (302, 403)
    assert AuditEntry.objects.get(pk=entry.pk).action == entry.action
    delete = client.post(reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
