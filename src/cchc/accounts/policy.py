"""Who may do what, where. Services call `require`; views and the admin use the same.

A permission (see `roles.PERMISSIONS`) is held through a role assignment whose scope is
an agency (and its sub-agencies), a unit (every agency located in it and its sub-units)
or everything. Superusers count as administrators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from cchc.accounts.models import RoleAssignment
from cchc.accounts.roles import PERMISSIONS, ROLE_SCOPE, Role, Scope
from cchc.errors import PermissionDenied
from cchc.org import tree
from cchc.org.models import Agency


@dataclass(frozen=True)
class Grant:
    """The reach of one permission for one user: everything, or a set of agency ids."""

    everything: bool
    agency_ids: frozenset[int]

    def covers(self, agency_id: int | None) -> bool:
        if self.everything:
            return True
        return agency_id is not None and agency_id in self.agency_ids

    @property
    def empty(self) -> bool:
        return not self.everything and not self.agency_ids


NOTHING = Grant(False, frozenset())
EVERYTHING = Grant(True, frozenset())


def assignments(user: Any) -> list[RoleAssignment]:
    """Active role assignments of `user`, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if getattr(user, "pk", None) is None:  # the system actor holds no assignments
        return []
    cached = getattr(user, "_cchc_roles", None)
    if cached is None:
        cached = list(
            RoleAssignment.objects.filter(user=user, active=True).select_related(
                "agency", "unit", "desk"
            )
        )
        user._cchc_roles = cached
    return cached


def forget(user: Any) -> None:
    """Drop the cached assignments and grants (after roles change)."""
    for name in ("_cchc_roles", "_cchc_grants", "_cchc_reaches"):
        if hasattr(user, name):
            delattr(user, name)


def role_codes(user: Any) -> set[str]:
    codes = {a.role for a in assignments(user)}
    if getattr(user, "is_superuser", False) and user.is_active:
        codes.add(Role.ADMINISTRATOR)
    return codes


def has_role(user: Any, role: str) -> bool:
    return role in role_codes(user)


def grant(user: Any, permission: str) -> Grant:
    """The reach of `permission` for `user`, cached on the user object like its roles (a
    page asks several times: navigation, the view, the service)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if getattr(user, "pk", None) is None or not getattr(user, "is_authenticated", False):
        return _compute_grant(user, permission)
    cache = user.__dict__.setdefault("_cchc_grants", {})
    if permission not in cache:
        cache[permission] = _compute_grant(user, permission)
    result: Grant = cache[permission]
    return result


def _compute_grant(user: Any, permission: str) -> Grant:
    holders = PERMISSIONS[permission]
    if getattr(user, "is_superuser", False) and user.is_active:
        return EVERYTHING
    agency_roots: set[int] = set()
    unit_roots: set[int] = set()
    for a in assignments(user):
        if a.role not in holders:
            continue
        scope = ROLE_SCOPE[a.role]
        if scope is Scope.ALL:
            return EVERYTHING
        if scope is Scope.AGENCY and a.agency_id:
            agency_roots.add(a.agency_id)
        elif scope is Scope.UNIT and a.unit_id:
            unit_roots.add(a.unit_id)
    return Grant(False, _reach(user, frozenset(agency_roots), frozenset(unit_roots)))


def _reach(user: Any, agency_roots: frozenset[int], unit_roots: frozenset[int]) -> frozenset[int]:
    """The agencies under `agency_roots` and located in (or before a succession, merged
    into) `unit_roots`. Most permissions of a user share one scope, so the walk of the
    organisation tree is memoised on the user object per set of roots: a supervisor's page
    asks a dozen permissions and used to walk the tree a dozen times. Like the roles and
    grants, the memo lives on the request's user object (`forget` drops it) and a role
    change is seen on the next request."""
    memo = user.__dict__.setdefault("_cchc_reaches", {}) if getattr(user, "pk", None) else {}
    key = (agency_roots, unit_roots)
    if key not in memo:
        ids = tree.agency_subtree(set(agency_roots)) if agency_roots else set()
        if unit_roots:
            units = tree.unit_subtree(set(unit_roots), with_predecessors=True)
            ids |= set(Agency.objects.filter(unit_id__in=units).values_list("id", flat=True))
        memo[key] = frozenset(ids)
    result: frozenset[int] = memo[key]
    return result


def can(user: Any, permission: str, *, agency: Agency | int | None = None) -> bool:
    """True if `user` holds `permission` — for `agency` when given, anywhere otherwise."""
    reach = grant(user, permission)
    if agency is None:
        return not reach.empty
    agency_id = agency if isinstance(agency, int) else agency.pk
    return reach.covers(agency_id)


def require(user: Any, permission: str, *, agency: Agency | int | None = None) -> None:
    """Raise PermissionDenied unless `can(user, permission, agency=agency)`."""
    if not can(user, permission, agency=agency):
        raise PermissionDenied(permission=permission)


class RequiresPermission:
    """Mixin for an object with a `permission` attribute (a table importer): `authorize`
    requires the actor to hold it, the same check as `require`."""

    permission: str

    def authorize(self, actor: Any) -> None:
        require(actor, self.permission)


def visible_agencies(user: Any, permission: str = "org.view") -> QuerySet[Agency]:
    reach = grant(user, permission)
    qs = Agency.objects.all()
    return qs if reach.everything else qs.filter(id__in=reach.agency_ids)


class SystemActor:
    """The system itself (management commands, scheduled jobs): may do everything.

    Audit entries it writes carry no user and the label 'hệ thống'. Use a real user
    (`--user` on commands) wherever a person is acting.
    """

    pk = None
    id = None
    username = "hệ thống"
    is_active = True
    is_authenticated = True
    is_superuser = True
    is_staff = True

    def __str__(self) -> str:
        return self.username


SYSTEM = SystemActor()
