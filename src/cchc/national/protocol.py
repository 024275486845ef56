"""What one dossier event tells the national portal: the data items of `DongBoHoSoMC` (the
dossier object) and `CapNhatTienDoHoSoMC` (one processing step), built from the saved
`Dossier` and the `DossierEvent` just appended.

Field names follow the OpenCPS integration (var/dvcqg.java, `DVCQGIntegrationActionImpl`);
names marked UNVERIFIED below were not seen in that code and are kept in one place so that
they can be corrected when the portal's specification is available.

The applicant's personal data (name, phone, e-mail) goes to the national portal — it is the
state's own system and needs it — but never into logs: nothing here logs, and the delivery
logs only record ids and keys.

Dates are ``yyyyMMddHHmmss`` in Vietnam time (UTC+7), as OpenCPS sends them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from cchc.dossiers.models import (
    ApplicantKind,
    Dossier,
    DossierEvent,
    PaymentChannel,
    ReturnChannel,
    State,
)
from cchc.dossiers.services import ACTION_LABELS

VN = ZoneInfo("Asia/Ho_Chi_Minh")

SYNC_OBJECT = "DongBoHoSoMC"
SYNC_STEP = "CapNhatTienDoHoSoMC"
LOOKUP = "TraCuuHoSo"

# Our dossier state -> the portal's TrangThaiHoSo code. UNVERIFIED: OpenCPS maps through a
# configurable table (`DossierStatusMapping.statusCodeDVCQG`, getMappingStatus) and ships no
# codes; these are the codes commonly published for the national portal (1 mới đăng ký,
# 2 được tiếp nhận, 3 không được tiếp nhận, 4 đang xử lý, 5 yêu cầu bổ sung, 6 yêu cầu thực
# hiện nghĩa vụ tài chính, 7 công dân yêu cầu rút hồ sơ, 8 dừng xử lý, 9 đã xử lý xong,
# 10 đã trả kết quả). docs/national-platform.md holds the table the simulator uses.
STATUS: dict[str, str] = {
    State.SUBMITTED: "1",
    State.AWAITING_COMPLETION: "1",
    State.RECEIVED: "2",
    State.REFUSED_AT_INTAKE: "3",
    State.IN_PROGRESS: "4",
    State.AWAITING_APPROVAL: "4",
    State.AWAITING_SUPPLEMENT: "5",
    State.AWAITING_OBLIGATION: "6",
    State.WITHDRAWN: "7",
    State.STOPPED: "8",
    State.REFUSED: "8",  # UNVERIFIED: "từ chối giải quyết" has no code of its own we know of
    State.RESOLVED: "9",
    State.RETURNED: "10",
}

# Actions that change the dossier object the portal shows (status, due date, fees,
# supplements, results): a `DongBoHoSoMC` with isUpdating "True".
OBJECT_ACTIONS = frozenset(
    {
        "submit",
        "receive",
        "refuse_intake",
        "request_completion",
        "resubmit",
        "request_supplement",
        "supplement_received",
        "request_obligation",
        "obligation_met",
        "approve",
        "return_result",
        "refuse",
        "stop",
        "withdraw",
        "apologise",
        "pay",
        "refund",
    }
)
# Actions that are a processing step (a `CapNhatTienDoHoSoMC` item). Not synced: attach,
# note, citizen_upload, rate, complaint (nothing the portal shows), recompute (only its new
# due date, as an object update, when it changed).
STEP_ACTIONS = frozenset(
    {
        "receive",
        "refuse_intake",
        "assign",
        "forward",
        "request_supplement",
        "supplement_received",
        "request_obligation",
        "obligation_met",
        "propose",
        "send_back",
        "approve",
        "return_result",
        "refuse",
        "stop",
        "withdraw",
        "apologise",
    }
)

# HinhThucThu of a fee (UNVERIFIED codes): 1 cash at the desk, 2 online via the national
# portal, 3 online via the province's gateway.
PAYMENT_FORM = {
    PaymentChannel.CASH: "1",
    PaymentChannel.NATIONAL_PORTAL: "2",
    PaymentChannel.PROVINCIAL_GATEWAY: "3",
}


def stamp(moment: dt.datetime | None) -> str:
    """``yyyyMMddHHmmss`` in Vietnam time; "" for no date."""
    if moment is None:
        return ""
    return moment.astimezone(VN).strftime("%Y%m%d%H%M%S")


def parse_stamp(text: str) -> dt.datetime | None:
    """The inverse of `stamp` (None for "" or an unreadable value)."""
    try:
        return dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN)
    except (TypeError, ValueError):
        return None


def status_of(dossier: Dossier) -> str:
    return STATUS.get(dossier.state, "")


def _iso(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _label(action: str) -> str:
    """The dossier engine's own label of `action` (the words officers read)."""
    return ACTION_LABELS.get(action, action)


def dossier_object(dossier: Dossier, events: list[DossierEvent] | None = None) -> dict[str, Any]:
    """The `DongBoHoSoMC` item of `dossier` as it is now (after its latest event)."""
    if events is None:
        events = list(dossier.events.order_by("seq"))
    procedure = dossier.procedure
    fees = list(dossier.fees.all())
    results = list(dossier.results.all())
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": "",  # UNVERIFIED: our catalogue has no national field code
        "TenLinhVuc": procedure.field.name,
        "SoBienNhan": dossier.code,
        "ChuHoSo": dossier.applicant_name,
        "LoaiDoiTuong": "2" if dossier.applicant_kind == ApplicantKind.ORGANISATION else "1",
        "MaDoiTuong": "",  # the citizen's national account id: not known here
        "ThongTinLienHe": dossier.applicant_address,  # UNVERIFIED name (OpenCPS: ThongTinKhac)
        "SoDienThoai": dossier.applicant_phone,
        "Email": dossier.applicant_email,
        "Fax": "",
        "TrichYeuHoSo": dossier.matter or procedure.name,
        "NgayTiepNhan": stamp(dossier.received_at or dossier.submitted_at),
        "NgayHenTra": stamp(dossier.due),
        "TrangThaiHoSo": status_of(dossier),
        "NgayTra": stamp(dossier.returned_at),
        "ThongTinTra": "",
        # OpenCPS: 1 when the result goes by post, else 0.
        "HinhThuc": "1" if dossier.return_channel == ReturnChannel.POST else "0",
        "NgayKetThucXuLy": stamp(dossier.finished_at),
        "DonViXuLy": dossier.current_agency.name,
        "GhiChu": "",
        "DanhSachLePhi": _fees(dossier, fees),
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": _supplements(events),
        "DanhSachGiayToKetQua": [
            {"TenGiayTo": r.title, "MaThanhPhanHoSo": "", "GiayToId": r.code} for r in results
        ],
    }


def _fees(dossier: Dossier, fees: list[Any]) -> list[dict[str, Any]]:
    form = PAYMENT_FORM.get(dossier.payment_channel, "")
    return [
        {
            "TenPhiLePhi": fee.name,
            "MaPhiLePhi": str(fee.pk),  # UNVERIFIED: our fees have no national code
            "HinhThucThu": form,
            "Gia": fee.amount,
            "LoaiPhiLePhi": "1",  # UNVERIFIED code (1 = phí/lệ phí)
        }
        for fee in fees
    ]


def _supplements(events: list[DossierEvent]) -> list[dict[str, Any]]:
    """DanhSachHoSoBoSung: each supplement request (with its receipt once the applicant
    answered) and each apology with its new appointment (NgayHenTraTruoc/NgayHenTraMoi)."""
    items: list[dict[str, Any]] = []
    open_request: dict[str, Any] | None = None
    for event in events:
        if event.action == "request_supplement":
            open_request = {
                "HoSoBoSungId": f"{event.dossier_id}-{event.seq}",
                "NguoiYeuCauBoSung": event.actor_label,
                "NoiDungBoSung": event.reason,
                "NgayBoSung": stamp(event.at),
                "NguoiTiepNhanBoSung": "",
                "ThongTinTiepNhan": "",
                "NgayTiepNhanBoSung": "",
                "TrangThaiBoSung": "0",  # UNVERIFIED: 0 requested, 1 received
                "DanhSachGiayToBoSung": [],
                "DanhSachLePhiBoSung": [],
                "NgayHenTraTruoc": "",
                "NgayHenTraMoi": "",
            }
            items.append(open_request)
        elif event.action == "supplement_received" and open_request is not None:
            open_request.update(
                NguoiTiepNhanBoSung=event.actor_label,
                ThongTinTiepNhan=event.reason,
                NgayTiepNhanBoSung=stamp(event.at),
                TrangThaiBoSung="1",
            )
            open_request = None
        elif event.action == "apologise":
            items.append(
                {
                    "HoSoBoSungId": f"{event.dossier_id}-{event.seq}",
                    "NguoiYeuCauBoSung": event.actor_label,
                    "NoiDungBoSung": event.reason,
                    "NgayBoSung": stamp(event.at),
                    "NguoiTiepNhanBoSung": "",
                    "ThongTinTiepNhan": "",
                    "NgayTiepNhanBoSung": "",
                    "TrangThaiBoSung": "2",  # UNVERIFIED: 2 = apology and new appointment
                    "DanhSachGiayToBoSung": [],
                    "DanhSachLePhiBoSung": [],
                    "NgayHenTraTruoc": stamp(_iso(event.data.get("previous_due"))),
                    "NgayHenTraMoi": stamp(_iso(event.data.get("new_due"))),
                }
            )
    return items


def step(dossier: Dossier, event: DossierEvent) -> dict[str, Any]:
    """The `CapNhatTienDoHoSoMC` item of `event` (the dossier as saved after it)."""
    what = _label(event.action)
    if event.reason:
        what = f"{what}: {event.reason}"
    return {
        "MaHoSo": dossier.code,
        "NguoiXuLy": event.actor_label,
        "ChucDanh": "",  # UNVERIFIED: our accounts keep no job title
        "ThoiDiemXuLy": stamp(event.at),
        "DonViXuLy": dossier.current_agency.name,
        "PhongBanXuLy": str(event.data.get("receiver_label", "")),
        "NoiDungXuLy": what[:1000],
        "TrangThai": status_of(dossier),
        "NgayBatDau": stamp(event.at),
        "NgayKetThucTheoQuyDinh": stamp(dossier.step_due or dossier.due),
    }


def wanted(
    event: DossierEvent, before: dict[str, Any] | None, dossier: Dossier
) -> tuple[bool, bool]:
    """(object update?, step?) for `event`: which of the two services it calls for."""
    action = event.action
    obj = action in OBJECT_ACTIONS
    if action == "recompute" and before is not None:
        obj = before.get("due") != dossier.due
    return obj, action in STEP_ACTIONS
