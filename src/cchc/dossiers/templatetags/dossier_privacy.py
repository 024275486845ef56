"""Template filters that show an applicant's data as the reader may see it (for lists whose
rows are dossiers, such as the work queue); the rule is `cchc.dossiers.access.applicant_for`."""

from __future__ import annotations

from typing import Any

from django import template

from cchc.dossiers import access
from cchc.dossiers.models import Dossier

register = template.Library()


@register.filter
def applicant_name_for(dossier: Dossier, user: Any) -> str:
    """`{{ d|applicant_name_for:user }}`: the applicant's name, masked for readers without
    `dossier.personal_data` over the dossier."""
    return access.applicant_for(user, dossier).name
