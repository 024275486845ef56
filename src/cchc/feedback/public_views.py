"""Citizen-facing PAKN pages under /dich-vu-cong/phan-anh/: the form (signed in or anonymous
with contact details), "Phản ánh của tôi", published answers (no personal data) and the
rating of an answer. Independent of the portal app's code."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cchc.accounts.access import requires
from cchc.dossiers import files
from cchc.errors import DomainError, InvalidInput
from cchc.feedback import access, linking, queries, ratings, services
from cchc.feedback.models import DossierLink, Feedback, Satisfaction, State
from cchc.ratelimit.web import limit_posts


def _pakn_target(request: HttpRequest) -> str:
    """What a PAKN is aimed at, for its rate limit: the dossier named, else the contact."""
    return linking.normalise_code(request.POST.get("dossier_code", "")) or (
        request.POST.get("phone", "") or request.POST.get("email", "")
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files; each is checked by the service (type by content, size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class FeedbackForm(forms.Form):
    name = forms.CharField(label="Họ và tên", max_length=200)
    phone = forms.CharField(label="Số điện thoại", max_length=20, required=False)
    email = forms.EmailField(
        label="Thư điện tử",
        required=False,
        error_messages={"invalid": "Địa chỉ thư điện tử không hợp lệ."},
    )
    agency = forms.TypedChoiceField(
        label="Cơ quan nhận phản ánh", coerce=int, required=False, empty_value=None
    )
    dossier_code = forms.CharField(
        label="Mã hồ sơ liên quan (nếu có)", max_length=60, required=False
    )
    subject = forms.CharField(label="Tiêu đề", max_length=300)
    content = forms.CharField(
        label="Nội dung phản ánh, kiến nghị", widget=forms.Textarea(attrs={"rows": 6})
    )
    files = MultipleFileField(
        label="Tệp đính kèm (PDF, ảnh JPEG/PNG, Word, Excel; tối đa 20 MB mỗi tệp)",
        required=False,
    )

    def __init__(self, *args: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = "Mục này không được để trống."
            limit = getattr(field, "max_length", None)
            if limit:
                # The limit is stated beside the label and checked on the server with a
                # message; a browser `maxlength` would cut a paste silently instead.
                field.widget.attrs.pop("maxlength", None)
                field.error_messages["max_length"] = (
                    f"Tối đa {limit} ký tự (bạn đã nhập %(show_value)d); hãy rút gọn."
                )
        self.fields["agency"].choices = [("", "— Chọn cơ quan —")] + [
            (a.pk, a.name) for a in agencies
        ]


@limit_posts("pakn", target=_pakn_target)
def new(request: HttpRequest) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    agencies = list(services.public_agencies(timezone.localdate()))
    initial = {}
    if user is not None:
        initial = {"name": user.get_full_name(), "email": user.email}
    form = FeedbackForm(
        request.POST or None, request.FILES or None, agencies=agencies, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            uploads = [files.check(f.name, f) for f in data["files"]]
            feedback = services.submit(
                user,
                services.Submission(
                    name=data["name"],
                    phone=data["phone"],
                    email=data["email"],
                    subject=data["subject"],
                    content=data["content"],
                    agency_id=data["agency"],
                    dossier_code=data["dossier_code"],
                ),
                uploads=uploads,
            )
        except DomainError as exc:
            fields = exc.details.get("fields") or []
            for name, message in fields:
                form.add_error(name if name in form.fields else None, message)
            if not fields:
                form.add_error(exc.details.get("field"), exc.message)
        else:
            sent = request.session.get("feedback_sent", [])
            request.session["feedback_sent"] = [*sent[-9:], feedback.code]
            # One address for every submission: the answer is the same whatever was typed.
            return redirect("feedback_public:sent_latest")
    return render(request, "feedback/public_new.html", {"form": form})


def _sent_by(request: HttpRequest, code: str) -> Feedback | None:
    """The PAKN `code` if this session submitted it (or the signed-in user sent it)."""
    feedback = Feedback.objects.select_related("agency").filter(code=code).first()
    if feedback is not None and (
        code in request.session.get("feedback_sent", []) or access.is_sender(request.user, feedback)
    ):
        return feedback
    return None


def sent_latest(request: HttpRequest) -> HttpResponse:
    """The receipt of the PAKN this session submitted last."""
    codes = request.session.get("feedback_sent", [])
    return sent(request, codes[-1] if codes else "")


def sent(request: HttpRequest, code: str) -> HttpResponse:
    """The receipt page: only in the session that submitted (or for the signed-in sender).
    A PAKN naming a dossier not yet proven the sender's offers the one-time code form; the
    page reads the same whether or not a code was sent."""
    feedback = _sent_by(request, code)
    if feedback is None:
        return render(request, "404.html", {"message": "Không tìm thấy phản ánh."}, status=404)
    return render(
        request,
        "feedback/public_sent.html",
        {"f": feedback, "link_pending": feedback.dossier_link == DossierLink.PENDING},
    )


@limit_posts("pakn_code", target=lambda request: request.resolver_match.kwargs.get("code", ""))
def confirm_link(request: HttpRequest, code: str) -> HttpResponse:
    """The sender types the one-time code sent to the dossier's registered contact."""
    feedback = _sent_by(request, code)
    if feedback is None:
        return render(request, "404.html", {"message": "Không tìm thấy phản ánh."}, status=404)
    if request.method == "POST":
        try:
            linking.confirm_code(
                feedback,
                request.POST.get("otp", ""),
                actor=request.user if request.user.is_authenticated else None,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Đã xác nhận: phản ánh {feedback.code} được gắn với hồ sơ "
                f"{feedback.dossier_claim}.",
            )
    return redirect("feedback_public:sent", code=feedback.code)


@requires()
def mine(request: HttpRequest) -> HttpResponse:
    items = access.mine(request.user).select_related("agency").order_by("-received_at")
    return render(request, "feedback/public_mine.html", {"items": items})


@requires()
def detail(request: HttpRequest, code: str) -> HttpResponse:
    feedback = access.mine(request.user).select_related("agency").filter(code=code).first()
    if feedback is None:
        return render(
            request, "404.html", {"message": f"Không tìm thấy phản ánh {code}."}, status=404
        )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "withdraw":
                services.withdraw(request.user, feedback, reason=request.POST.get("reason", ""))
                messages.success(request, "Đã rút phản ánh.")
            elif action == "supplement":
                text = request.POST.get("text", "").strip()
                uploads = [files.check(f.name, f) for f in request.FILES.getlist("files")]
                if not text and not uploads:
                    raise InvalidInput("Ghi thông tin bổ sung hoặc đính kèm tệp.")
                services.supplement_received(request.user, feedback, note=text, uploads=uploads)
                messages.success(request, "Đã gửi thông tin bổ sung; cơ quan tiếp tục xử lý.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("feedback_public:detail", code=code)
    all_events = list(feedback.events.order_by("seq"))
    events = [
        {"label": services.ACTION_LABELS.get(e.action, e.action), "event": e}
        for e in all_events
        if e.action not in ("assign",)
    ]
    asked = [e.reason for e in all_events if e.action == "request_supplement"]
    return render(
        request,
        "feedback/public_detail.html",
        {
            "f": feedback,
            "events": events,
            "can_rate": "rate" in services.available_actions(request.user, feedback),
            "request_reason": asked[-1] if asked else "",
        },
    )


def published(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    page = Paginator(queries.published(q), 20).get_page(request.GET.get("trang"))
    return render(request, "feedback/public_published.html", {"page": page, "q": q})


class RatingForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label="Mức độ hài lòng với trả lời",
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Chọn mức độ hài lòng."},
    )
    reasons = forms.MultipleChoiceField(
        label="Lý do không hài lòng",
        choices=list(ratings.DISSATISFIED_REASONS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    comment = forms.CharField(
        label="Ý kiến thêm",
        required=False,
        max_length=ratings.RATING_COMMENT_LIMIT,
        error_messages={
            "max_length": "Ý kiến tối đa %(limit_value)d ký tự (bạn đã nhập %(show_value)d); "
            "hãy rút gọn.",
        },
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["comment"].widget.attrs.pop("maxlength", None)  # refused, never cut

    def clean(self) -> dict[str, Any]:
        """«Không hài lòng» asks why, on the form, before anything is recorded."""
        data = super().clean()
        if data.get("satisfaction") == Satisfaction.DISSATISFIED:
            reasons = data.get("reasons") or []
            if not reasons and not data.get("comment"):
                self.add_error(
                    "reasons",
                    "Bạn chọn «Không hài lòng»: hãy cho biết lý do (chọn ít nhất một lý do hoặc "
                    "ghi ý kiến) để cơ quan khắc phục.",
                )
            elif "other" in reasons and not data.get("comment"):
                self.add_error("comment", "Bạn chọn «Lý do khác»: hãy ghi rõ lý do.")
        return data


@limit_posts("rating", target=lambda request: request.resolver_match.kwargs.get("code", ""))
def rate(request: HttpRequest, code: str) -> HttpResponse:
    """Rate an answer: the signed-in sender, or anyone holding the link of the answer
    e-mail (a signed token)."""
    token = request.GET.get("t") or request.POST.get("t") or ""
    feedback = Feedback.objects.select_related("agency").filter(code=code).first()
    allowed = feedback is not None and (
        access.is_sender(request.user, feedback)
        or (bool(token) and services.check_rating_token(feedback, token))
    )
    if feedback is None or not allowed:
        if not request.user.is_authenticated and not token:
            return redirect_to_login(request.get_full_path())
        return render(
            request, "404.html", {"message": f"Không tìm thấy phản ánh {code}."}, status=404
        )
    form = RatingForm(request.POST or None, initial={"satisfaction": feedback.satisfaction or None})
    if request.method == "POST" and form.is_valid():
        try:
            services.rate(
                request.user,
                feedback,
                satisfaction=form.cleaned_data["satisfaction"],
                comment=form.cleaned_data["comment"],
                reasons=form.cleaned_data["reasons"],
                token=token,
            )
        except DomainError as exc:
            field = exc.details.get("field")
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, "Cảm ơn bạn đã đánh giá. Ý kiến của bạn đã được ghi nhận.")
            if access.is_sender(request.user, feedback):
                return redirect("feedback_public:detail", code=code)
            return redirect(reverse("feedback_public:published"))
    ratable = feedback.state in (State.RESOLVED, State.PUBLISHED)
    return render(
        request,
        "feedback/public_rate.html",
        {"f": feedback, "form": form, "token": token, "ratable": ratable},
    )
