"""Dossier documents: printed forms (PDF) and the register (XLSX).

- `render_form(dossier, purpose, viewer=, event=None) -> (file name, PDF bytes)`, and
  `print_form(viewer, dossier, purpose)` which also records who printed it
- `available_forms(dossier) -> [(purpose, number, title)]`
- `register_xlsx(dossiers, start=, end=, title=, ruleset_code=, viewer=) -> bytes`,
  `register_rows(...)`

Every document is rendered for a reader (`viewer`): the applicant's personal data is masked
for readers without `dossier.personal_data` (`cchc.dossiers.access.applicant_for`).
"""

from cchc.dossiers.documents.forms import (
    Form,
    available_forms,
    build_form,
    print_form,
    render_form,
)
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
    "print_form",
    "received_between",
    "register_filename",
    "register_rows",
    "register_xlsx",
    "render_form",
    "write_register",
]
