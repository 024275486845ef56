"""Roles (spec 05) and what each may do. Pure data: the policy module evaluates it."""

from __future__ import annotations

from enum import Enum

from django.db import models


class Role(models.TextChoices):
    CITIZEN = "citizen", "Người dân, tổ chức"
    DESK_OFFICER = "desk_officer", "Công chức một cửa"
    PROCESSING_OFFICER = "processing_officer", "Chuyên viên thụ lý"
    AGENCY_LEADER = "agency_leader", "Lãnh đạo cơ quan"
    PAR_FOCAL_POINT = "par_focal_point", "Đầu mối CCHC của cơ quan"
    PROVINCIAL_SUPERVISOR = "provincial_supervisor", "Giám sát cấp tỉnh"
    ADMINISTRATOR = "administrator", "Quản trị hệ thống"
    AUDITOR = "auditor", "Kiểm tra nhật ký"


class Scope(Enum):
    """How far a role's grant reaches."""

    NONE = "none"  # personal only (citizens: their own data)
    AGENCY = "agency"  # the assigned agency and its sub-agencies
    UNIT = "unit"  # every agency located in the assigned unit and its sub-units
    ALL = "all"  # the whole system


# Which scope a role's assignment carries, and therefore which field it needs.
ROLE_SCOPE: dict[str, Scope] = {
    Role.CITIZEN: Scope.NONE,
    Role.DESK_OFFICER: Scope.AGENCY,
    Role.PROCESSING_OFFICER: Scope.AGENCY,
    Role.AGENCY_LEADER: Scope.AGENCY,
    Role.PAR_FOCAL_POINT: Scope.AGENCY,
    Role.PROVINCIAL_SUPERVISOR: Scope.UNIT,
    Role.ADMINISTRATOR: Scope.ALL,
    Role.AUDITOR: Scope.ALL,
}

STAFF_ROLES = frozenset(ROLE_SCOPE) - {Role.CITIZEN}

# Permission code -> roles holding it. Scope comes from the role assignment.
# Later issues extend this table (dossier.*, plan.*, indicator.*).
PERMISSIONS: dict[str, frozenset[str]] = {
    "org.view": frozenset(STAFF_ROLES),
    "org.agency.change": frozenset({Role.AGENCY_LEADER, Role.ADMINISTRATOR}),
    "org.staff.view": frozenset(
        {Role.AGENCY_LEADER, Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR, Role.AUDITOR}
    ),
    "org.staff.manage": frozenset({Role.AGENCY_LEADER, Role.ADMINISTRATOR}),
    "org.structure.manage": frozenset({Role.ADMINISTRATOR}),
    "catalog.view": frozenset(STAFF_ROLES),
    "catalog.manage": frozenset({Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}),
    "calendar.manage": frozenset({Role.ADMINISTRATOR}),
    "audit.view": frozenset({Role.AUDITOR, Role.ADMINISTRATOR}),
    "admin.site": frozenset({Role.ADMINISTRATOR}),
    # Dossiers (spec 03). Scope: the receiving agency for desk work, the agency holding the
    # dossier for processing and approval.
    "dossier.view": frozenset(
        {
            Role.DESK_OFFICER,
            Role.PROCESSING_OFFICER,
            Role.AGENCY_LEADER,
            Role.PROVINCIAL_SUPERVISOR,
            Role.ADMINISTRATOR,
        }
    ),
    # Citizens' personal data (NĐ 13/2023): only those who handle the dossier.
    "dossier.personal_data": frozenset(
        {Role.DESK_OFFICER, Role.PROCESSING_OFFICER, Role.AGENCY_LEADER}
    ),
    "dossier.receive": frozenset({Role.DESK_OFFICER}),
    "dossier.process": frozenset({Role.PROCESSING_OFFICER, Role.AGENCY_LEADER}),
    "dossier.assign": frozenset({Role.AGENCY_LEADER}),
    "dossier.approve": frozenset({Role.AGENCY_LEADER}),
    # Importing dossiers exported by another one-stop system (scope: receiving agency).
    "dossier.import": frozenset({Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}),
    "dossier.register": frozenset(
        {Role.DESK_OFFICER, Role.AGENCY_LEADER, Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}
    ),
    "dossier.admin": frozenset({Role.ADMINISTRATOR}),
    # Reform plan (issue 6): the plan is read by officers who work on it; the lead agency's
    # focal point reports; the Department of Home Affairs (provincial supervisor) reviews
    # reports and appraisals, loads plans and enters external indices.
    "plan.view": frozenset(
        {
            Role.AGENCY_LEADER,
            Role.PAR_FOCAL_POINT,
            Role.PROVINCIAL_SUPERVISOR,
            Role.ADMINISTRATOR,
            Role.AUDITOR,
        }
    ),
    "plan.report": frozenset({Role.PAR_FOCAL_POINT}),
    "plan.review": frozenset({Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}),
    "plan.manage": frozenset({Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}),
    "plan.register": frozenset(
        {Role.PAR_FOCAL_POINT, Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}
    ),
    # Feedback and complaints (PAKN): the responsible agency's desk, processing officers and
    # leaders handle them (and see the citizen's contact data); the leader assigns; the
    # provincial supervisor and administrators read them (contact data masked).
    "feedback.view": frozenset(
        {
            Role.DESK_OFFICER,
            Role.PROCESSING_OFFICER,
            Role.AGENCY_LEADER,
            Role.PROVINCIAL_SUPERVISOR,
            Role.ADMINISTRATOR,
        }
    ),
    "feedback.handle": frozenset({Role.DESK_OFFICER, Role.PROCESSING_OFFICER, Role.AGENCY_LEADER}),
    "feedback.assign": frozenset({Role.AGENCY_LEADER}),
    # Indicators and the 766 index (issue 7): leaders for their agency, focal points,
    # provincial supervisors, administrators; reconciliation figures are entered by the
    # Department of Home Affairs (provincial supervisor) and administrators.
    "indicator.view": frozenset(
        {
            Role.AGENCY_LEADER,
            Role.PAR_FOCAL_POINT,
            Role.PROVINCIAL_SUPERVISOR,
            Role.ADMINISTRATOR,
        }
    ),
    "indicator.manage": frozenset({Role.PROVINCIAL_SUPERVISOR, Role.ADMINISTRATOR}),
}

# Roles an agency leader may grant inside their own agency.
LEADER_GRANTABLE = frozenset({Role.DESK_OFFICER, Role.PROCESSING_OFFICER, Role.PAR_FOCAL_POINT})
