"""Vietnamese names of the audit log's action codes (nhật ký hệ thống), for the auditor.

Codes are written by services as ``namespace.object.verb`` (`cchc.audit.log.record`). The
auditor reads Vietnamese, so every code the system writes has a label here: the fixed ones
in `EXACT`, the families a service composes at run time (``dossier.<action>``,
``admin.<model>.<verb>``, ``org.<model>.created`` …) in `FAMILIES`, whose labels come from
the vocabulary that makes the code (the engines' own action labels, the models' verbose
names, the status choices). `tests/test_audit_labels.py` reads every ``record(...)`` call
in the source and fails when a code or a family has no label here, so a new code cannot
reach the log unnamed.

A refused attempt is named as such: ``dossier.refused`` records an action the engine
refused (the only trace it leaves), not a dossier that was refused (``dossier.refuse``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from cchc.dossiers import services as dossier_services
from cchc.dossiers.models import RecomputeStatus
from cchc.feedback import services as feedback_services
from cchc.interop.models import RunState
from cchc.payments.models import OrderStatus

# Codes written as literals (or module constants) by the services.
EXACT: dict[str, str] = {
    # sign-in and account security (cchc.audit.signin, accounts.twofactor, accounts.tokens)
    "auth.login": "Đăng nhập",
    "auth.login_failed": "Đăng nhập không thành công (sai tài khoản hoặc mật khẩu)",
    "auth.lockout": "Tạm khóa đăng nhập do nhập sai nhiều lần",
    "auth.logout": "Đăng xuất",
    "auth.token.created": "Tạo khóa truy cập API",
    "auth.token.revoked": "Thu hồi khóa truy cập API",
    "auth.2fa.enrolled": "Đăng ký xác thực hai bước",
    "auth.2fa.verified": "Xác thực hai bước thành công",
    "auth.2fa.failed": "Xác thực hai bước không thành công",
    "auth.2fa.recovery_used": "Dùng mã khôi phục xác thực hai bước",
    "auth.2fa.recovery_regenerated": "Tạo lại mã khôi phục xác thực hai bước",
    "auth.2fa.removed": "Gỡ xác thực hai bước",
    "auth.2fa.reset": "Đặt lại xác thực hai bước (quản trị)",
    # accounts
    "accounts.user.created": "Tạo tài khoản người dùng",
    "accounts.role.granted": "Giao vai trò cho người dùng",
    "accounts.role.revoked": "Thu hồi vai trò của người dùng",
    # organisation, calendars, catalogue
    "org.agency.updated": "Cập nhật cơ quan",
    "org.desk.agencies_changed": "Thay đổi cơ quan do bộ phận một cửa tiếp nhận",
    "calendars.version.created": "Nạp phiên bản lịch làm việc mới",
    # dossiers: records beside the workflow's own events (`dossier.<action>` below)
    "dossier.refused": "Thao tác bị từ chối (hồ sơ)",
    "dossier.submit": "Hồ sơ: Nộp hồ sơ",
    "dossier.import": "Hồ sơ: Nhập từ hệ thống khác",
    "dossier.import_update": "Hồ sơ: Cập nhật từ tệp nhập",
    "dossier.import_queued": "Nhập hồ sơ: đưa tệp vào hàng đợi",
    "dossier.import_started": "Nhập hồ sơ: bắt đầu",
    "dossier.import_finished": "Nhập hồ sơ: hoàn tất",
    "dossier.form.printed": "In biểu mẫu hồ sơ",
    "dossier.register.downloaded": "Tải sổ theo dõi hồ sơ",
    "dossier.risk_scan": "Rà soát hồ sơ có nguy cơ trễ hạn",
    "dossier.digest": "Gửi bản tin hằng ngày về hồ sơ sắp đến hạn, quá hạn chưa xin lỗi",
    "dossier.projection_repaired": "Sửa dữ liệu tổng hợp của hồ sơ theo lịch sử xử lý",
    "dossiers.recompute_job.recorded": "Tính lại thời hạn hồ sơ: ghi nhận việc cần làm",
    # feedback (PAKN) beside its workflow's events
    "feedback.refused": "Thao tác bị từ chối (phản ánh, kiến nghị)",
    "feedback.late": "Phản ánh, kiến nghị quá hạn trả lời",
    "feedback.link_code_sent": "Gửi mã xác nhận liên kết phản ánh với hồ sơ",
    "feedback.link_code_wrong": "Nhập sai mã xác nhận liên kết hồ sơ (bị từ chối)",
    # payments
    "payment.order.created": "Tạo yêu cầu thanh toán trực tuyến",
    "payment.order.superseded": "Yêu cầu thanh toán được thay bằng yêu cầu mới",
    "payment.callback.rejected": "Thông báo thanh toán bị từ chối (sai chữ ký hoặc dữ liệu)",
    "payment.cash": "Thu phí, lệ phí bằng tiền mặt",
    "payment.exemption": "Miễn, giảm phí, lệ phí",
    "payment.receipt.issued": "Lập biên lai thu phí, lệ phí",
    "payment.receipt.printed": "In biên lai thu phí, lệ phí",
    "payment.refund.requested": "Yêu cầu hoàn trả phí, lệ phí",
    "payment.refund.done": "Hoàn trả phí, lệ phí thành công",
    "payment.refund.failed": "Hoàn trả phí, lệ phí không thành công",
    # citizen portal
    "portal.citizen.registered": "Công dân đăng ký tài khoản",
    "portal.citizen.identity_linked": "Liên kết tài khoản định danh điện tử",
    "portal.citizen.sso_login": "Đăng nhập bằng tài khoản định danh điện tử (VNeID)",
    "portal.citizen.profile_updated": "Công dân cập nhật thông tin cá nhân",
    "portal.password_reset.requested": "Yêu cầu đặt lại mật khẩu",
    "portal.password_reset.done": "Đặt lại mật khẩu",
    "portal.draft.created": "Tạo hồ sơ nháp trực tuyến",
    "portal.draft.saved": "Lưu hồ sơ nháp trực tuyến",
    "portal.draft.discarded": "Xóa hồ sơ nháp trực tuyến",
    "portal.draft.submitted": "Nộp hồ sơ trực tuyến",
    "portal.result.downloaded": "Người nộp tải kết quả điện tử",
    # notifications
    "notification.resend": "Gửi lại thông báo",
    "notification.dead": "Thông báo gửi không thành công (đã hết số lần thử)",
    "notification.reclaimed": "Lấy lại thông báo đang gửi dở",
    # plans, indicators, reports
    "plans.report.submitted": "Nộp báo cáo tiến độ nhiệm vụ",
    "plans.report.accepted": "Chấp nhận báo cáo tiến độ nhiệm vụ",
    "plans.report.returned": "Trả lại báo cáo tiến độ nhiệm vụ",
    "plans.plan.created": "Nạp kế hoạch CCHC",
    "plans.plan.updated": "Cập nhật kế hoạch CCHC",
    "indicators.definition.loaded": "Nạp định nghĩa chỉ tiêu, chỉ số",
    "indicators.ranking.snapshot": "Chụp bảng xếp hạng theo tuần (Bộ chỉ số 766)",
    "catalog.procedure.version_added": "Thêm phiên bản thủ tục hành chính (có ngày hiệu lực)",
    "catalog.procedure.version_applied": "Áp dụng phiên bản thủ tục hành chính đến ngày hiệu lực",
    "reports.periodic.requested": "Yêu cầu lập báo cáo định kỳ",
    "reports.periodic.generated": "Lập báo cáo định kỳ",
    "reports.periodic.failed": "Lập báo cáo định kỳ không thành công",
    "reports.periodic.file_pruned": "Xóa tệp báo cáo định kỳ đã hết hạn lưu",
    # operations
    "backup.created": "Sao lưu dữ liệu",
    "backup.restored": "Khôi phục dữ liệu từ bản sao lưu",
    # issued documents (cchc.dossiers.issued) and their signatures
    "dossier.document.issued": "Phát hành văn bản của hồ sơ (bản có mã tra cứu)",
    "dossier.document.reissued": "Phát hành lại văn bản của hồ sơ (thay bản trước)",
    "dossier.document.sign_requested": "Yêu cầu ký số văn bản đã phát hành",
    "dossier.document.sign_failed": "Ký số văn bản đã phát hành không thành công",
    "dossier.document.signed": "Đã ký số văn bản đã phát hành",
    "dossier.file.signature_checked": "Kiểm tra chữ ký số của tệp PDF trong hồ sơ",
    "dossier.file.signature_rechecked": "Kiểm tra lại chữ ký số tệp PDF theo danh sách tin cậy mới",
    "dossier.components_digitised": "Ghi nhận thành phần hồ sơ đã số hóa khi tiếp nhận",
    "dossier.component_reused": "Tái sử dụng thành phần hồ sơ đã số hóa của người nộp",
    "dossier.document.sign_retry": "Hẹn thử lại (hoặc dừng) ký số văn bản đã phát hành",
    "dossier.document.signer": "Ghi nhận người ký số văn bản đã phát hành",
    "dossier.datastore.queued": "Chờ gửi kết quả điện tử vào kho dữ liệu của người nộp",
    "dossier.datastore.sent": "Đã gửi kết quả điện tử vào kho dữ liệu của người nộp",
    "dossier.datastore.failed": "Gửi kết quả điện tử vào kho dữ liệu không thành công",
    "dossier.datastore.reclaimed": "Lấy lại lượt gửi vào kho dữ liệu bị gián đoạn",
    "dossier.datastore.retry": "Gửi vào kho dữ liệu chưa được, hẹn thử lại",
    "dossier.datastore.resend": "Gửi lại vào kho dữ liệu (theo yêu cầu)",
    "dossier.certified_copy.issued": "Cấp bản sao điện tử có chứng thực",
    "dossier.certified_copy.downloaded": "Tải bản sao điện tử có chứng thực",
    "portal.datastore.downloaded": "Người dân tải văn bản trong kho dữ liệu của mình",
    # the national portal (cchc.national)
    "national.sync.dead": "Bản ghi đồng bộ lên Cổng DVCQG không gửi được (chờ quản trị viên)",
    "national.sync.discard": "Bỏ qua bản ghi đồng bộ lên Cổng DVCQG không gửi được",
    "national.sync.reclaimed": "Lấy lại bản ghi đồng bộ của tiến trình đã dừng để gửi lại",
    "national.sync.reconcile": "Đối soát trạng thái hồ sơ với Cổng DVCQG và gửi lại khác biệt",
    "national.sync.resend": "Gửi lại bản ghi đồng bộ lên Cổng DVCQG",
    "national.inbound.created": "Tạo hồ sơ từ hồ sơ nộp trên Cổng DVCQG",
    "national.inbound.refused": "Không tạo được hồ sơ nộp trên Cổng DVCQG",
    "national.inbound.retried": "Thử lại hồ sơ nộp trên Cổng DVCQG không tạo được",
    "national.catalogue.fetched": "Lấy danh mục TTHC từ CSDL quốc gia (chờ xem xét)",
    "national.catalogue.applied": "Áp dụng thay đổi danh mục TTHC từ CSDL quốc gia",
    "national.catalogue.rejected": "Từ chối thay đổi danh mục TTHC từ CSDL quốc gia",
    "catalog.procedure.publication": "Cập nhật thông tin công bố thủ tục (CSDL quốc gia về TTHC)",
}

VERBS = {"created": "thêm mới", "updated": "cập nhật", "deleted": "xóa"}

# Registers written through `plans.registers._save(action=…)`: ``<action>.<created|updated>``.
PLAN_REGISTERS = {
    "plans.legal_document": "Sổ văn bản QPPL",
    "plans.work_records": "Sổ hồ sơ công việc",
    "plans.external_index": "Chỉ số đánh giá bên ngoài (PCI, PAPI, PAR INDEX)",
}
EXPORT_DATASETS = {
    "dossiers": "Xuất dữ liệu hồ sơ",
    "events": "Xuất lịch sử xử lý hồ sơ",
    "indicators": "Xuất kết quả chỉ tiêu, chỉ số",
    "audit": "Xuất nhật ký hệ thống",  # cchc.web.audit_log
}
CATALOG_OBJECTS = {"procedure": "Thủ tục hành chính", "internal_procedure": "Thủ tục nội bộ"}


def _model_noun(label_lower: str) -> str | None:
    """The verbose name of the model ``app.model`` (Vietnamese), None if unknown."""
    try:
        model = apps.get_model(label_lower)
    except (LookupError, ValueError, ImproperlyConfigured):
        return None
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]


def _after(prefix: str, code: str) -> str:
    return code.removeprefix(prefix)


def _verb_of(noun: str | None, code: str) -> str | None:
    verb = code.rpartition(".")[2]
    return f"{noun}: {VERBS[verb]}" if noun and verb in VERBS else None


def _dossier_action(code: str) -> str | None:
    name = dossier_services.ACTION_LABELS.get(_after("dossier.", code))
    return f"Hồ sơ: {name}" if name else None


def _feedback_action(code: str) -> str | None:
    name = feedback_services.ACTION_LABELS.get(_after("feedback.", code))
    return f"Phản ánh, kiến nghị: {name}" if name else None


def _admin(code: str) -> str | None:
    model, _, verb = _after("admin.", code).rpartition(".")
    noun = _model_noun(model)
    return f"Trang quản trị: {VERBS[verb]} {noun.lower()}" if noun and verb in VERBS else None


def _org(code: str) -> str | None:
    return _verb_of(_model_noun(code.rpartition(".")[0]), code)


def _catalog(code: str) -> str | None:
    return _verb_of(CATALOG_OBJECTS.get(_after("catalog.", code).rpartition(".")[0]), code)


def _plan_register(code: str) -> str | None:
    return _verb_of(PLAN_REGISTERS.get(code.rpartition(".")[0]), code)


def _choice(prefix: str, choices: type, value: str) -> str | None:
    labels = dict(choices.choices)  # type: ignore[attr-defined]
    return f"{prefix}: {str(labels[value]).lower()}" if value in labels else None


# Codes a service composes at run time: the template of its f-string (each formatted field
# written `*`) → the label of a code of that shape, tried in this order after `EXACT`. The
# test checks that every f-string code in `src/` has its template here.
FAMILIES: dict[str, Callable[[str], str | None]] = {
    "admin.*.*": _admin,
    "org.*.created": _org,
    "org.*.updated": _org,
    "catalog.procedure.*": _catalog,
    "catalog.internal_procedure.*": _catalog,
    "indicators.published.*": lambda code: _verb_of("Số liệu Bộ chỉ số 766 đã công bố", code),
    "plans.report.*": EXACT.get,
    "plans.plan.*": EXACT.get,
    "payment.order.*": lambda code: _choice(
        "Yêu cầu thanh toán", OrderStatus, _after("payment.order.", code)
    ),
    "dossier.import_*": lambda code: _choice(
        "Nhập hồ sơ", RunState, _after("dossier.import_", code)
    ),
    "dossiers.recompute_job.*": lambda code: _choice(
        "Tính lại thời hạn hồ sơ", RecomputeStatus, _after("dossiers.recompute_job.", code)
    ),
    "export.*": lambda code: EXPORT_DATASETS.get(_after("export.", code)),
    # cchc.eventlog.workflow: f"{namespace}.{event.action}" and f"{namespace}.refused"
    "*.refused": EXACT.get,
    "dossier.*": _dossier_action,
    "feedback.*": _feedback_action,
    # cchc.plans.registers: f"{action}.{outcome}"
    "*.*": _plan_register,
}
_PATTERNS = [
    (re.compile("".join(".+" if c == "*" else re.escape(c) for c in template)), make)
    for template, make in FAMILIES.items()
]


def label(code: str) -> str | None:
    """The Vietnamese label of the action `code`, None when the code has none."""
    found = EXACT.get(code)
    if found:
        return found
    for pattern, make in _PATTERNS:
        if pattern.fullmatch(code) and (found := make(code)):
            return found
    return None


def shown(code: str) -> str:
    """`label(code)`, or the code itself when it has none (an entry written by an older
    version is still listed)."""
    return label(code) or code


def known_codes() -> Iterator[str]:
    """Every code the vocabularies can compose (the test's list; the filter's choices)."""
    yield from EXACT
    yield from (f"dossier.{a}" for a in dossier_services.ACTION_LABELS)
    yield from (f"feedback.{a}" for a in feedback_services.ACTION_LABELS)
    yield from (f"payment.order.{s}" for s in OrderStatus.values)
    yield from (f"dossier.import_{s}" for s in RunState.values)
    yield from (f"dossiers.recompute_job.{s}" for s in RecomputeStatus.values)
    yield from (f"export.{d}" for d in EXPORT_DATASETS)
    for verb in ("created", "updated"):
        yield from (f"{r}.{verb}" for r in PLAN_REGISTERS)
        yield from (f"catalog.{k}.{verb}" for k in CATALOG_OBJECTS)
        yield f"indicators.published.{verb}"
        yield from (
            f"org.{m._meta.model_name}.{verb}" for m in apps.get_app_config("org").get_models()
        )


def choices() -> list[tuple[str, str]]:
    """(code, label) of every known code, by label: the action filter's suggestions."""
    seen = {code: shown(code) for code in known_codes()}
    return sorted(seen.items(), key=lambda item: item[1])
