"""Which agencies may handle a procedure on a given day (thẩm quyền giải quyết).

The catalogue records, per procedure, the kind of agency that decides it (Cơ quan thực
hiện) and the administrative levels that carry it out (Cấp thực hiện; several for a
procedure handled in liên thông across levels). An agency may handle the procedure on a day
when it exists that day (effective dating, spec 05) and it is of the deciding kind or works
at one of the procedure's levels. Levels are rows, so the 2025 change from three local
levels to two is answered by the agencies' validity, not by code.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from cchc.catalog.models import Procedure
from cchc.org.models import Agency


def handling_agencies(procedure: Procedure, day: dt.date) -> QuerySet[Agency]:
    """Agencies that exist on `day` and may handle `procedure` (by kind or by level)."""
    return Agency.objects.valid_on(day).filter(
        Q(agency_type_id=procedure.competent_agency_type_id)
        | Q(agency_type__level__in=procedure.levels.all())
    )


def may_handle(procedure: Procedure, agency: Agency, day: dt.date) -> bool:
    """True if `agency` exists on `day` and may handle `procedure`."""
    return handling_agencies(procedure, day).filter(pk=agency.pk).exists()
