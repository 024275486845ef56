"""The auditor's reading of the audit log (nhật ký hệ thống): filters, the masked rows the
page shows, and the CSV/XLSX export of the same filtered list.

One presentation serves the page and the export (`present`), so a file never shows more
than the page: citizens' personal data in an entry — the account name of a citizen (their
e-mail address or phone number), the name of a citizen's account acted upon, contact
details in the entry's data — goes through `cchc.privacy` unless the reader may see every
applicant's personal data (`dossiers.access.PersonalData`; readers of the log — auditors,
administrators — do not). Officers' names stay: who did what is the point of the log.

Queries are bounded whatever the size of the log: the page reads one page of entries plus
one query for the accounts and agencies they name; the export reads the entries in chunks
of `CHUNK` with the same two look-ups per chunk and streams them (CSV) or writes them to a
temporary file in constant memory (XLSX), then records its own audit entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cchc import privacy
from cchc.accounts.models import RoleAssignment, User
from cchc.accounts.roles import STAFF_ROLES
from cchc.audit import log
from cchc.audit.models import AuditEntry
from cchc.dossiers.access import PersonalData
from cchc.dossiers.models import Dossier
from cchc.errors import InvalidInput
from cchc.legaltime import VN_TZ
from cchc.org.models import Agency
from cchc.portal.models import CitizenProfile
from cchc.tabular.export_formats import CONTENT_TYPES, Column, csv_chunks, write_xlsx
from cchc.web.audit_labels import shown as action_label
from cchc.webkit import params

CHUNK = 2_000  # entries read (and masked) at a time by the export
MATCH_LIMIT = 50  # dossiers or people a filter may resolve to
EXPORT_FORMATS = ("csv", "xlsx")
EXPORT_ACTION = "export.audit"

# Sign-in and payment refusals and workflows' refused attempts: the «bị từ chối» group.
REFUSALS = (
    "auth.login_failed",
    "auth.lockout",
    "auth.2fa.failed",
    "payment.callback.rejected",
    "feedback.link_code_wrong",
)


def _prefixes(*prefixes: str) -> Q:
    q = Q(pk__in=[])
    for prefix in prefixes:
        q |= Q(action__startswith=prefix)
    return q


# Groups of actions the page filters by (nhóm): slug → (label, condition).
GROUPS: dict[str, tuple[str, Q]] = {
    "dang-nhap": ("Đăng nhập, bảo mật tài khoản", _prefixes("auth.")),
    "bi-tu-choi": (
        "Thao tác bị từ chối",
        Q(action__endswith=".refused") | Q(action__in=REFUSALS),
    ),
    "ho-so": ("Hồ sơ", _prefixes("dossier.", "dossiers.")),
    "pakn": ("Phản ánh, kiến nghị", _prefixes("feedback.")),
    "thanh-toan": ("Phí, lệ phí, thanh toán", _prefixes("payment.")),
    "cong-dvc": ("Cổng dịch vụ công", _prefixes("portal.")),
    "xuat-du-lieu": ("Xuất dữ liệu", _prefixes("export.")),
    "tai-khoan": ("Tài khoản, phân quyền, trang quản trị", _prefixes("accounts.", "admin.")),
    "to-chuc": ("Cơ cấu tổ chức, danh mục, lịch", _prefixes("org.", "catalog.", "calendars.")),
    "ke-hoach": ("Kế hoạch, chỉ số, báo cáo", _prefixes("plans.", "indicators.", "reports.")),
    "van-hanh": ("Thông báo, sao lưu", _prefixes("notification.", "backup.")),
}

_DAY_PATTERNS = (
    (re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"), (3, 2, 1)),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), (1, 2, 3)),
)


def parse_day(raw: str, label: str) -> dt.date:
    """A day typed as 03/06/2024 (or 3-6-2024, 03.06.2024) or 2024-06-03; ValueError with a
    Vietnamese message naming the field otherwise."""
    value = raw.strip()
    for pattern, (y, m, d) in _DAY_PATTERNS:
        found = pattern.fullmatch(value)
        if found:
            try:
                return dt.date(int(found[y]), int(found[m]), int(found[d]))
            except ValueError:
                break
    raise ValueError(
        f"{label} «{value[:40]}» không phải là ngày hợp lệ: nhập dạng dd/mm/yyyy "
        "(vd. 03/06/2024) hoặc yyyy-mm-dd."
    )


@dataclass(frozen=True)
class AuditFilters:
    """What the auditor asked for; `errors` lists the Vietnamese reasons why some of it was
    not understood (those fields are left out of the filter, never guessed)."""

    group: str = ""
    action: str = ""
    account: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    dossier: str = ""
    agency_id: int | None = None
    person: str = ""
    errors: tuple[str, ...] = ()

    # The query-string names (and their order in links and in the export's audit entry).
    NAMES = (
        "nhom",
        "hanh_dong",
        "tai_khoan",
        "tu_ngay",
        "den_ngay",
        "ma_ho_so",
        "co_quan",
        "nguoi",
    )

    @classmethod
    def from_query(cls, get: Mapping[str, Any]) -> AuditFilters:
        errors: list[str] = []

        def text(name: str, limit: int = 150) -> str:
            return str(get.get(name) or "").strip()[:limit]

        group = text("nhom")
        if group and group not in GROUPS:
            errors.append(f"Nhóm hành động «{group[:40]}» không có; đã bỏ lọc theo nhóm.")
            group = ""
        days: dict[str, dt.date | None] = {}
        for name, label in (("tu_ngay", "Từ ngày"), ("den_ngay", "Đến ngày")):
            days[name] = None
            if text(name):
                try:
                    days[name] = parse_day(text(name), label)
                except ValueError as exc:
                    errors.append(str(exc))
        start, end = days["tu_ngay"], days["den_ngay"]
        if start and end and start > end:
            errors.append(
                f"Từ ngày {start:%d/%m/%Y} sau đến ngày {end:%d/%m/%Y}: đã bỏ lọc theo khoảng ngày."
            )
            start = end = None
        agency_id = None
        if text("co_quan"):
            try:
                agency_id = params.record_id(text("co_quan"), "Cơ quan")
            except InvalidInput as exc:
                errors.append(exc.message)
        return cls(
            group=group,
            action=text("hanh_dong", 100),
            account=text("tai_khoan"),
            start=start,
            end=end,
            dossier=text("ma_ho_so", 60),
            agency_id=agency_id,
            person=text("nguoi"),
            errors=tuple(errors),
        )

    def query(self) -> dict[str, str]:
        """The filters as the page's query string (what was understood)."""
        values = {
            "nhom": self.group,
            "hanh_dong": self.action,
            "tai_khoan": self.account,
            "tu_ngay": f"{self.start:%d/%m/%Y}" if self.start else "",
            "den_ngay": f"{self.end:%d/%m/%Y}" if self.end else "",
            "ma_ho_so": self.dossier,
            "co_quan": str(self.agency_id) if self.agency_id else "",
            "nguoi": self.person,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def any(self) -> bool:
        return bool(self.query())


@dataclass
class Selection:
    """The entries the filters select, and what the page should say about the filters
    (a dossier code or a person that matched nothing)."""

    entries: QuerySet[AuditEntry]
    notes: list[str] = field(default_factory=list)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=VN_TZ)


def _dossier_q(code: str, notes: list[str]) -> Q:
    """Entries on the dossier `code` — its own events and refusals, and entries that name
    it in their data (payments, PAKN links, online submissions). A code's tail
    (``261207-0001``) is enough when it names few dossiers."""
    exact = list(Dossier.objects.filter(code__iexact=code).values_list("pk", "code")[:1])
    found = exact or list(
        Dossier.objects.filter(code__iendswith=code).values_list("pk", "code")[: MATCH_LIMIT + 1]
    )
    if not found:
        notes.append(f"Không có hồ sơ nào mã «{code}»; danh sách chỉ gồm bản ghi ghi mã này.")
        return Q(object_type="dossiers.dossier", object_repr__iexact=code) | Q(data__dossier=code)
    if len(found) > MATCH_LIMIT:
        notes.append(
            f"Mã «{code}» khớp hơn {MATCH_LIMIT} hồ sơ; chỉ lấy {MATCH_LIMIT} hồ sơ đầu — "
            "hãy nhập đầy đủ mã hồ sơ."
        )
        found = found[:MATCH_LIMIT]
    ids = [str(pk) for pk, _ in found]
    codes = [c for _, c in found]
    return Q(object_type="dossiers.dossier", object_id__in=ids) | Q(data__dossier__in=codes)


def _person_q(text: str, notes: list[str]) -> Q:
    """Entries by or about the people whose account name is `text` or whose name contains
    it: what they did, and what was done to their account (created, roles, profile)."""
    users = list(
        User.objects.filter(Q(username__iexact=text) | Q(full_name__icontains=text))
        .order_by("pk")
        .values_list("pk", flat=True)[: MATCH_LIMIT + 1]
    )
    if not users:
        notes.append(f"Không có người dùng nào có tên hoặc tài khoản «{text}».")
        return Q(pk__in=[])
    if len(users) > MATCH_LIMIT:
        notes.append(f"«{text}» khớp hơn {MATCH_LIMIT} người; hãy nhập tên đầy đủ hơn.")
        users = users[:MATCH_LIMIT]
    as_text = [str(pk) for pk in users]
    roles = RoleAssignment.objects.filter(user_id__in=users).values_list("pk", flat=True)
    profiles = CitizenProfile.objects.filter(user_id__in=users).values_list("pk", flat=True)
    return (
        Q(actor_id__in=users)
        | Q(object_type="accounts.user", object_id__in=as_text)
        | Q(object_type="accounts.roleassignment", object_id__in=[str(pk) for pk in roles])
        | Q(object_type="portal.citizenprofile", object_id__in=[str(pk) for pk in profiles])
    )


def select(filters: AuditFilters) -> Selection:
    """The entries `filters` select, newest first."""
    qs = AuditEntry.objects.all()
    notes: list[str] = []
    if filters.group:
        qs = qs.filter(GROUPS[filters.group][1])
    if filters.action:
        qs = qs.filter(action__startswith=filters.action)
    if filters.account:
        qs = qs.filter(actor_label__icontains=filters.account)
    if filters.start:
        qs = qs.filter(at__gte=_day_start(filters.start))
    if filters.end:
        qs = qs.filter(at__lt=_day_start(filters.end + dt.timedelta(days=1)))
    if filters.agency_id:
        qs = qs.filter(agency_id=filters.agency_id)
    if filters.dossier:
        qs = qs.filter(_dossier_q(filters.dossier, notes))
    if filters.person:
        qs = qs.filter(_person_q(filters.person, notes))
    return Selection(qs.order_by("-at", "-id"), notes)


# -- presentation (the page and the export) ------------------------------------------------------

_CONTACT = re.compile(r"\+?[\d\s.()*-]{8,}")
PERSON_OBJECTS = ("accounts.user", "portal.citizenprofile")
# Keys of an entry's data that hold a person's data, by the privacy field they are.
DATA_FIELDS = {
    "phone": privacy.Field.PHONE,
    "email": privacy.Field.EMAIL,
    "address": privacy.Field.ADDRESS,
    "id_number": privacy.Field.ID_NUMBER,
}
NAME_KEYS = ("full_name", "name", "applicant_name", "sender_name")
# Keys whose value may be an account name or an address messages were sent to.
CONTACT_KEYS = ("user", "username", "to", "sent_to", "contact", "recipient")


def _looks_like_contact(value: str) -> bool:
    return "@" in value or bool(_CONTACT.fullmatch(value))


def _contact(value: str, *, full: bool) -> str:
    return privacy.shown(privacy.contact_field(value), value, full=full)


@dataclass(frozen=True)
class Row:
    """One entry as a reader sees it."""

    at: dt.datetime
    account: str
    action: str
    label: str
    refused: bool
    object_type: str
    object_id: str
    object: str
    agency: str
    ip: str
    data: dict[str, Any]

    @property
    def data_text(self) -> str:
        return json.dumps(self.data, ensure_ascii=False, indent=1, sort_keys=True, default=str)


class Presenter:
    """Masks a batch of entries for one reader, with one look-up of the accounts (which are
    officers) and of the agencies the batch names."""

    def __init__(self, reader: Any) -> None:
        self.full = PersonalData.of(reader).everything

    def rows(self, entries: Sequence[AuditEntry]) -> list[Row]:
        users = {e.actor_id for e in entries if e.actor_id} | {
            int(e.object_id)
            for e in entries
            if e.object_type == "accounts.user" and e.object_id.isdigit()
        }
        officers = set(
            RoleAssignment.objects.filter(user_id__in=users, role__in=STAFF_ROLES).values_list(
                "user_id", flat=True
            )
        )
        agency_ids = {e.agency_id for e in entries if e.agency_id}
        agencies = dict(
            Agency.objects.filter(pk__in=agency_ids).values_list("pk", "name") if agency_ids else []
        )
        return [self._row(e, officers, agencies) for e in entries]

    def _row(self, e: AuditEntry, officers: set[int], agencies: dict[int, str]) -> Row:
        full = self.full
        # The account: an officer's user name stays; a citizen's (an e-mail address or a
        # phone number) and any such name typed at a failed sign-in is masked.
        account = e.actor_label
        if (e.actor_id and e.actor_id not in officers) or (
            not e.actor_id and _looks_like_contact(account)
        ):
            account = _contact(account, full=full)
        # The object: a citizen's account or profile is named by the citizen's name.
        citizen_object = e.object_type == "portal.citizenprofile" or (
            e.object_type == "accounts.user"
            and not (e.object_id.isdigit() and int(e.object_id) in officers)
        )
        obj = e.object_repr
        if citizen_object:
            obj = privacy.shown(privacy.Field.NAME, obj, full=full)
        data = dict(e.data) if isinstance(e.data, dict) else {"value": e.data}
        ip = str(data.get("ip") or "")
        return Row(
            at=e.at,
            account=account,
            action=e.action,
            label=action_label(e.action),
            refused=e.action.endswith(".refused") or e.action in REFUSALS,
            object_type=e.object_type,
            object_id=e.object_id,
            object=obj,
            agency=agencies.get(e.agency_id, "") if e.agency_id else "",
            ip=ip,
            data=_mask_data(data, full=full, citizen=citizen_object),
        )


def _mask_data(value: Any, *, full: bool, citizen: bool, key: str = "") -> Any:
    """`value` (an entry's data) with personal data masked: contact details wherever they
    are, names and account names when the entry is about a citizen's account."""
    if isinstance(value, dict):
        return {
            k: _mask_data(v, full=full, citizen=citizen, key=str(k).lower())
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_mask_data(v, full=full, citizen=citizen, key=key) for v in value]
    if not isinstance(value, str) or not value or full:
        return value
    for part, kind in DATA_FIELDS.items():
        if part in key:
            return privacy.shown(kind, value, full=full)
    if citizen and key in NAME_KEYS:
        return privacy.shown(privacy.Field.NAME, value, full=full)
    if key in CONTACT_KEYS and _looks_like_contact(value):
        # A phone number or e-mail address as an account name is a citizen's.
        return _contact(value, full=full)
    return value


# -- export ---------------------------------------------------------------------------------------

COLUMNS = [
    Column("at", "Thời điểm", "instant"),
    Column("account", "Tài khoản"),
    Column("action", "Mã hành động"),
    Column("label", "Hành động"),
    Column("refused", "Bị từ chối", "bool"),
    Column("object_type", "Loại đối tượng"),
    Column("object_id", "Mã đối tượng"),
    Column("object", "Đối tượng"),
    Column("agency", "Cơ quan"),
    Column("ip", "Địa chỉ IP"),
    Column("data", "Dữ liệu"),
]


def check_format(raw: str) -> str:
    fmt = raw.strip().lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"Định dạng «{raw[:20]}» không hỗ trợ để xuất nhật ký; dùng csv hoặc xlsx."
        )
    return fmt


@dataclass
class AuditExport:
    """The filtered list as rows for the writers; audits itself once written."""

    reader: Any
    filters: AuditFilters
    entries: QuerySet[AuditEntry]
    count: int = 0
    audited: bool = False

    def rows(self) -> Iterator[tuple[Any, ...]]:
        presenter = Presenter(self.reader)
        batch: list[AuditEntry] = []
        for entry in self.entries.iterator(chunk_size=CHUNK):
            batch.append(entry)
            if len(batch) >= CHUNK:
                yield from self._tuples(presenter, batch)
                batch = []
        yield from self._tuples(presenter, batch)

    def _tuples(self, presenter: Presenter, batch: list[AuditEntry]) -> Iterable[tuple]:
        for r in presenter.rows(batch) if batch else []:
            self.count += 1
            data = json.dumps(r.data, ensure_ascii=False, sort_keys=True, default=str)
            yield (
                r.at,
                r.account,
                r.action,
                r.label,
                r.refused,
                r.object_type,
                r.object_id,
                r.object,
                r.agency,
                r.ip,
                data,
            )

    def filename(self, fmt: str) -> str:
        return f"nhat-ky-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"

    def csv_stream(self) -> Iterator[bytes]:
        """The CSV as byte chunks (neutralised by `cchc.csvsafe` inside the writer); the
        audit entry is written when the stream ends, marked incomplete if cut short."""
        complete = False
        try:
            yield from csv_chunks(COLUMNS, self.rows())
            complete = True
        finally:
            self.audit("csv", complete=complete)

    def xlsx_file(self) -> IO[bytes]:
        """The workbook in an anonymous temporary file, rewound; audited."""
        handle = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
        try:
            write_xlsx(COLUMNS, self.rows(), handle, sheet="Nhật ký")
        except BaseException:
            handle.close()
            raise
        handle.seek(0)
        self.audit("xlsx")
        return handle

    def audit(self, fmt: str, *, complete: bool = True) -> None:
        if self.audited:
            return
        self.audited = True
        with transaction.atomic():
            log.record(
                EXPORT_ACTION,
                actor=self.reader,
                data={
                    "dataset": "audit",
                    "format": fmt,
                    "filters": self.filters.query(),
                    "rows": self.count,
                    "complete": complete,
                },
            )


def content_type(fmt: str) -> str:
    return CONTENT_TYPES[fmt]
