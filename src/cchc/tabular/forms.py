"""The upload form every table-import page shares (catalogue, organisation, plans,
indicators' published figures): a CSV/XLSX file and a "dry run" switch, run through an
importer from the registry."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone

from cchc.errors import DomainError


class ImportForm(forms.Form):
    file = forms.FileField(label="Tệp CSV hoặc Excel (.xlsx)")
    dry_run = forms.BooleanField(
        label="Chỉ kiểm tra, chưa ghi dữ liệu", required=False, initial=True
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError("Chỉ nhận tệp .csv hoặc .xlsx.")
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError("Tệp quá lớn (tối đa 20 MB).")
        return upload


def run_import_form(request: HttpRequest, imp: Any) -> tuple[ImportForm, Any]:
    """The upload form of an import page and, once posted and valid, the importer's report
    (a dry run unless the user unticked it). A file the importer refuses outright is shown
    as a form error."""
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = imp.run(
                upload.read(),
                actor=request.user,
                now=timezone.now(),
                dry_run=form.cleaned_data["dry_run"],
                filename=upload.name,
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
    return form, report
