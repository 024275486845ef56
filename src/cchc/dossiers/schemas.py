"""Dossier API schemas: what integrations send (…Create, …Submit, …In) and what they get
back (…Out), kept apart so that the published OpenAPI states each side exactly."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from cchc.dossiers.models import ApplicantKind, ReturnChannel
from cchc.dossiers.services import TRANSITIONS
from cchc.webkit.params import MAX_ID, RecordId

# Actions a client may request through /transitions ("attach" goes through /files).
ACTIONS = tuple(sorted(a for a in TRANSITIONS if a != "attach"))
Action = Literal[ACTIONS]  # type: ignore[valid-type]
ApplicantKindIn = Literal[tuple(ApplicantKind.values)]  # type: ignore[valid-type]
ReturnChannelIn = Literal[tuple(ReturnChannel.values)]  # type: ignore[valid-type]


class StrictIn(Schema):
    """Input: unknown fields are refused (a misspelt field must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


# -- errors -----------------------------------------------------------------------------------


class ErrorBody(Schema):
    code: str = Field(description="Mã lỗi ổn định, ví dụ dossier.illegal_transition")
    message: str = Field(description="Thông báo tiếng Việt cho người dùng")
    details: dict[str, Any]


class ErrorOut(Schema):
    """The one error envelope of the API."""

    error: ErrorBody


# -- input ------------------------------------------------------------------------------------


class ApplicantIn(StrictIn):
    name: str = Field(min_length=1, max_length=200)
    kind: ApplicantKindIn = ApplicantKind.PERSON  # type: ignore[valid-type]
    id_number: str = Field("", max_length=20, description="Số định danh cá nhân / mã số thuế")
    address: str = Field("", max_length=300)
    phone: str = Field("", max_length=20)
    email: str = Field("", max_length=254)


class ComponentIn(StrictIn):
    """A document handed in: a catalogue document of the procedure (by id) or a free name."""

    document_id: RecordId | None = None
    name: str = Field("", max_length=500)
    originals: int = Field(0, ge=0, le=100)
    copies: int = Field(0, ge=0, le=100)
    digitised: bool = False
    reused: bool = False


class DossierCreate(StrictIn):
    """Desk intake (tiếp nhận trực tiếp / bưu chính): the clock starts now."""

    desk: str = Field(description="Mã bộ phận một cửa")
    procedure: str = Field(description="Mã thủ tục hành chính")
    competent_agency: str | None = Field(
        None, description="Mã định danh cơ quan có thẩm quyền (bắt buộc nếu có nhiều cơ quan)"
    )
    applicant: ApplicantIn
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)
    channel: Literal[1, 3] = Field(1, description="1 trực tiếp, 3 bưu chính công ích")
    matter: str = Field("", max_length=500)
    sets: int = Field(1, ge=1, le=100)
    return_channel: ReturnChannelIn = ReturnChannel.DESK  # type: ignore[valid-type]
    assignee: RecordId | None = Field(None, description="Chuyển ngay cho cán bộ thụ lý (id)")


class DossierSubmit(StrictIn):
    """Online submission (nộp trực tuyến): waits for the desk to receive it."""

    desk: str
    procedure: str
    competent_agency: str | None = None
    applicant: ApplicantIn
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)
    matter: str = Field("", max_length=500)
    return_channel: ReturnChannelIn = ReturnChannel.ONLINE  # type: ignore[valid-type]


class ResultIn(StrictIn):
    title: str = Field(min_length=1, max_length=300)


class TransitionData(StrictIn):
    """Data some actions need: assign (assignee), forward/propose (step, agency, assignee),
    approve (results), apologise (new_due, delivery, agency_at_fault, reference); approve and
    return_result also fee_cash / fee_exemption_reason (fees settled in the same step)."""

    assignee: RecordId | None = None
    step: int | None = Field(None, ge=0, le=MAX_ID)
    agency: RecordId | None = None
    note: str | None = Field(None, max_length=500)
    results: list[ResultIn] | None = None
    new_due: dt.datetime | None = None
    delivery: Literal["in_person", "email", "sms", "post"] | None = None
    agency_at_fault: RecordId | None = None
    reference: str | None = Field(None, max_length=60)
    # approve / return_result: fees settled in the same step (cchc.payments' guard).
    fee_cash: int | None = Field(None, ge=1, le=MAX_ID, description="Tiền mặt thu kèm (đồng)")
    fee_exemption_reason: str | None = Field(
        None, min_length=1, max_length=1000, description="Miễn, giảm số còn nợ: căn cứ, lý do"
    )


class TransitionIn(StrictIn):
    action: Action  # type: ignore[valid-type]
    reason: str = Field("", max_length=4000)
    data: TransitionData = Field(default_factory=TransitionData)
    expected_version: int = Field(
        ge=0, le=MAX_ID, description="Phiên bản hồ sơ người dùng đang xem (chống ghi đè)"
    )


# -- output -----------------------------------------------------------------------------------


class NamedOut(Schema):
    id: int
    code: str
    name: str


class ApplicantOut(Schema):
    """Personal data is masked for readers without the right to see it (NĐ 13/2023)."""

    kind: str
    name: str
    id_number: str
    address: str
    phone: str
    email: str
    masked: bool


class PersonOut(Schema):
    id: int
    name: str


class StepOut(Schema):
    index: int
    name: str
    budget: str
    due: dt.datetime | None
    current: bool
    behind_schedule: bool


class HandoffOut(Schema):
    """One row of the control slip (phiếu kiểm soát, form 05)."""

    step: int
    step_name: str
    giver: str
    receiver: str
    at: dt.datetime
    step_due: dt.datetime | None
    outcome: str


class ClocksOut(Schema):
    received_at: dt.datetime | None
    clock_start: dt.datetime | None
    original_due: dt.datetime | None
    due: dt.datetime | None
    paused_seconds: int = Field(description="Thời gian tạm dừng (giây làm việc)")
    paused_since: dt.datetime | None
    step_due: dt.datetime | None
    extensions: int
    overdue: bool
    calendar_version: str
    appointment: list[str] = Field(description="Giải thích cách tính hẹn trả kết quả")
    steps: list[StepOut]
    handoffs: list[HandoffOut]


class FileOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    event_seq: int | None
    component: int | None
    url: str


class EventOut(Schema):
    seq: int
    action: str
    label: str
    from_state: str
    to_state: str
    actor: str
    at: dt.datetime
    reason: str
    data: dict[str, Any]
    files: list[int]


class ComponentOut(Schema):
    position: int
    document_id: int | None
    name: str
    originals: int
    copies: int
    digitised: bool
    reused: bool


class FeeOut(Schema):
    name: str
    amount: int


class ResultOut(Schema):
    number: int
    code: str
    title: str
    electronic: bool
    issued_at: dt.datetime


class ActionOut(Schema):
    action: str
    label: str
    needs_reason: bool


class DossierOut(Schema):
    code: str
    version: int
    state: str
    state_label: str
    ruleset: str
    channel: int
    online_level: str
    procedure: NamedOut
    desk: NamedOut
    receiving_agency: NamedOut
    competent_agency: NamedOut
    current_agency: NamedOut
    assignee: PersonOut | None
    applicant: ApplicantOut
    matter: str
    sets: int
    return_channel: str
    submitted_at: dt.datetime
    finished_at: dt.datetime | None
    returned_at: dt.datetime | None
    outcome: str
    at_risk: bool
    risk_note: str
    supplement_requests: int
    has_apology: bool
    clocks: ClocksOut
    components: list[ComponentOut]
    fees: list[FeeOut]
    results: list[ResultOut]
    files: list[FileOut]
    events: list[EventOut]
    actions: list[ActionOut] = Field(description="Thao tác người dùng này được làm lúc này")


class DossierSummaryOut(Schema):
    code: str
    version: int
    state: str
    state_label: str
    procedure_code: str
    procedure_name: str
    applicant_name: str
    current_agency: str
    assignee: str | None
    received_at: dt.datetime | None
    due: dt.datetime | None
    step_index: int
    step_due: dt.datetime | None
    at_risk: bool
    overdue: bool


class QueuePageOut(Schema):
    items: list[DossierSummaryOut]
    next: str | None = Field(description="Con trỏ trang sau (truyền vào after=)")


class AttachOut(Schema):
    file: FileOut
    dossier: DossierOut
