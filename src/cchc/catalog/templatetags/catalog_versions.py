"""`{% procedure_versions p %}`: a procedure's effective-dated versions and its reception
rule, for the catalogue page (`web/procedure_detail.html`). A fixed number of queries
(`cchc.catalog.versions.history`) whatever the number of versions."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from cchc.catalog import versions
from cchc.catalog.models import Procedure

register = template.Library()


@register.inclusion_tag("catalog/_procedure_versions.html")
def procedure_versions(procedure: Procedure) -> dict[str, Any]:
    return {
        "p": procedure,
        "versions": versions.history(procedure),
        "today": timezone.localdate(),
    }
