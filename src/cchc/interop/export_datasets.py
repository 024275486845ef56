"""The rows of the exported datasets: dossiers, dossier events, indicator results.

Dossier and event rows come from `values_list(...).iterator(chunk_size=…)` over the
filtered, scoped queryset, ordered by primary key (dossiers) or (dossier, seq) (events):
nothing is loaded as a whole. Names of procedures and agencies are looked up in small
dictionaries read once, instead of joining them into every row.

Personal data (NĐ 13/2023): every dossier export has the same columns, applicant's name,
identity number, address, phone and e-mail included; on each row they are as recorded when
the reader's `dossier.personal_data` grant covers the dossier (`access.PersonalData`) and
masked by the rules of `cchc.privacy` otherwise — the same values the dossier page shows
that reader. In the events, an applicant acting on their own dossier is named by the same
name rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from cchc import privacy
from cchc.catalog.models import Procedure
from cchc.dossiers import queries
from cchc.dossiers.access import PersonalData
from cchc.dossiers.models import (
    Channel,
    Dossier,
    DossierEvent,
    DossierResult,
    Outcome,
    PaymentChannel,
    Rating,
    State,
)
from cchc.dossiers.services import ACTION_LABELS
from cchc.indicators.measures import start_of
from cchc.indicators.periods import Period
from cchc.indicators.scope import agency_ids, placement
from cchc.indicators.score766 import index766
from cchc.indicators.services import plan_results
from cchc.legaltime import VN_TZ
from cchc.org.models import Agency
from cchc.tabular.export_formats import Column


def has_source_column() -> bool:
    """`Dossier.source` (the system a dossier was imported from; "" for this one) exists in
    installations that import dossiers from other systems."""
    return any(f.name == "source" for f in Dossier._meta.concrete_fields)


# -- which dossiers -------------------------------------------------------------------------------


def dossier_queryset(user: Any, filters: Any, *, now: dt.datetime) -> QuerySet[Dossier]:
    """The dossiers `user` may see (`access.visible`, through the dossier list's own
    filtering) selected by `filters` (an `exports.ExportFilters`)."""
    qs = queries.filtered(user, filters.queue, now=now)
    start, end = filters.window
    instant = "received_at" if filters.basis == "received" else "finished_at"
    if start is not None:
        qs = qs.filter(**{f"{instant}__gte": start_of(start)})
    if end is not None:
        qs = qs.filter(**{f"{instant}__lt": start_of(end + dt.timedelta(days=1))})
    scope = filters.scope
    if scope.level is not None or scope.unit_id is not None or scope.agency_id is not None:
        # The dashboard's rule: the competent agency as reported (current or historic units).
        places = placement(scope.units, today=now.astimezone(VN_TZ).date())
        ids = agency_ids(
            places, level=scope.level, unit_id=scope.unit_id, agency_id=scope.agency_id
        )
        qs = qs.filter(competent_agency_id__in=ids or [])
    if scope.procedure_id:
        qs = qs.filter(procedure_id=scope.procedure_id)
    if scope.channel:
        qs = qs.filter(channel=scope.channel)
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    return qs


# -- dossiers -------------------------------------------------------------------------------------

DOSSIER_COLUMNS = (
    Column("code", "Mã hồ sơ"),
    Column("procedure_code", "Mã thủ tục"),
    Column("procedure_name", "Tên thủ tục"),
    Column("receiving_agency", "Cơ quan tiếp nhận"),
    Column("competent_agency", "Cơ quan có thẩm quyền giải quyết"),
    Column("level", "Cấp giải quyết"),
    Column("channel_code", "Mã kênh nộp", "int"),
    Column("channel", "Kênh nộp"),
    Column("state_code", "Mã trạng thái"),
    Column("state", "Trạng thái"),
    Column("received_at", "Thời điểm tiếp nhận (giờ Việt Nam)", "instant"),
    Column("due", "Hạn giải quyết (giờ Việt Nam)", "instant"),
    Column("finished_at", "Thời điểm hoàn thành (giờ Việt Nam)", "instant"),
    Column("returned_at", "Thời điểm trả kết quả (giờ Việt Nam)", "instant"),
    Column("outcome", "Kết quả giải quyết"),
    Column("supplement_requests", "Số lần yêu cầu bổ sung", "int"),
    Column("fee_total", "Phí, lệ phí (đồng)", "int"),
    Column("paid_amount", "Đã thanh toán (đồng)", "int"),
    Column("payment_channel", "Hình thức thanh toán"),
    Column("digitised", "Đã số hóa thành phần hồ sơ", "bool"),
    Column("electronic_result", "Có kết quả điện tử", "bool"),
    Column("rating", "Đánh giá của người dân"),
)
SOURCE_COLUMN = Column("source", "Nguồn dữ liệu (trống: tạo trên hệ thống này)")
# (column, the dossier field, how it is masked for readers without the grant)
PERSONAL = (
    (Column("applicant_name", "Người nộp / tổ chức"), privacy.Field.NAME),
    (Column("applicant_id_number", "Số định danh / mã số thuế"), privacy.Field.ID_NUMBER),
    (Column("applicant_address", "Địa chỉ người nộp"), privacy.Field.ADDRESS),
    (Column("applicant_phone", "Điện thoại người nộp"), privacy.Field.PHONE),
    (Column("applicant_email", "Thư điện tử người nộp"), privacy.Field.EMAIL),
)
PERSONAL_COLUMNS = tuple(column for column, _ in PERSONAL)

DOSSIER_FIELDS = (
    "code",
    "procedure_id",
    "receiving_agency_id",
    "competent_agency_id",
    "current_agency_id",
    "channel",
    "state",
    "received_at",
    "due",
    "finished_at",
    "returned_at",
    "outcome",
    "supplement_requests",
    "fee_total",
    "paid_amount",
    "payment_channel",
    "digitised",
    "has_electronic_result",
    "rating",
    "applicant_user_id",
)


def dossier_columns() -> list[Column]:
    """The columns of the dossier export, the same for every reader."""
    columns = list(DOSSIER_COLUMNS)
    if has_source_column():
        columns.append(SOURCE_COLUMN)
    columns.extend(PERSONAL_COLUMNS)
    return columns


def _procedures() -> dict[int, tuple[str, str]]:
    rows = Procedure.objects.values_list("pk", "code", "name")
    return {pk: (code, name) for pk, code, name in rows}


def _agencies() -> dict[int, tuple[str, str]]:
    rows = Agency.objects.values_list("pk", "name", "agency_type__level__name")
    return {pk: (name, level) for pk, name, level in rows}


def dossier_rows(
    qs: QuerySet[Dossier], *, personal: PersonalData, chunk: int
) -> Iterator[tuple[Any, ...]]:
    """One tuple per dossier, in the order of `dossier_columns()`, the applicant's data
    masked where `personal` does not cover the dossier."""
    source = has_source_column()
    fields = list(DOSSIER_FIELDS)
    if source:
        fields.append("source")
    fields += [column.key for column, _ in PERSONAL]
    electronic = DossierResult.objects.filter(dossier=OuterRef("pk"), electronic=True)
    rows = (
        qs.annotate(has_electronic_result=Exists(electronic))
        .order_by("pk")
        .values_list(*fields)
        .iterator(chunk_size=chunk)
    )
    procedures, agencies = _procedures(), _agencies()
    channels, states, outcomes = dict(Channel.choices), dict(State.choices), dict(Outcome.choices)
    payments, ratings = dict(PaymentChannel.choices), dict(Rating.choices)
    none = ("", "")
    for (
        code,
        procedure_id,
        receiving_id,
        competent_id,
        current_id,
        channel,
        state,
        received_at,
        due,
        finished_at,
        returned_at,
        outcome,
        supplements,
        fee_total,
        paid,
        payment_channel,
        digitised,
        electronic_result,
        rating,
        applicant_user_id,
        *extra,
    ) in rows:
        procedure = procedures.get(procedure_id, none)
        competent = agencies.get(competent_id, none)
        row: tuple[Any, ...] = (
            code,
            procedure[0],
            procedure[1],
            agencies.get(receiving_id, none)[0],
            competent[0],
            competent[1],
            channel,
            channels.get(channel, ""),
            state,
            states.get(state, state),
            received_at,
            due,
            finished_at,
            returned_at,
            outcomes.get(outcome, outcome),
            supplements,
            fee_total,
            paid,
            payments.get(payment_channel, payment_channel),
            bool(digitised),
            bool(electronic_result),
            ratings.get(rating, rating),
        )
        if source:
            row += (extra[0],)
        full = personal.covers((receiving_id, competent_id, current_id), applicant_user_id)
        values = extra[-len(PERSONAL) :]
        row += tuple(
            privacy.shown(field, value, full=full)
            for (_, field), value in zip(PERSONAL, values, strict=True)
        )
        yield row


# -- events ---------------------------------------------------------------------------------------

EVENT_COLUMNS = (
    Column("dossier_code", "Mã hồ sơ"),
    Column("seq", "Số thứ tự", "int"),
    Column("action_code", "Mã hành động"),
    Column("action", "Hành động"),
    Column("from_state", "Từ trạng thái"),
    Column("to_state", "Sang trạng thái"),
    Column("actor", "Người thực hiện"),
    Column("at", "Thời điểm (giờ Việt Nam)", "instant"),
    Column("reason", "Lý do, ghi chú"),
)


def event_rows(
    dossiers: QuerySet[Dossier], *, personal: PersonalData, chunk: int
) -> Iterator[tuple[Any, ...]]:
    """The events of `dossiers`, by dossier id and sequence number."""
    rows = (
        DossierEvent.objects.filter(dossier__in=dossiers.order_by().values("pk"))
        .order_by("dossier_id", "seq")
        .values_list(
            "dossier__code",
            "seq",
            "action",
            "from_state",
            "to_state",
            "actor_id",
            "actor_label",
            "at",
            "reason",
            "dossier__applicant_user_id",
            "dossier__receiving_agency_id",
            "dossier__competent_agency_id",
            "dossier__current_agency_id",
        )
        .iterator(chunk_size=chunk)
    )
    states = dict(State.choices)
    for (
        code,
        seq,
        action,
        from_state,
        to_state,
        actor_id,
        actor_label,
        at,
        reason,
        applicant_user_id,
        *agencies,
    ) in rows:
        if actor_id is not None and actor_id == applicant_user_id:
            full = personal.covers(agencies, applicant_user_id)
            actor_label = privacy.shown(privacy.Field.NAME, actor_label, full=full)
        yield (
            code,
            seq,
            action,
            ACTION_LABELS.get(action, action),
            states.get(from_state, from_state),
            states.get(to_state, to_state),
            actor_label,
            at,
            reason,
        )


# -- indicator results ----------------------------------------------------------------------------

INDICATOR_COLUMNS = (
    Column("kind", "Loại"),
    Column("code", "Mã"),
    Column("name", "Chỉ tiêu, chỉ số"),
    Column("group", "Nhóm"),
    Column("unit", "Đơn vị tính"),
    Column("target_text", "Chỉ tiêu kế hoạch"),
    Column("target", "Giá trị chỉ tiêu", "float"),
    Column("value", "Giá trị", "float"),
    Column("numerator", "Tử số", "float"),
    Column("denominator", "Mẫu số", "float"),
    Column("previous", "Kỳ trước", "float"),
    Column("change", "Thay đổi so với kỳ trước", "float"),
    Column("met", "Đạt chỉ tiêu", "bool"),
    Column("projection", "Dự báo cuối năm", "float"),
    Column("points", "Điểm", "float"),
    Column("max_points", "Điểm tối đa", "float"),
    Column("threshold", "Ngưỡng đạt điểm tối đa (%)", "float"),
    Column("formula", "Công thức, diễn giải"),
    Column("note", "Ghi chú"),
    Column("period", "Kỳ báo cáo"),
    Column("definition", "Phiên bản định nghĩa"),
)
KIND_TARGET = "Chỉ tiêu kế hoạch"
KIND_TOTAL = "Tổng điểm Bộ chỉ số 766"
KIND_GROUP = "Nhóm chỉ số 766"
KIND_SUB = "Chỉ số thành phần 766"


def _number(value: Decimal | int | float | None) -> float | None:
    return None if value is None else float(value)


def _row(**values: Any) -> tuple[Any, ...]:
    """A row of `INDICATOR_COLUMNS` from the values given by key (the others empty)."""
    unknown = set(values) - {c.key for c in INDICATOR_COLUMNS}
    if unknown:
        raise KeyError(f"unknown indicator columns {sorted(unknown)}")
    return tuple(
        _number(values.get(c.key))
        if c.kind == "float"
        else values.get(c.key, "" if c.kind == "text" else None)
        for c in INDICATOR_COLUMNS
    )


def indicator_rows(
    period: Period, filters: Any, *, plan_code: str | None, now: dt.datetime
) -> list[tuple[Any, ...]]:
    """Plan targets (if `plan_code`), then the 766 total, each group and its sub-indicators.
    A few dozen rows: computed at once by the indicator engine."""
    common = {"period": period.code}
    out: list[tuple[Any, ...]] = []
    if plan_code:
        for r in plan_results(plan_code, period, filters, now=now):
            out.append(
                _row(
                    kind=KIND_TARGET,
                    code=r.code,
                    name=r.name,
                    group=r.group,
                    unit=r.unit,
                    target_text=r.target_text,
                    target=r.target,
                    value=r.value,
                    numerator=r.numerator,
                    denominator=r.denominator,
                    previous=r.previous,
                    change=r.change,
                    met=r.met,
                    projection=r.projection,
                    note=r.note,
                    definition=r.definition_version,
                    **common,
                )
            )
    idx = index766(period, filters, now=now)
    common["definition"] = idx.definition_version
    out.append(
        _row(
            kind=KIND_TOTAL,
            code="766",
            name="Bộ chỉ số 766 (QĐ 766/QĐ-TTg)",
            unit="điểm",
            value=idx.total_100,
            points=idx.total,
            max_points=idx.max_total,
            note="Giá trị: tổng điểm quy về thang 100 (chỉ tính các chỉ số có dữ liệu).",
            **common,
        )
    )
    for g in idx.groups:
        out.append(
            _row(
                kind=KIND_GROUP,
                code=g.code,
                name=g.name,
                unit="điểm",
                points=g.points,
                max_points=g.nominal_max or g.max_points,
                note=f"Điểm tối đa của các chỉ số có dữ liệu: {g.max_points}",
                **common,
            )
        )
        for s in g.subs:
            notes = ["minh họa"] if s.illustrative else []
            if s.monitored:
                notes.append("chỉ theo dõi, không tính điểm")
            if s.no_data_reason:
                notes.append(s.no_data_reason)
            out.append(
                _row(
                    kind=KIND_SUB,
                    code=s.code,
                    name=s.name,
                    group=g.code,
                    unit=s.unit,
                    value=s.rate,
                    numerator=s.numerator,
                    denominator=s.denominator,
                    points=s.points,
                    max_points=s.max_points,
                    threshold=s.threshold,
                    formula=s.formula,
                    note="; ".join(notes),
                    **common,
                )
            )
    return out
