"""The citizen's «Kho dữ liệu của tôi» pages (`cchc.portal.datastore`)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from cchc.dossiers import datastore as store
from cchc.errors import Conflict
from cchc.portal import datastore
from cchc.portal.views import citizen_required


@citizen_required
def my_store(request: HttpRequest) -> HttpResponse:
    holder = datastore.holder_of(request.user)
    return render(
        request,
        "portal/datastore.html",
        {
            "holder": holder,
            "items": list(datastore.items(request.user)),
            "elsewhere": list(datastore.sent_elsewhere(request.user)),
            "backend": store.backend(),
        },
    )


@citizen_required
def my_store_file(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        got = datastore.download(request.user, pk)
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("portal:datastore")
    response = HttpResponse(got.content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, got.filename)
    return response
