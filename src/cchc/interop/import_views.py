"""Web page of the dossier import: upload, preview (a dry run with the first parsed rows and
every refused row), then import; and the record of past imports, each shown only to those
whose scope covers the importer's (`cchc.interop.runs`).

On confirmation a file of up to CCHC_IMPORT_INLINE_ROWS data rows (default 2000, a few
seconds of work) is imported inside the request, as before: the officer sees the result at
once and does not depend on the worker being up. A larger file is queued for the worker
(`dossiers.queue_web_import`) and the page goes to the run's page, which shows its progress
and reloads itself until the run ends (a meta refresh: no JavaScript needed)."""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from cchc import csvsafe
from cchc.accounts.access import requires
from cchc.dossiers.models import State
from cchc.errors import DomainError
from cchc.interop.dossiers import (
    COLUMNS,
    DossierImporter,
    load_mapping,
    queue_web_import,
    resume,
    upload_dir,
)
from cchc.interop.models import RunState
from cchc.interop.runs import get_visible_run, state_of, visible_runs
from cchc.tabular.refused import refused_download
from cchc.tabular.tables import describe_skipped

SESSION_KEY = "cchc.import.dossiers"
PREVIEW_REJECTED = 200
INLINE_ROWS = 2000  # default of CCHC_IMPORT_INLINE_ROWS
REFRESH_SECONDS = 3  # the run page reloads itself this often while the run goes on


def inline_rows() -> int:
    return int(getattr(settings, "CCHC_IMPORT_INLINE_ROWS", INLINE_ROWS))


class DossierImportForm(forms.Form):
    file = forms.FileField(
        label="Tệp xuất từ hệ thống một cửa (.csv hoặc .xlsx)",
        error_messages={"required": "Chọn tệp cần nhập."},
    )
    mapping = forms.FileField(
        label="Tệp ánh xạ (.toml) — chỉ khi tệp không theo mẫu chuẩn",
        required=False,
    )
    source = forms.CharField(
        label="Tên hệ thống nguồn (đánh dấu hồ sơ nhập)",
        max_length=100,
        required=False,
        help_text="Ví dụ: Hệ thống một cửa điện tử tỉnh (iGate). Bỏ trống: lấy từ tệp ánh xạ.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx", ".xlsm", ".txt")):
            raise forms.ValidationError("Chỉ nhận tệp .csv hoặc .xlsx.")
        return upload


def _save(upload: Any, suffix: str) -> str:
    name = f"{secrets.token_hex(12)}{suffix}"
    with (upload_dir() / name).open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return name


def _forget(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        for key in ("file", "mapping"):
            if pending.get(key):
                (upload_dir() / pending[key]).unlink(missing_ok=True)


def _run(request: HttpRequest, pending: dict[str, Any], *, dry_run: bool) -> tuple[Any, list]:
    mapping = load_mapping(upload_dir() / pending["mapping"]) if pending.get("mapping") else None
    sample: list[Any] = []
    report = DossierImporter().run(
        str(upload_dir() / pending["file"]),
        actor=request.user,
        now=timezone.now(),
        dry_run=dry_run,
        filename=pending["name"],
        mapping=mapping,
        source_name=pending.get("source", ""),
        sample=sample,
        # Inside a request: refused at once if the file or source is being imported.
        wait=0,
    )
    return report, sample


@requires("dossier.import")
def import_dossiers(request: HttpRequest) -> HttpResponse:
    form = DossierImportForm(request.POST or None, request.FILES or None)
    context: dict[str, Any] = {"form": form, "columns": COLUMNS}
    action = request.POST.get("action", "preview")
    if request.method == "POST" and action == "cancel":
        _forget(request)
        return HttpResponseRedirect(reverse("imports:dossiers"))
    if request.method == "POST" and action == "confirm":
        pending = request.session.get(SESSION_KEY)
        if not pending or pending.get("token") != request.POST.get("token"):
            context["expired"] = True
        else:
            try:
                run_id = _confirm(request, pending)
            except DomainError as exc:
                context["error"] = exc.message
            else:
                return HttpResponseRedirect(reverse("imports:run", args=[run_id]))
    elif request.method == "POST" and form.is_valid():
        _forget(request)
        upload = form.cleaned_data["file"]
        pending = {
            "token": secrets.token_hex(8),
            "file": _save(upload, Path(upload.name).suffix.lower()),
            "name": upload.name,
            "source": form.cleaned_data["source"].strip(),
        }
        if form.cleaned_data["mapping"]:
            pending["mapping"] = _save(form.cleaned_data["mapping"], ".toml")
        request.session[SESSION_KEY] = pending
        try:
            report, sample = _run(request, pending, dry_run=True)
        except DomainError as exc:
            _forget(request)
            form.add_error(None, exc.message)
        else:
            pending["total"] = (
                report.created + report.updated + report.unchanged + len(report.rejected)
            )
            request.session[SESSION_KEY] = pending
            context.update(
                queued=pending["total"] > inline_rows(),
                preview=report,
                sample=sample,
                rejected=report.rejected[:PREVIEW_REJECTED],
                more_rejected=max(len(report.rejected) - PREVIEW_REJECTED, 0),
                pending=pending,
                states=dict(State.choices),
            )
    context["runs"] = visible_runs(request.user, kind="dossiers")
    for r in context["runs"]:
        r.state_label = RunState(state_of(r)).label  # a dead "running" run: interrupted
    return render(request, "interop/import_dossiers.html", context)


def _confirm(request: HttpRequest, pending: dict[str, Any]) -> int:
    """Import the previewed file (inline when small, else on the worker); the run's id."""
    total = pending.get("total")
    if total is not None and total > inline_rows():
        run = queue_web_import(request.user, pending, total=total, now=timezone.now())
        # The stored files now belong to the queued run (removed when it ends).
        request.session.pop(SESSION_KEY, None)
        return run.pk
    report, _ = _run(request, pending, dry_run=False)
    _forget(request)
    assert report.run_id is not None  # a real run always records itself
    return report.run_id


@requires("dossier.import")
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_visible_run(request.user, pk, kind="dossiers")
    if request.GET.get("tai") == "csv":
        return refused_download(
            run.rejected_rows, key_header="Mã hồ sơ", filename=f"dong-bi-tu-choi-{run.pk}.csv"
        )
    error = ""
    if request.method == "POST" and request.POST.get("action") == "resume":
        try:
            again = resume(request.user, run, now=timezone.now())
        except DomainError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("imports:run", args=[again.pk]))
    state = state_of(run)
    going = state in (RunState.QUEUED, RunState.RUNNING)
    context = {
        "run": run,
        "state": state,
        "state_label": RunState(state).label,
        "going": going,
        "refresh": REFRESH_SECONDS if going else None,
        "percent": min(100, run.rows * 100 // run.total) if run.total else None,
        "resumable": state == RunState.INTERRUPTED and bool(run.upload),
        "error": error,
        "skipped_text": describe_skipped(run.skipped_lines),
    }
    return render(request, "interop/import_run.html", context)


@requires("dossier.import")
def template_file(request: HttpRequest) -> HttpResponse:
    """The canonical layout as an empty CSV with its header row."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csvsafe.writer(buffer).writerow([c.header for c in COLUMNS])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="mau-nhap-ho-so.csv"'
    return response


@requires("dossier.import")
def mapping_example(request: HttpRequest) -> HttpResponse:
    path = Path(__file__).resolve().parent / "data" / "dossier-mapping-example.toml"
    response = HttpResponse(path.read_bytes(), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="anh-xa-mau.toml"'
    return response
