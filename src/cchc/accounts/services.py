"""Account workflows: users and role assignments, each audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from cchc.accounts import policy
from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.roles import LEADER_GRANTABLE, ROLE_SCOPE, Role, Scope
from cchc.audit import log
from cchc.errors import Conflict, InvalidInput, PermissionDenied
from cchc.org.models import AdministrativeUnit, Agency, Desk


def create_user(
    actor: Any,
    *,
    username: str,
    password: str | None,
    full_name: str = "",
    email: str = "",
    phone: str = "",
    now: dt.datetime,
    check_password: bool = True,
) -> User:
    """Create an officer account. Needs `org.staff.manage` somewhere (leaders, admins)."""
    policy.require(actor, "org.staff.manage")
    username = username.strip()
    if not username:
        raise InvalidInput("Tên đăng nhập không được trống.")
    if User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"Tên đăng nhập '{username}' đã có.")
    user = User(username=username, full_name=full_name, email=email, phone=phone)
    if password:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise InvalidInput(" ".join(exc.messages)) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        log.record(
            "accounts.user.created",
            actor=actor,
            obj=user,
            data={"username": username, "full_name": full_name},
            at=now,
        )
    return user


def grant_role(
    actor: Any,
    user: User,
    role: str,
    *,
    agency: Agency | None = None,
    unit: AdministrativeUnit | None = None,
    desk: Desk | None = None,
    now: dt.datetime,
) -> RoleAssignment:
    """Give `user` a role. Administrators grant anything; an agency leader grants desk,
    processing and focal-point roles inside their own agency only."""
    if role not in ROLE_SCOPE:
        raise InvalidInput(f"Vai trò '{role}' không tồn tại.")
    scope = ROLE_SCOPE[role]
    if scope is Scope.AGENCY and agency is None:
        raise InvalidInput("Vai trò này cần gắn với một cơ quan.")
    if scope is Scope.UNIT and unit is None:
        raise InvalidInput("Vai trò này cần gắn với một địa bàn.")
    if desk is not None and (
        agency is None
        or (
            not desk.receives_for.filter(pk=agency.pk).exists() and desk.host_agency_id != agency.pk
        )
    ):
        raise InvalidInput("Bộ phận một cửa không tiếp nhận cho cơ quan này.")
    if not policy.has_role(actor, Role.ADMINISTRATOR):
        if role not in LEADER_GRANTABLE:
            raise PermissionDenied("Chỉ quản trị hệ thống được giao vai trò này.")
        policy.require(actor, "org.staff.manage", agency=agency)
    with transaction.atomic():
        assignment = RoleAssignment.objects.create(
            user=user,
            role=role,
            agency=agency if scope is Scope.AGENCY else None,
            unit=unit if scope is Scope.UNIT else None,
            desk=desk,
            granted_at=now,
            granted_by=actor if getattr(actor, "pk", None) else None,
        )
        log.record(
            "accounts.role.granted",
            actor=actor,
            obj=assignment,
            data={
                "user": user.username,
                "role": role,
                "agency": agency and agency.code,
                "unit": unit and unit.code,
                "desk": desk and desk.code,
            },
            agency_id=agency.pk if agency else None,
            at=now,
        )
    policy.forget(user)
    return assignment


def revoke_role(actor: Any, assignment: RoleAssignment, *, now: dt.datetime) -> None:
    """End a role assignment (kept for history, marked inactive)."""
    if not policy.has_role(actor, Role.ADMINISTRATOR):
        if assignment.role not in LEADER_GRANTABLE:
            raise PermissionDenied("Chỉ quản trị hệ thống được thu hồi vai trò này.")
        policy.require(actor, "org.staff.manage", agency=assignment.agency_id)
    with transaction.atomic():
        RoleAssignment.objects.filter(pk=assignment.pk).update(active=False)
        log.record(
            "accounts.role.revoked",
            actor=actor,
            obj=assignment,
            data={"user": assignment.user.username, "role": assignment.role},
            agency_id=assignment.agency_id,
            at=now,
        )
    policy.forget(assignment.user)
