"""Dossier documents: printed forms (PDF) and the register (XLSX).

- `render_form(dossier, purpose, event=None) -> (file name, PDF bytes)`
- `available_forms(dossier) -> [(purpose, number, title)]`
- `register_xlsx(dossiers, start=, end=, title=, ruleset_code=) -> bytes`, `register_rows(...)`
"""

from cchc.dossiers.documents.forms import Form, available_forms, build_form, render_form
from cchc.dossiers.documents.pdf import FontsMissing
from cchc.dossiers.documents.register import (
    HEADER as REGISTER_HEADER,
)
from cchc.dossiers.documents.register import (
    RegisterRow,
    received_between,
    register_filename,
    register_rows,
    register_xlsx,
    write_register,
)

__all__ = [
    "REGISTER_HEADER",
    "FontsMissing",
    "Form",
    "RegisterRow",
    "available_forms",
    "build_form",
    "received_between",
    "register_filename",
    "register_rows",
    "register_xlsx",
    "render_form",
    "write_register",
]
