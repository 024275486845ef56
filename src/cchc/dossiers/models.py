"""Dossiers (hồ sơ TTHC, spec 03): the append-only event log and the projection derived
from it.

`DossierEvent` rows are the source of truth. The columns of `Dossier` below the marker
"projection" (state, clocks, outcome, step, assignee…) are derived from the events and the
calendar by `cchc.dossiers.replay`; they are stored for fast queues and reports, and
`cchc dossiers verify` recomputes them and reports any mismatch.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from cchc.catalog import versions
from cchc.eventlog.models import event_model


class Channel(models.IntegerChoices):
    """National channel codes (kênh nộp hồ sơ)."""

    IN_PERSON = 1, "Trực tiếp"
    ONLINE = 2, "Trực tuyến"
    POSTAL = 3, "Bưu chính công ích"


class ApplicantKind(models.TextChoices):
    PERSON = "person", "Cá nhân"
    ORGANISATION = "organisation", "Tổ chức, doanh nghiệp"


class ReturnChannel(models.TextChoices):
    DESK = "desk", "Nhận trực tiếp tại bộ phận một cửa"
    POST = "post", "Qua dịch vụ bưu chính công ích"
    ONLINE = "online", "Trực tuyến (kết quả điện tử)"


class State(models.TextChoices):
    SUBMITTED = "submitted", "Chờ tiếp nhận"
    AWAITING_COMPLETION = "awaiting_completion", "Chờ người nộp hoàn thiện (chưa tiếp nhận)"
    RECEIVED = "received", "Đã tiếp nhận"
    IN_PROGRESS = "in_progress", "Đang xử lý"
    AWAITING_APPROVAL = "awaiting_approval", "Chờ lãnh đạo phê duyệt"
    AWAITING_SUPPLEMENT = "awaiting_supplement", "Chờ bổ sung hồ sơ"
    AWAITING_OBLIGATION = "awaiting_obligation", "Chờ thực hiện nghĩa vụ tài chính"
    RESOLVED = "resolved", "Đã xử lý xong"
    RETURNED = "returned", "Đã trả kết quả"
    REFUSED_AT_INTAKE = "refused_at_intake", "Từ chối tiếp nhận"
    REFUSED = "refused", "Từ chối giải quyết"
    STOPPED = "stopped", "Dừng xử lý"
    WITHDRAWN = "withdrawn", "Đã rút hồ sơ"


OPEN_STATES = frozenset(
    {
        State.SUBMITTED,
        State.AWAITING_COMPLETION,
        State.RECEIVED,
        State.IN_PROGRESS,
        State.AWAITING_APPROVAL,
        State.AWAITING_SUPPLEMENT,
        State.AWAITING_OBLIGATION,
    }
)
# States in which the legal clock runs (received and not paused, not finished).
CLOCK_RUNNING = frozenset({State.RECEIVED, State.IN_PROGRESS, State.AWAITING_APPROVAL})
PAUSED_STATES = frozenset({State.AWAITING_SUPPLEMENT, State.AWAITING_OBLIGATION})
TERMINAL_STATES = frozenset(
    {State.RETURNED, State.REFUSED_AT_INTAKE, State.REFUSED, State.STOPPED, State.WITHDRAWN}
)


# States before the desk has received the dossier (no legal clock yet).
BEFORE_RECEIPT = frozenset({State.SUBMITTED, State.AWAITING_COMPLETION})


class PaymentChannel(models.TextChoices):
    """How the dossier's fees were paid. "1"/"2" are the national field "paid online"
    (1 = via the National Public Service Portal, 2 = via a ministry/provincial gateway)."""

    CASH = "cash", "Tiền mặt tại bộ phận một cửa"
    NATIONAL_PORTAL = "1", "Trực tuyến qua Cổng DVC quốc gia"
    PROVINCIAL_GATEWAY = "2", "Trực tuyến qua cổng thanh toán của tỉnh"


ONLINE_PAYMENT_CHANNELS = frozenset(
    {PaymentChannel.NATIONAL_PORTAL, PaymentChannel.PROVINCIAL_GATEWAY}
)


class Rating(models.TextChoices):
    SATISFIED = "satisfied", "Hài lòng"
    NEUTRAL = "neutral", "Bình thường"
    DISSATISFIED = "dissatisfied", "Không hài lòng"


class Outcome(models.TextChoices):
    """Mirrors `cchc.legaltime.Outcome` (labels of the national reporting)."""

    EARLY = "early", "Trước hạn"
    ON_TIME = "on_time", "Đúng hạn"
    OVERDUE = "overdue", "Quá hạn"


class Dossier(models.Model):
    code = models.CharField("Mã hồ sơ", max_length=60, unique=True)
    ruleset = models.CharField("Bộ quy định áp dụng", max_length=20)
    procedure = models.ForeignKey(
        "catalog.Procedure", verbose_name="Thủ tục", on_delete=models.PROTECT
    )
    desk = models.ForeignKey(
        "org.Desk", verbose_name="Bộ phận tiếp nhận", on_delete=models.PROTECT, related_name="+"
    )
    receiving_agency = models.ForeignKey(
        "org.Agency",
        verbose_name="Cơ quan tiếp nhận",
        on_delete=models.PROTECT,
        related_name="+",
    )
    competent_agency = models.ForeignKey(
        "org.Agency",
        verbose_name="Cơ quan có thẩm quyền",
        on_delete=models.PROTECT,
        related_name="+",
    )
    channel = models.PositiveSmallIntegerField("Kênh nộp", choices=Channel.choices)
    online_level = models.CharField("Mức độ DVC trực tuyến khi tiếp nhận", max_length=10)
    applicant_kind = models.CharField(
        "Loại người nộp", max_length=14, choices=ApplicantKind.choices
    )
    applicant_name = models.CharField("Người nộp / tổ chức", max_length=200)
    applicant_id_number = models.CharField("Số định danh / mã số thuế", max_length=20, blank=True)
    applicant_address = models.CharField("Địa chỉ", max_length=300, blank=True)
    applicant_phone = models.CharField("Điện thoại", max_length=20, blank=True)
    applicant_email = models.EmailField("Thư điện tử", blank=True)
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Tài khoản người nộp",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    matter = models.CharField("Nội dung yêu cầu", max_length=500, blank=True)
    sets = models.PositiveSmallIntegerField("Số bộ hồ sơ", default=1)
    return_channel = models.CharField(
        "Hình thức nhận kết quả",
        max_length=10,
        choices=ReturnChannel.choices,
        default=ReturnChannel.DESK,
    )
    duration_spec = models.CharField("Thời hạn giải quyết", max_length=20)
    step_plan = models.JSONField("Quy trình nội bộ khi tiếp nhận", default=list)
    calendar_code = models.CharField("Lịch làm việc", max_length=50)
    saturday_reception = models.BooleanField(default=False)
    submitted_at = models.DateTimeField("Thời điểm nộp")
    search_text = models.CharField(max_length=800, db_index=False, default="")
    is_demo = models.BooleanField("Dữ liệu mẫu", default=False)
    # Intake facts used by the indicators (766 groups 3 and 4).
    fee_total = models.PositiveBigIntegerField("Tổng phí, lệ phí (đồng)", default=0)
    digitised = models.BooleanField("Thành phần hồ sơ đã số hóa", default=False)
    reused_data = models.BooleanField("Có tái sử dụng dữ liệu số hóa", default=False)
    # The signed e-result reached the holder's data store (`cchc.dossiers.datastore`; 766 3e):
    # set by the worker's delivery together with a "note" event that carries it to the cells.
    result_in_datastore = models.BooleanField("Kết quả đã vào kho dữ liệu", default=False)
    # Dossiers imported from another one-stop system (`cchc import dossiers`): the system's
    # name ("" for dossiers received here) and a digest of the imported facts, so that a
    # re-import of an unchanged row is recognised without reading its events.
    source = models.CharField("Nguồn dữ liệu", max_length=100, blank=True, default="")
    source_digest = models.CharField(max_length=32, blank=True, default="")
    # Optimistic concurrency: the number of events; an action states the version it saw.
    version = models.PositiveIntegerField(default=0)

    # -- projection (derived from the events; `cchc dossiers verify` checks it) ----------------
    state = models.CharField("Trạng thái", max_length=20, choices=State.choices)
    is_open = models.BooleanField("Đang mở", default=True)
    # Queue order: the due instant once received; the submission instant while waiting for
    # the desk (so online submissions come first, oldest first). Never null, so one
    # ascending index serves every queue on SQLite and PostgreSQL alike.
    queue_at = models.DateTimeField("Thứ tự trong hàng đợi")
    received_at = models.DateTimeField("Thời điểm tiếp nhận", null=True, blank=True)
    clock_start = models.DateTimeField("Bắt đầu tính thời hạn", null=True, blank=True)
    original_due = models.DateTimeField("Hạn giải quyết ban đầu", null=True, blank=True)
    due = models.DateTimeField("Hạn giải quyết hiện tại", null=True, blank=True)
    paused_seconds = models.PositiveIntegerField("Thời gian tạm dừng (giây làm việc)", default=0)
    paused_since = models.DateTimeField("Tạm dừng từ", null=True, blank=True)
    calendar_version = models.CharField("Phiên bản lịch", max_length=60, blank=True)
    extensions = models.PositiveSmallIntegerField("Số lần hẹn lại", default=0)
    supplement_requests = models.PositiveSmallIntegerField("Số lần yêu cầu bổ sung", default=0)
    step_index = models.PositiveSmallIntegerField("Bước hiện tại", default=0)
    step_due = models.DateTimeField("Hạn bước hiện tại", null=True, blank=True)
    current_agency = models.ForeignKey(
        "org.Agency",
        verbose_name="Cơ quan đang xử lý",
        on_delete=models.PROTECT,
        related_name="+",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người đang xử lý",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finished_at = models.DateTimeField("Thời điểm hoàn thành", null=True, blank=True)
    returned_at = models.DateTimeField("Thời điểm trả kết quả", null=True, blank=True)
    outcome = models.CharField(
        "Kết quả đúng hạn", max_length=10, choices=Outcome.choices, blank=True
    )
    outcome_original = models.CharField(
        "Kết quả so với hạn ban đầu", max_length=10, choices=Outcome.choices, blank=True
    )
    has_apology = models.BooleanField("Có văn bản xin lỗi", default=False)
    paid_amount = models.PositiveBigIntegerField("Đã thanh toán (đồng)", default=0)
    payment_channel = models.CharField(
        "Hình thức thanh toán", max_length=8, choices=PaymentChannel.choices, blank=True
    )
    rating = models.CharField(
        "Đánh giá của người dân", max_length=16, choices=Rating.choices, blank=True
    )
    has_complaint = models.BooleanField("Có phản ánh, kiến nghị", default=False)
    # -- risk (written by the daily scan, not by the events) ------------------------------------
    at_risk = models.BooleanField("Có nguy cơ trễ hạn", default=False)
    risk_note = models.CharField("Lý do cảnh báo", max_length=300, blank=True)
    risk_checked_at = models.DateTimeField(null=True, blank=True)
    # A certified electronic copy (bản sao điện tử có chứng thực, 766 3c) was issued for the
    # dossier (`cchc.dossiers.certified_copies`): set with a "note" event that carries it to
    # the cells. Last of the columns: the raw row writers (imports, generator) append it.
    certified_copy = models.BooleanField("Đã cấp bản sao điện tử có chứng thực", default=False)

    class Meta:
        verbose_name = "Hồ sơ"
        verbose_name_plural = "Hồ sơ"
        indexes = [
            # The work queue walks open dossiers in queue order and stops after a page;
            # scope and filters are checked on the rows it walks. Partial on the bare
            # boolean: that is how the ORM writes `is_open=True`, so SQLite's planner can
            # match it (a leading `is_open` column would not be used).
            models.Index(
                fields=["queue_at", "id"], condition=Q(is_open=True), name="dossier_open_queue"
            ),
            models.Index(fields=["state", "queue_at", "id"], name="dossier_state"),
            models.Index(fields=["queue_at", "id"], name="dossier_all_queue"),
            models.Index(fields=["competent_agency", "received_at"], name="dossier_competent"),
            # An agency's dossiers finished in a period (its drill-downs of T4, 2a…): without
            # it SQLite walked the whole province's year of finished dossiers for one agency
            # (2.7 s at 1 M dossiers; 0.26 s with it).
            models.Index(
                fields=["competent_agency", "finished_at"], name="dossier_competent_finished"
            ),
            # The late agencies of the dashboard's first screen and the agency leader's
            # comparison (dashboard.lateness, leader.comparison): open dossiers per agency,
            # overdue, paused past the due, without an apology — read from this index alone
            # (0.16 s → 0.02 s over the 20 000 open dossiers of a 1 M province-year).
            models.Index(
                fields=["competent_agency", "state", "due", "paused_since", "has_apology"],
                condition=Q(is_open=True),
                name="dossier_open_lateness",
            ),
            # The open dossiers an agency handles or received (with the lateness index for
            # the competent agency): the candidates of an agency-scoped queue
            # (access.visible_open).
            models.Index(
                fields=["current_agency"], condition=Q(is_open=True), name="dossier_open_current"
            ),
            models.Index(
                fields=["receiving_agency"],
                condition=Q(is_open=True),
                name="dossier_open_receiving",
            ),
            models.Index(fields=["received_at"], name="dossier_received"),
            # Indicators (cchc.indicators.measures): dossiers in progress at a report
            # instant — open ones received before it, and ones finished after it. Covering
            # (due and supplements decide "on time"), so the counts never touch the table.
            models.Index(
                fields=["received_at", "due", "supplement_requests", "competent_agency"],
                condition=Q(is_open=True),
                name="dossier_open_received",
            ),
            models.Index(
                fields=["finished_at", "received_at", "due", "supplement_requests"],
                name="dossier_finished",
            ),
            # Headline counts of the queue and home page (queries.counts) and the queue's
            # step names: every open or resolved dossier in scope, index-only (migration
            # 0010 says why).
            models.Index(
                fields=[
                    "procedure",
                    "current_agency",
                    "competent_agency",
                    "receiving_agency",
                    "state",
                    "is_open",
                    "at_risk",
                    "due",
                    "assignee",
                    "id",
                ],
                condition=Q(is_open=True) | Q(state="resolved"),
                name="dossier_open_counts",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(sets__gte=1), name="dossier_sets_positive"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_paused(self) -> bool:
        return self.state in PAUSED_STATES


DossierEventBase = event_model(
    "dossier", "dossiers.Dossier", action_length=40, state_length=20, reason_label="Lý do, ghi chú"
)


class DossierEvent(DossierEventBase):
    """One transition or fact of a dossier's life. Append-only: never updated or deleted
    (the model refuses, and database triggers refuse raw SQL too). The columns are the
    shared event-log shape (`cchc.eventlog`)."""

    class Meta(DossierEventBase.Meta):
        verbose_name = "Sự kiện hồ sơ"
        verbose_name_plural = "Sự kiện hồ sơ"


class DossierProcedureVersion(models.Model):
    """The procedure version a dossier was received under (`cchc.catalog.versions`): its
    legal time, documents, fees and steps were taken from it at intake, and its reception
    cut-off applies to the dossier's clock. Written once at intake, never changed. Dossiers
    without one (written before versions were recorded, imported or generated in bulk)
    follow their desk calendar's cut-off."""

    dossier = models.OneToOneField(
        Dossier, primary_key=True, on_delete=models.PROTECT, related_name="procedure_terms"
    )
    version = models.ForeignKey(
        "catalog.ProcedureVersion",
        verbose_name="Phiên bản thủ tục khi tiếp nhận",
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = "Phiên bản thủ tục của hồ sơ"
        verbose_name_plural = "Phiên bản thủ tục của hồ sơ"

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.version_id}"

    @staticmethod
    def rule_for(dossier: Dossier) -> versions.ReceptionRule | None:
        """The reception rule (`cchc.catalog.versions.ReceptionRule`) of the version
        `dossier` was received under, or None (the calendar's cut-off applies). One query,
        none when the dossier was read with ``select_related("procedure_terms__version")``."""
        cache = dossier._state.fields_cache
        if "procedure_terms" in cache:
            terms = cache["procedure_terms"]
            return versions.rule_of(terms.version) if terms is not None else None
        row = (
            DossierProcedureVersion.objects.filter(dossier_id=dossier.pk)
            .values_list("version__cutoff", "version__cutoff_source", "version__cutoff_verified")
            .first()
        )
        return versions.ReceptionRule.of(*row) if row is not None else None


class DossierComponent(models.Model):
    """Thành phần hồ sơ as received: which required document, how many, digitised/reused."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="components")
    position = models.PositiveSmallIntegerField(default=0)
    document = models.ForeignKey(
        "catalog.RequiredDocument", null=True, blank=True, on_delete=models.PROTECT
    )
    name = models.CharField("Tên giấy tờ", max_length=500)
    originals = models.PositiveSmallIntegerField("Bản chính", default=0)
    copies = models.PositiveSmallIntegerField("Bản sao", default=0)
    digitised = models.BooleanField("Đã số hóa", default=False)
    reused = models.BooleanField("Tái sử dụng dữ liệu", default=False)

    class Meta:
        ordering = ["dossier", "position"]

    def __str__(self) -> str:
        return self.name


class StoredFile(models.Model):
    """A file uploaded to a dossier (component scan, attachment of an event, result).
    Stored outside the web root under the var directory; served only through a view that
    checks the reader's permission."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="files")
    event = models.ForeignKey(
        DossierEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="files"
    )
    component = models.ForeignKey(
        DossierComponent, null=True, blank=True, on_delete=models.PROTECT, related_name="files"
    )
    name = models.CharField("Tên tệp", max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["dossier", "id"]

    def __str__(self) -> str:
        return self.name


class DossierFee(models.Model):
    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="fees")
    name = models.CharField("Phí, lệ phí", max_length=200)
    amount = models.PositiveBigIntegerField("Số tiền (đồng)")

    class Meta:
        ordering = ["dossier", "id"]

    def __str__(self) -> str:
        return self.name


class DossierResult(models.Model):
    """A result (kết quả) with its electronic code `<mã hồ sơ>-KQ(n)`."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="results")
    number = models.PositiveSmallIntegerField()
    code = models.CharField("Mã kết quả", max_length=80, unique=True)
    title = models.CharField("Tên kết quả", max_length=300)
    electronic = models.BooleanField("Kết quả điện tử", default=True)
    file = models.ForeignKey(StoredFile, null=True, blank=True, on_delete=models.PROTECT)
    event = models.ForeignKey(DossierEvent, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["dossier", "number"]
        constraints = [
            models.UniqueConstraint(fields=["dossier", "number"], name="dossier_result_unique")
        ]

    def __str__(self) -> str:
        return self.code


class CodeCounter(models.Model):
    """Per-prefix, per-day sequence of dossier codes (XXXX). Incremented atomically with an
    upsert so that concurrent intakes never get the same number."""

    prefix = models.CharField(max_length=40)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "day"], name="code_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix} {self.day}: {self.last}"


class RecomputeStatus(models.TextChoices):
    PENDING = "pending", "Chờ chạy"
    RUNNING = "running", "Đang chạy"
    DONE = "done", "Đã xong"
    SUPERSEDED = "superseded", "Thay bằng phiên bản lịch mới hơn"


UNFINISHED_RECOMPUTE = (RecomputeStatus.PENDING, RecomputeStatus.RUNNING)


class RecomputeJob(models.Model):
    """Moving the open dossiers of one calendar to the version in force (spec 02 §9), as a
    resumable job (`cchc.dossiers.recompute`).

    Recorded in the transaction that adds the calendar version, so a version never exists
    without the work it calls for; then advanced batch by batch in dossier id order, each
    batch in its own transaction that also moves `cursor`: a crash loses at most the batch
    in flight, and `cchc dossiers recompute` (the worker runs it every minute) resumes from
    the cursor. The counts are the progress administrators see."""

    calendar_code = models.CharField("Lịch làm việc", max_length=50)
    version = models.PositiveIntegerField("Phiên bản lịch áp dụng")
    status = models.CharField(
        "Trạng thái",
        max_length=12,
        choices=RecomputeStatus.choices,
        default=RecomputeStatus.PENDING,
    )
    reason = models.CharField("Lý do", max_length=200, blank=True)
    # The id of the last dossier a committed batch has dealt with (0: none yet).
    cursor = models.BigIntegerField("Hồ sơ cuối cùng đã xử lý (id)", default=0)
    total = models.PositiveIntegerField("Số hồ sơ cần tính lại khi ghi nhận", default=0)
    changed = models.PositiveIntegerField("Số hồ sơ đã tính lại", default=0)
    failed = models.PositiveIntegerField("Số hồ sơ không tính lại được", default=0)
    # [[dossier id, code, Vietnamese reason], ...] (the first ones; `failed` counts all).
    failures = models.JSONField("Hồ sơ không tính lại được", default=list, blank=True)
    batches = models.PositiveIntegerField("Số lô đã xử lý", default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="Người yêu cầu",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("Ghi nhận lúc")
    started_at = models.DateTimeField("Bắt đầu lúc", null=True, blank=True)
    progress_at = models.DateTimeField("Cập nhật tiến độ lúc", null=True, blank=True)
    finished_at = models.DateTimeField("Kết thúc lúc", null=True, blank=True)

    FAILURES_KEPT = 200

    class Meta:
        verbose_name = "Tính lại hạn theo lịch mới"
        verbose_name_plural = "Tính lại hạn theo lịch mới"
        ordering = ["-id"]
        constraints = [
            # One unfinished job per calendar version: recording it twice (a reload, the
            # periodic catch-up racing a calendar load) finds the existing one.
            models.UniqueConstraint(
                fields=["calendar_code", "version"],
                condition=Q(status__in=["pending", "running"]),
                name="recompute_one_unfinished",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.label}"

    @property
    def label(self) -> str:
        """The calendar version as dossiers store it (`cchc.legaltime.Calendar.version`)."""
        return f"{self.calendar_code}@v{self.version}"

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED_RECOMPUTE


class IntakeKey(models.Model):
    """The idempotency key of one desk intake form (part "counter"): a double click or a
    resubmitted page finds the dossier the first submission made instead of making a second
    one. The unique key is inserted in the intake's transaction, so a concurrent duplicate
    waits for it and then fails on the constraint."""

    key = models.CharField(max_length=64, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "Khóa chống tiếp nhận trùng"
        verbose_name_plural = "Khóa chống tiếp nhận trùng"

    def __str__(self) -> str:
        return self.key


# -- issued documents (issue 21) --------------------------------------------------------------


class IssuedKind(models.TextChoices):
    """What an issued document is (the purposes of `dossiers.documents.forms`, the fee
    receipt and the result). The control slip (phiếu kiểm soát) is not issued: it grows with
    every hand-over and stays an internal, re-rendered form."""

    RECEIPT = "receipt", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"
    SUPPLEMENT = "supplement", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"
    REFUSAL = "refusal", "Phiếu từ chối tiếp nhận, giải quyết hồ sơ"
    APOLOGY = "apology", "Văn bản xin lỗi và hẹn lại ngày trả kết quả"
    STOP = "stop", "Thông báo dừng giải quyết hồ sơ"
    FEE_RECEIPT = "fee_receipt", "Biên lai thu phí, lệ phí"
    RESULT = "result", "Kết quả giải quyết thủ tục hành chính"
    CERTIFIED_COPY = "certified_copy", "Bản sao điện tử có chứng thực"


class SignState(models.TextChoices):
    """The digital signature of an issued document (`cchc.dossiers.issued`: unsigned →
    waiting → signed, or waiting → failed → waiting again)."""

    UNSIGNED = "unsigned", "Chưa ký số"
    WAITING = "waiting", "Đang chờ ký số"
    SIGNED = "signed", "Đã ký số"
    FAILED = "failed", "Ký số chưa thành công (đang chờ thử lại)"


class IssuedDocument(models.Model):
    """One document as the system issued it (bản phát hành): rendered once, in full, for the
    applicant, stored under MEDIA_ROOT by content hash (`dossiers.files`) and never changed
    afterwards — except when its digitally signed copy replaces it (`unsigned_sha256` keeps
    the hash of the bytes first issued). Its random `token` is printed as a QR code and as
    words on the document and opens the public verification page. A re-issue makes a new
    row and links the old one to it (`superseded_by`)."""

    dossier = models.ForeignKey(Dossier, on_delete=models.PROTECT, related_name="issued_documents")
    kind = models.CharField("Loại văn bản", max_length=20, choices=IssuedKind.choices)
    # What in the dossier the document is issued for: "event:<seq>", "receipt:<pk>",
    # "result:<number>". One current document per (dossier, kind, source).
    source = models.CharField(max_length=40)
    number = models.CharField("Mẫu số / mã kết quả", max_length=80, blank=True)
    filename = models.CharField(max_length=200)
    agency_name = models.CharField("Cơ quan ban hành", max_length=300, blank=True)
    token = models.CharField("Mã tra cứu", max_length=64, unique=True)
    issued_at = models.DateTimeField("Thời điểm phát hành")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    path = models.CharField(max_length=300)
    unsigned_sha256 = models.CharField(max_length=64, blank=True)
    signed = models.CharField(
        "Ký số", max_length=10, choices=SignState.choices, default=SignState.UNSIGNED
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    sign_attempts = models.PositiveSmallIntegerField(default=0)
    sign_error = models.CharField(max_length=300, blank=True)
    # Who signed and when the worker retries (issue 21 leftovers, migration 0018): the signer
    # certificate's subject ("CN, O") and serial (hex), the CCHC_SIGNING profile that signed,
    # and the time of the next attempt after a failure (null: none due — signed, or stopped).
    signed_by_subject = models.CharField("Người ký (chứng thư số)", max_length=300, blank=True)
    signer_serial = models.CharField("Số hiệu chứng thư ký", max_length=80, blank=True)
    signing_profile = models.CharField("Hồ sơ ký", max_length=120, blank=True)
    next_attempt_at = models.DateTimeField("Thử ký lại lúc", null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="supersedes"
    )

    class Meta:
        ordering = ["dossier", "id"]
        verbose_name = "Văn bản đã phát hành"
        verbose_name_plural = "Văn bản đã phát hành"
        constraints = [
            models.UniqueConstraint(
                fields=["dossier", "kind", "source"],
                condition=Q(superseded_at__isnull=True),
                name="issued_document_current",
            )
        ]
        indexes = [models.Index(fields=["signed"], name="issued_document_signed")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} – {self.dossier_id} ({self.token[:6]}…)"


# The models of digitisation, signature checks and certified copies (issue 21) and of the
# data store live in their own modules; imported here so that the app registry loads them.
from cchc.dossiers.datastore_models import (  # noqa: E402, F401
    DatastoreDelivery,
    DatastoreItem,
    DeliveryState,
)
from cchc.dossiers.digital_models import (  # noqa: E402, F401
    CertifiedCopy,
    ComponentReuse,
    DigitisedComponent,
    FileCheckState,
    FileSignature,
    SignatureVerdict,
)
