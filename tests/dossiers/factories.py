"""Dossier inputs with sensible defaults (services do the rest)."""

from __future__ import annotations

from typing import Any

from cchc.dossiers.intake import Applicant, Component


def applicant(**changes: Any) -> Applicant:
    values = {
        "name": "Nguyễn Thị Hoà",
        "id_number": "024190001234",
        "address": "Số 5 đường Hoàng Văn Thụ, phường Trần Phú",
        "phone": "0912345678",
        "email": "hoa@example.vn",
    }
    values.update(changes)
    return Applicant(**values)


def components_for(procedure: Any, *, skip: int | None = None) -> list[Component]:
    """Every mandatory document with the counts the catalogue asks for."""
    out = []
    for doc in procedure.documents.all():
        if not doc.mandatory or doc.pk == skip:
            continue
        out.append(Component(document_id=doc.pk, originals=doc.originals, copies=doc.copies))
    return out
