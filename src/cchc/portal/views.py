"""Citizen portal pages (Cổng dịch vụ công): public catalogue, accounts, online submission
with drafts, status look-up, the citizen's own dossiers.

Views parse the request, call `cchc.portal.services` (or the dossier services through it)
and render. Errors are shown in Vietnamese on the page they came from; nothing typed is
lost (drafts keep it).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView, redirect_to_login
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cchc import legaltime
from cchc.accounts.access import deny, showing_refusals
from cchc.catalog.models import Field, OnlineLevel, Procedure
from cchc.catalog.services import search_procedures
from cchc.dossiers import certified_copies, datastore_delivery, files
from cchc.dossiers.access import may
from cchc.dossiers.models import ReturnChannel
from cchc.dossiers.services import TRANSITIONS
from cchc.errors import DomainError
from cchc.org.models import UnitLevel
from cchc.portal import identity, limits, presenters, ratings, results, services
from cchc.portal.models import Draft
from cchc.ratelimit.web import client_address, limit_posts
from cchc.vietnamese import money
from cchc.webkit.params import record_id

PAGE_SIZE = 20
NATIONAL_PORTAL_URL = "https://dichvucong.gov.vn"


def _now() -> Any:
    return timezone.localtime()


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in as a citizen; officers are sent to their own workspace."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        if not services.is_citizen(request.user):
            if services.is_staff_user(request.user):
                messages.info(request, "Cán bộ xem và xử lý hồ sơ tại trang Hồ sơ.")
                return redirect("dossiers:queue")
            return deny(request, "Trang này dành cho tài khoản người dân, tổ chức.")
        return showing_refusals(view, request, *args, **kwargs)

    return wrapper


# -- public pages -----------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {
        "online_count": services.online_procedures().count(),
        "fields": Field.objects.order_by("name"),
    }
    if services.is_citizen(request.user):
        context["drafts"] = services.drafts_of(request.user)[:5]
        context["dossiers"] = list(services.my_dossiers(request.user)[:5])
    return render(request, "portal/home.html", context)


def catalogue(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    level = request.GET.get("cap") or None
    field_id = request.GET.get("linh_vuc", "")
    online = request.GET.get("muc_do", "")
    qs = search_procedures(query, level=level, field_id=record_id(field_id, "Lĩnh vực"))
    if online in OnlineLevel.values:
        qs = qs.filter(online_level=online)
    elif online == "online":
        qs = qs.exclude(online_level=OnlineLevel.NONE)
    page = Paginator(qs.order_by("name", "code"), PAGE_SIZE).get_page(request.GET.get("trang"))
    params = request.GET.copy()
    params.pop("trang", None)
    return render(
        request,
        "portal/catalogue.html",
        {
            "page": page,
            "query": query,
            "level": level or "",
            "field_id": field_id,
            "online": online,
            "levels": UnitLevel.objects.all(),
            "fields": Field.objects.order_by("name"),
            "online_levels": OnlineLevel.choices,
            "params": params.urlencode(),
        },
    )


def _procedure(code: str) -> Procedure | None:
    return (
        Procedure.objects.select_related("field", "competent_agency_type")
        .prefetch_related("documents", "fees", "levels")
        .filter(code=code, active=True)
        .first()
    )


def procedure(request: HttpRequest, code: str) -> HttpResponse:
    p = _procedure(code)
    if p is None:
        return render(
            request, "404.html", {"message": f"Không tìm thấy thủ tục {code}."}, status=404
        )
    return render(
        request,
        "portal/procedure.html",
        {
            "p": p,
            "documents": list(p.documents.all()),
            "fees": [(f.name, money(f.amount)) for f in p.fees.all()],
            "total_fee": money(p.total_fee),
            "duration": legaltime.parse_duration(p.duration_spec).label,
            "desks": services.desks_for(p, timezone.localdate()),
            "online": p.online_level != OnlineLevel.NONE,
            "national": submitted_nationally(p),
            "national_url": national_portal_url(),
            "portal_mode": "national" if national_mode() else "standalone",
        },
    )


# -- accounts ---------------------------------------------------------------------------------


class PortalLogin(LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("portal:home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["vneid"] = identity.provider().is_configured()
        return context


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@limit_posts("register", target=lambda request: request.POST.get("identifier", ""))
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("portal:home")
    values = {k: request.POST.get(k, "") for k in ("full_name", "identifier", "id_number")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        password = request.POST.get("password", "")
        if password != request.POST.get("password2", ""):
            errors["password2"] = "Hai lần nhập mật khẩu không khớp."
        else:
            try:
                user = services.register_citizen(
                    services.Registration(
                        full_name=values["full_name"],
                        identifier=values["identifier"],
                        password=password,
                        id_number=values["id_number"],
                    )
                )
            except DomainError as exc:
                errors = dict(exc.details.get("fields", {})) or {"form": exc.message}
            else:
                auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request,
                    f"Đã tạo tài khoản. Bạn đăng nhập lần sau bằng «{user.username}» và mật khẩu "
                    "vừa đặt.",
                )
                return redirect(_safe_next(request, reverse("portal:home")))
        messages.error(request, "Chưa đăng ký được: kiểm tra các ô được đánh dấu bên dưới.")
    return render(
        request,
        "portal/register.html",
        {"values": values, "errors": errors, "next": request.GET.get("next", "")},
        status=400 if errors else 200,
    )


SSO_SESSION_KEY = "vneid_login"
SSO_MAX_SECONDS = 600  # a login left at the provider longer than this is started again


def _site_origin(request: HttpRequest) -> str:
    return identity.origin_of(request.build_absolute_uri("/"))


def vneid_start(request: HttpRequest) -> HttpResponse:
    """Send the citizen to VNeID with state, nonce and a PKCE challenge kept in the session."""
    provider = identity.provider(_site_origin(request))
    try:
        start = provider.begin(
            redirect_uri=request.build_absolute_uri(reverse("portal:vneid_callback"))
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:login")
    request.session[SSO_SESSION_KEY] = {
        **start.pending,
        "next": _safe_next(request, reverse("portal:home")),
        "started": int(timezone.now().timestamp()),
        # Started while signed in: the VNeID identity is linked to this account.
        "link_to": request.user.pk if request.user.is_authenticated else None,
    }
    return redirect(start.url)


def vneid_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(SSO_SESSION_KEY, None)
    fresh = isinstance(pending, dict) and (
        int(timezone.now().timestamp()) - int(pending.get("started", 0)) <= SSO_MAX_SECONDS
    )
    state = request.GET.get("state", "")
    if (
        not fresh
        or not state
        or not secrets.compare_digest(state.encode(), str(pending["state"]).encode())
    ):
        messages.error(request, "Phiên đăng nhập VNeID không hợp lệ hoặc đã hết hạn; thử lại.")
        return redirect("portal:login")
    if request.GET.get("error"):
        messages.error(
            request,
            "Bạn chưa đồng ý chia sẻ thông tin định danh nên chưa đăng nhập bằng VNeID."
            if request.GET["error"] == "access_denied"
            else "VNeID không hoàn tất đăng nhập; vui lòng thử lại.",
        )
        return redirect("portal:login")
    if not request.GET.get("code"):
        messages.error(request, "Phiên đăng nhập VNeID không hợp lệ hoặc đã hết hạn; thử lại.")
        return redirect("portal:login")
    try:
        person = identity.provider(_site_origin(request)).complete(
            code=request.GET["code"], pending=pending
        )
        linking = pending.get("link_to")
        link_to = request.user if linking and request.user.pk == linking else None
        user = services.citizen_from_identity(person, link_to=link_to)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:login")
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if link_to is not None:
        messages.success(request, "Đã liên kết tài khoản của bạn với tài khoản định danh VNeID.")
    elif services.unlinked_accounts_with(person.id_number, besides=user):
        messages.info(
            request,
            "Đã có tài khoản đăng ký trên Cổng với số định danh của bạn. Nếu đó là tài khoản của "
            "bạn, hãy đăng nhập bằng mật khẩu của tài khoản đó rồi chọn «Liên kết VNeID» để "
            "dùng chung; nếu không, vui lòng báo bộ phận một cửa.",
        )
    return redirect(pending.get("next") or "portal:home")


# -- the portal mode (CCHC_PORTAL_MODE) -------------------------------------------------------


def national_mode() -> bool:
    return getattr(django_settings, "CCHC_PORTAL_MODE", "standalone") == "national"


def submitted_nationally(p: Procedure) -> bool:
    """In the "national" mode, a procedure published on the national portal is submitted
    there, not here (tracking, payment, PAKN and results stay on this portal)."""
    return national_mode() and bool(p.national_published)


def national_portal_url() -> str:
    return str(getattr(django_settings, "CCHC_DVCQG_PUBLIC_URL", "") or NATIONAL_PORTAL_URL)


def _national_notice(request: HttpRequest, p: Procedure) -> HttpResponse:
    messages.info(
        request,
        f"Thủ tục {p.code} được nộp trực tuyến trên Cổng Dịch vụ công quốc gia; "
        "hồ sơ của bạn vẫn được tra cứu, thanh toán và trả kết quả tại đây.",
    )
    return redirect("portal:procedure", code=p.code)


# -- online submission and drafts -------------------------------------------------------------


def _form_values(request: HttpRequest) -> dict[str, Any]:
    return {
        "applicant": {k: request.POST.get(k, "") for k in services.APPLICANT_FIELDS},
        "matter": request.POST.get("matter", ""),
        "return_channel": request.POST.get("return_channel", ReturnChannel.ONLINE),
    }


def _draft_page(
    request: HttpRequest,
    p: Procedure,
    draft: Draft | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    token: str = "",
    status: int = 200,
) -> HttpResponse:
    desks = services.desks_for(p, timezone.localdate())
    if values is None:
        values = (
            draft.data
            if draft is not None and draft.data
            else {
                "applicant": services.prefill(request.user),
                "matter": "",
                "return_channel": ReturnChannel.ONLINE,
            }
        )
    stored = services.draft_files(draft) if draft is not None else []
    documents = [
        {"doc": d, "files": [f for f in stored if f.document_id == d.pk]} for d in p.documents.all()
    ]
    selected_desk = draft.desk_id if draft is not None and draft.desk_id else None
    if selected_desk is None and len(desks) == 1:
        selected_desk = desks[0][0].pk
    if draft is not None and draft.client_token:
        token = draft.client_token
    return render(
        request,
        "portal/submit.html",
        {
            "p": p,
            "draft": draft,
            "desks": desks,
            "selected_desk": selected_desk,
            "selected_agency": draft.competent_agency_id if draft is not None else None,
            "needs_agency": any(len(agencies) > 1 for _, agencies in desks),
            "documents": documents,
            "other_files": [f for f in stored if f.document_id is None],
            "values": values,
            "a": values.get("applicant", {}),
            "errors": errors or {},
            "limits": limits.LIMITS,
            # One token per form shown: every post of it reaches the same draft.
            "token": token or secrets.token_urlsafe(24),
            "return_channels": ReturnChannel.choices,
            "kinds": [("person", "Cá nhân"), ("organisation", "Tổ chức, doanh nghiệp")],
            "accept": ",".join(sorted(files.ACCEPTED)),
            "max_mb": files.MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


def _already_submitted(request: HttpRequest, draft: Draft) -> HttpResponse:
    """A second post of a form already submitted (double click, back and resend)."""
    messages.info(
        request, f"Hồ sơ {draft.dossier.code} đã được nộp từ biểu mẫu này; không cần nộp lại."
    )
    return redirect("portal:dossier", code=draft.dossier.code)


def _save_from_post(request: HttpRequest, p: Procedure, draft: Draft | None) -> HttpResponse:
    values = _form_values(request)
    token = request.POST.get("submission_token", "")[:64]
    desks = services.desks_for(p, timezone.localdate())
    desk_id = request.POST.get("desk", "")
    desk, agencies = next(((d, a) for d, a in desks if str(d.pk) == desk_id), (None, []))
    agency_id = request.POST.get("competent_agency", "")
    agency = next((a for a in agencies if str(a.pk) == agency_id), None)
    if agency is None and len(agencies) == 1:
        agency = agencies[0]
    uploads: list[tuple[int | None, files.Upload]] = []
    file_errors: list[str] = []
    document_ids = [d.pk for d in p.documents.all()]
    for key in [*(f"doc_{pk}" for pk in document_ids), "doc_other"]:
        doc_id = int(key[4:]) if key != "doc_other" else None
        for f in request.FILES.getlist(key):
            try:
                uploads.append((doc_id, files.check(f.name, f.read(files.MAX_BYTES + 1))))
            except DomainError as exc:
                file_errors.append(exc.message)
    remove = [int(v) for v in request.POST.getlist("remove_file") if v.isdigit()]
    try:
        draft = services.save_draft(
            request.user,
            procedure=p,
            draft=draft,
            desk=desk,
            competent_agency=agency,
            data=values,
            uploads=uploads,
            remove=remove,
            token=token if draft is None else "",
        )
    except services.DraftSubmitted as exc:
        return _already_submitted(request, exc.draft)
    except DomainError as exc:
        if draft is not None:
            current = services.draft_by_pk(request.user, draft.pk)
            if current is not None and current.dossier_id is not None:
                return _already_submitted(request, current)
        messages.error(request, exc.message)
        return _draft_page(request, p, draft, values=values, token=token, status=400)
    for message in file_errors:
        messages.error(request, message + " Tệp này chưa được lưu; các nội dung khác đã lưu nháp.")
    if request.POST.get("action") == "submit" and not file_errors:
        try:
            dossier = services.submit_draft(request.user, draft)
        except DomainError as exc:
            draft.refresh_from_db()
            if draft.dossier_id is not None:
                return _already_submitted(request, draft)
            messages.error(request, exc.message + " Nội dung đã nhập được lưu trong hồ sơ nháp.")
            return _draft_page(
                request, p, draft, errors=dict(exc.details.get("fields", {})), status=400
            )
        messages.success(
            request,
            f"Đã nộp hồ sơ {dossier.code}. Bộ phận một cửa sẽ kiểm tra và tiếp nhận; bạn sẽ "
            "nhận thông báo ở từng bước.",
        )
        return redirect("portal:dossier", code=dossier.code)
    too_long = limits.length_problems(draft.data)
    if too_long and not file_errors:
        # Saved as typed, but say now what must be shortened before it can be submitted.
        messages.warning(
            request,
            "Đã lưu nháp. Một số mục dài hơn giới hạn; hãy rút gọn trước khi nộp.",
        )
        return _draft_page(request, p, draft, errors=too_long)
    if not file_errors:
        messages.success(
            request, "Đã lưu nháp. Bạn có thể quay lại mục «Hồ sơ nháp» để tiếp tục bất cứ lúc nào."
        )
    return redirect("portal:draft", pk=draft.pk)


@citizen_required
def submit_new(request: HttpRequest, code: str) -> HttpResponse:
    p = _procedure(code)
    if p is None:
        return render(
            request, "404.html", {"message": f"Không tìm thấy thủ tục {code}."}, status=404
        )
    if p.online_level == OnlineLevel.NONE:
        messages.error(request, "Thủ tục này chưa cung cấp dịch vụ công trực tuyến.")
        return redirect("portal:procedure", code=code)
    if submitted_nationally(p):
        return _national_notice(request, p)
    if request.method == "POST":
        return _save_from_post(request, p, None)
    return _draft_page(request, p, None)


@citizen_required
def drafts(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/drafts.html", {"drafts": services.drafts_of(request.user)})


@citizen_required
def draft(request: HttpRequest, pk: int) -> HttpResponse:
    found = services.own_draft(request.user, pk)
    if not found.is_open:
        if found.dossier_id:
            return redirect("portal:dossier", code=found.dossier.code)
        return redirect("portal:drafts")
    if submitted_nationally(found.procedure):
        return _national_notice(request, found.procedure)
    if request.method == "POST":
        return _save_from_post(request, found.procedure, found)
    return _draft_page(request, found.procedure, found)


@require_POST
@citizen_required
def draft_discard(request: HttpRequest, pk: int) -> HttpResponse:
    services.discard_draft(request.user, services.own_draft(request.user, pk))
    messages.success(request, "Đã xóa hồ sơ nháp.")
    return redirect("portal:drafts")


@citizen_required
def draft_file(request: HttpRequest, pk: int, file_pk: int) -> HttpResponse:
    stored = services.draft_file(request.user, pk, file_pk)
    return FileResponse(
        files.open_stored(stored.path).open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )


# -- status look-up ---------------------------------------------------------------------------


def track(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"code": "", "factor": ""}
    status = 200
    if request.method == "POST":
        code = request.POST.get("code", "")
        factor = request.POST.get("factor", "")
        context["code"] = code.strip()
        context["factor"] = factor.strip()
        # An incomplete form is asked again, never looked up: it is not an attempt, so it
        # neither answers "not found" nor counts against the rate limit.
        missing = services.lookup_missing(code, factor)
        if missing:
            context["errors"] = missing
            context["error"] = " ".join(missing.values())
            return render(request, "portal/track.html", context, status=400)
        try:
            dossier = services.lookup(code, factor, address=client_address(request))
        except services.LookupLimited as exc:
            context["error"] = exc.message
            status = 429
        except DomainError as exc:
            context["error"] = exc.message
            status = 404
        else:
            owner = services.is_citizen(request.user) and dossier.applicant_user_id == getattr(
                request.user, "pk", None
            )
            context["s"] = presenters.status(dossier, now=_now(), owner=False)
            context["owner"] = owner
    return render(request, "portal/track.html", context, status=status)


# -- the citizen's dossiers -------------------------------------------------------------------


@citizen_required
def my_dossiers(request: HttpRequest) -> HttpResponse:
    page = Paginator(services.my_dossiers(request.user), PAGE_SIZE).get_page(
        request.GET.get("trang")
    )
    rows = list(page.object_list)
    downloads = results.e_results_of(rows)
    return render(
        request,
        "portal/dossiers.html",
        {
            "page": page,
            "rows": [(d, downloads.get(d.pk, [])) for d in rows],
            "drafts": services.drafts_of(request.user),
        },
    )


@citizen_required
def dossier(request: HttpRequest, code: str) -> HttpResponse:
    found = services.own_dossier(request.user, code)
    return render(request, "portal/dossier.html", _dossier_context(request, found))


def _dossier_context(
    request: HttpRequest,
    found: Any,
    *,
    rate_values: dict[str, Any] | None = None,
    rate_errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The citizen's dossier page; `rate_values`/`rate_errors` bring back a refused rating
    as it was typed."""
    context: dict[str, Any] = {"s": presenters.status(found, now=_now(), owner=True), "d": found}
    context["can"] = {
        action: found.state in TRANSITIONS[action][0] and may(request.user, found, action)
        for action in ("resubmit", "citizen_upload", "withdraw", "rate")
    }
    context["can"]["citizen_upload"] = context["can"]["citizen_upload"] and found.is_paused
    context["can"]["rate"] = context["can"]["rate"] and not found.rating
    context["components"] = list(found.components.prefetch_related("files"))
    context["notifications"] = presenters.notices(found)
    context["accept"] = ",".join(sorted(files.ACCEPTED))
    context["e_results"] = {r.number for r in results.e_results(found)}
    # Certified electronic copies (a query only for a dossier that has one).
    context["certified_copies"] = certified_copies.of_dossier(found) if found.certified_copy else []
    context["datastore_rows"] = datastore_delivery.deliveries_of(found)
    context["dissatisfied_reasons"] = list(ratings.DISSATISFIED_REASONS.items())
    context["comment_limit"] = limits.RATING_COMMENT_LIMIT
    context["rate_values"] = rate_values or {"rating": "", "reasons": [], "comment": ""}
    context["rate_errors"] = rate_errors or {}
    return context


@require_POST
@citizen_required
def dossier_act(request: HttpRequest, code: str) -> HttpResponse:
    found = services.own_dossier(request.user, code)
    action = request.POST.get("action", "")
    version = request.POST.get("version", "")
    try:
        uploads = [
            files.check(f.name, f.read(files.MAX_BYTES + 1)) for f in request.FILES.getlist("files")
        ]
        services.citizen_act(
            request.user,
            found,
            action,
            reason=request.POST.get("reason", ""),
            rating=request.POST.get("rating", ""),
            reasons=request.POST.getlist("reasons"),
            uploads=uploads,
            expected_version=int(version) if version.isdigit() else None,
        )
    except DomainError as exc:
        if action == "rate" and exc.code == "portal.rating":
            # Asked again on the same page with what was typed, never a lost comment.
            messages.error(request, exc.message)
            values = {
                "rating": request.POST.get("rating", ""),
                "reasons": request.POST.getlist("reasons"),
                "comment": request.POST.get("reason", ""),
            }
            context = _dossier_context(
                request, found, rate_values=values, rate_errors=dict(exc.details.get("fields", {}))
            )
            return render(request, "portal/dossier.html", context, status=400)
        messages.error(request, exc.message)
    else:
        done = {
            "resubmit": "Đã nộp lại hồ sơ; bộ phận một cửa sẽ kiểm tra và tiếp nhận.",
            "citizen_upload": "Đã gửi tệp bổ sung; bộ phận một cửa sẽ kiểm tra.",
            "withdraw": "Đã rút hồ sơ.",
            "rate": "Cảm ơn bạn đã đánh giá.",
        }
        messages.success(request, done.get(action, "Đã ghi nhận."))
    return redirect("portal:dossier", code=found.code)


@citizen_required
def dossier_file(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    found = services.own_dossier(request.user, code)
    stored = services.citizen_file(request.user, found, pk)
    return FileResponse(
        files.open_stored(stored.path).open("rb"),
        as_attachment=True,
        filename=stored.name,
        content_type=stored.content_type,
    )


@citizen_required
def dossier_result(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """«Tải kết quả»: the electronic result of the citizen's own dossier (audited)."""
    found = services.own_dossier(request.user, code)
    try:
        got = results.download(request.user, found, number)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("portal:dossier", code=found.code)
    response = HttpResponse(got.content, content_type=got.content_type)
    response["Content-Disposition"] = content_disposition_header(True, got.filename)
    return response
