"""Indicator definitions as data: the Plan 213 targets and the 766 index (TOML files in
`data/`), validated with precise Vietnamese errors, versioned in the database.

Which definitions are used: the latest version loaded with `cchc indicators load` whose
`effective_from` is on or before the period's end; when none is loaded, the shipped file
(so a fresh database works without a load step; loading the shipped file records it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction

from cchc.accounts import policy
from cchc.audit import log
from cchc.errors import InvalidInput, NotFound
from cchc.indicators import memo
from cchc.indicators.models import DefinitionSet

DATA = Path(__file__).parent / "data"
SHIPPED = {"plan": DATA / "plan-213-2024.toml", "index766": DATA / "index766.toml"}

# Measures each source offers (numerator/denominator terms).
SOURCES: dict[str, frozenset[str]] = {
    "dossiers": frozenset(
        {
            "received",
            "online",
            "online_paper_return",
            "full_online",
            "fee_bearing",
            "paid",
            "paid_online",
            "digitised",
            "reused",
            "finished",
            "early",
            "on_time",
            "overdue",
            "overdue_apology",
            "overdue_766",
            "returned",
            "electronic_result",
            "datastore",
            "certified_copy",
            "certification_returned",
            "rated",
            "dissatisfied",
            "with_complaint",
            "unsatisfactory",
            "processing_seconds",
            # derived
            "processing_hours",
            "online_service_received",
            "online_counted",
            "finished_on_time_766",
            "in_progress",
            "in_progress_on_time",
        }
    ),
    "tasks": frozenset({"due", "done_on_time"}),
    "registers": frozenset(
        {
            "legal_documents",
            "legal_documents_proper",
            "internal_procedures",
            "internal_procedures_done",
            "work_records",
            "work_records_online",
        }
    ),
    "external": frozenset({"indices_leading", "indices_entered"}),
    "catalog": frozenset(
        {
            "procedures",
            "procedures_published",
            "procedures_complete",
            "procedures_online",
            "online_services_used",
            "fee_procedures",
            "fee_procedures_paid_online",
            "procedures_population",
        }
    ),
    "feedback": frozenset(
        {"feedback_handled", "feedback_on_time", "feedback_rated", "feedback_not_dissatisfied"}
    ),
    # 766 1d: the outbox toward the national portal (cchc.national), see measures._national.
    "national": frozenset({"to_sync", "synced_on_time"}),
    "none": frozenset(),
}
# Vietnamese names of the measures (formulas shown to users).
MEASURE_LABELS: dict[str, str] = {
    "received": "hồ sơ tiếp nhận",
    "online": "hồ sơ nộp trực tuyến",
    "online_paper_return": "hồ sơ trực tuyến nhận kết quả giấy",
    "full_online": "hồ sơ trực tuyến toàn trình",
    "fee_bearing": "hồ sơ có phí, lệ phí",
    "paid": "hồ sơ có phí đã thanh toán",
    "paid_online": "hồ sơ thanh toán trực tuyến",
    "digitised": "hồ sơ đã số hóa",
    "reused": "hồ sơ tái sử dụng dữ liệu số hóa",
    "finished": "hồ sơ đã giải quyết",
    "early": "hồ sơ trước hạn",
    "on_time": "hồ sơ đúng hạn",
    "overdue": "hồ sơ quá hạn",
    "overdue_apology": "hồ sơ quá hạn có xin lỗi",
    "overdue_766": "hồ sơ quá hạn theo 766",
    "returned": "hồ sơ đã trả kết quả",
    "electronic_result": "hồ sơ có kết quả điện tử",
    "datastore": "hồ sơ có kết quả đã vào kho dữ liệu của công dân, tổ chức",
    "certified_copy": "hồ sơ đã trả có bản sao điện tử có chứng thực",
    "certification_returned": "hồ sơ đã trả của TTHC chứng thực bản sao điện tử",
    "rated": "hồ sơ được đánh giá",
    "dissatisfied": "hồ sơ bị đánh giá không hài lòng",
    "with_complaint": "hồ sơ có phản ánh, kiến nghị",
    "unsatisfactory": "hồ sơ không hài lòng, có PAKN hoặc quá hạn",
    "processing_seconds": "tổng thời gian giải quyết (giây)",
    "processing_hours": "tổng thời gian giải quyết (giờ)",
    "online_service_received": "hồ sơ của TTHC có DVC trực tuyến",
    "online_counted": "hồ sơ trực tuyến được tính",
    "finished_on_time_766": "hồ sơ đã giải quyết đúng hạn theo 766",
    "in_progress": "hồ sơ đang giải quyết",
    "in_progress_on_time": "hồ sơ đang giải quyết trong hạn",
    "due": "nhiệm vụ đến hạn",
    "done_on_time": "nhiệm vụ hoàn thành đúng hạn",
    "legal_documents": "văn bản QPPL ban hành",
    "legal_documents_proper": "văn bản ban hành đúng quy trình",
    "internal_procedures": "TTHC nội bộ",
    "internal_procedures_done": "TTHC nội bộ đã công bố và rà soát",
    "work_records": "hồ sơ công việc",
    "work_records_online": "hồ sơ công việc xử lý trên môi trường mạng",
    "indices_leading": "chỉ số thuộc nhóm dẫn đầu",
    "indices_entered": "chỉ số đã nhập",
    "procedures": "TTHC đang áp dụng",
    "procedures_published": "TTHC có quyết định công bố",
    "procedures_complete": "TTHC đủ 7 bộ phận",
    "procedures_online": "TTHC có DVC trực tuyến",
    "online_services_used": "DVC trực tuyến phát sinh hồ sơ",
    "fee_procedures": "TTHC có phí, lệ phí",
    "fee_procedures_paid_online": "TTHC có phí phát sinh thanh toán trực tuyến",
    "procedures_population": "TTHC kết nối CSDL dân cư",
    "feedback_handled": "PAKN đã xử lý",
    "feedback_on_time": "PAKN xử lý đúng hạn",
    "feedback_rated": "PAKN được đánh giá",
    "feedback_not_dissatisfied": "PAKN được đánh giá hài lòng hoặc bình thường",
    "to_sync": "hồ sơ tiếp nhận trong kỳ phải đồng bộ lên Cổng DVC quốc gia",
    "synced_on_time": "hồ sơ được đồng bộ đầy đủ, kịp thời lên Cổng DVC quốc gia",
}
COMPARISONS = {"gte": "≥", "gt": ">", "eq": "=", "leading_group": "thuộc nhóm dẫn đầu"}
DIMENSIONS = {"agency", "level", "unit", "procedure", "channel"}
LEVEL_WORDS = {"all": "", "province": "cấp tỉnh", "district": "cấp huyện", "commune": "cấp xã"}


@dataclass(frozen=True)
class Expr:
    """A sum of measures with signs, e.g. ``early + on_time`` or ``finished - unsatisfactory``."""

    text: str
    terms: tuple[tuple[int, str], ...]

    @property
    def names(self) -> list[str]:
        return [name for _, name in self.terms]


def parse_expr(text: str, source: str, where: str) -> Expr:
    raw = str(text).strip()
    tokens = re.findall(r"[+-]|[a-z_0-9]+|\S", raw)
    if not tokens:
        raise ValueError(f"{where}: biểu thức trống")
    terms: list[tuple[int, str]] = []
    sign = 1
    expect_name = True
    for tok in tokens:
        if expect_name:
            if tok in "+-" and not terms and tok == "-":
                sign = -1
                continue
            if not re.fullmatch(r"[a-z_0-9]+", tok):
                raise ValueError(f"{where}: '{raw}' không hợp lệ tại '{tok}'")
            if tok not in SOURCES[source]:
                known = ", ".join(sorted(SOURCES[source])) or "(không có)"
                raise ValueError(
                    f"{where}: đại lượng '{tok}' không có trong nguồn '{source}' (có: {known})"
                )
            terms.append((sign, tok))
            expect_name = False
        else:
            if tok not in "+-":
                raise ValueError(f"{where}: '{raw}' thiếu dấu + hoặc - trước '{tok}'")
            sign = 1 if tok == "+" else -1
            expect_name = True
    if expect_name:
        raise ValueError(f"{where}: '{raw}' kết thúc bằng dấu")
    return Expr(raw, tuple(terms))


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    group: str
    source: str
    numerator: Expr | None
    denominator: Expr | None
    comparison: str = "gte"
    target: dict[str, Decimal] = field(default_factory=dict)
    unit: str = "%"
    by_level: bool = False
    dimensions: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def target_for(self, level: str | None) -> Decimal | None:
        if level and level in self.target:
            return self.target[level]
        return self.target.get("all")

    @property
    def target_text(self) -> str:
        if self.comparison == "leading_group":
            return "Thuộc nhóm dẫn đầu cả nước"
        sign = COMPARISONS[self.comparison]
        parts = []
        order = list(LEVEL_WORDS)
        for key in sorted(self.target, key=lambda k: order.index(k) if k in order else 9):
            where = LEVEL_WORDS.get(key, key)
            parts.append(f"{where + ' ' if where else ''}{sign} {self.target[key]:g}{self.unit}")
        return "; ".join(parts)


@dataclass(frozen=True)
class Sub:
    code: str
    group: str
    name: str
    max_points: Decimal
    evidence: str
    source: str
    numerator: Expr | None
    denominator: Expr | None
    threshold: Decimal | None = None
    unit: str = "%"
    monitored: bool = False
    illustrative: bool = False
    no_data_reason: str = ""
    note: str = ""


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    max_points: Decimal


@dataclass(frozen=True)
class PortalColumn:
    """One column of the national portal's published 766 table: a whole group (`group`)
    or some sub-indicators of a group (`subs`: the portal splits group 4 in two)."""

    code: str
    name: str
    max_points: Decimal
    group: str = ""
    subs: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DefinitionFile:
    kind: str
    code: str
    name: str
    version: str
    effective_from: dt.date
    aliases: tuple[str, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    groups: tuple[Group, ...] = ()
    subs: tuple[Sub, ...] = ()
    no_data: str = "excluded"
    portal: tuple[PortalColumn, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


def _dec(value: Any, where: str, errors: list[str]) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        errors.append(f"{where}: cần một số, gặp {value!r}")
        return None
    try:
        return Decimal(str(value))
    except Exception:
        errors.append(f"{where}: '{value}' không phải là số")
        return None


def _expr(item: dict[str, Any], key: str, source: str, where: str, errors: list[str]):
    if source == "none":
        return None
    if key not in item:
        errors.append(f"{where}: thiếu '{key}'")
        return None
    try:
        return parse_expr(item[key], source, f"{where}, {key}")
    except ValueError as exc:
        errors.append(str(exc))
        return None


def validate(raw: dict[str, Any]) -> DefinitionFile:
    """Check a parsed definition file; InvalidInput lists every problem at once."""
    errors: list[str] = []
    head = raw.get("definition")
    if not isinstance(head, dict):
        raise InvalidInput("Tệp định nghĩa thiếu bảng [definition].", code="indicators.file")
    for key in ("kind", "code", "name", "version", "effective_from"):
        if key not in head:
            errors.append(f"[definition]: thiếu '{key}'")
    kind = head.get("kind")
    if kind not in ("plan", "index766"):
        errors.append(f"[definition]: kind '{kind}' không hợp lệ (plan hoặc index766)")
    effective = head.get("effective_from")
    if "effective_from" in head and not isinstance(effective, dt.date):
        errors.append("[definition]: effective_from phải là ngày (2024-01-01)")
    indicators: list[Indicator] = []
    groups: list[Group] = []
    subs: list[Sub] = []
    if kind == "plan":
        seen: set[str] = set()
        items = raw.get("indicators") or []
        if not items:
            errors.append("Tệp kế hoạch cần ít nhất một [[indicators]]")
        for n, item in enumerate(items, start=1):
            code = str(item.get("code", ""))
            where = f"[[indicators]] thứ {n} ({code or 'không mã'})"
            if not code:
                errors.append(f"{where}: thiếu 'code'")
            elif code in seen:
                errors.append(f"{where}: mã {code} bị trùng")
            seen.add(code)
            if not item.get("name"):
                errors.append(f"{where}: thiếu 'name'")
            source = item.get("source")
            if source not in SOURCES:
                errors.append(
                    f"{where}: source '{source}' không hợp lệ ({', '.join(sorted(SOURCES))})"
                )
                continue
            comparison = item.get("comparison", "gte")
            if comparison not in COMPARISONS:
                errors.append(
                    f"{where}: comparison '{comparison}' không hợp lệ (gte, gt, eq, leading_group)"
                )
            target: dict[str, Decimal] = {}
            raw_target = item.get("target", {})
            if not isinstance(raw_target, dict):
                errors.append(f"{where}: target cần dạng {{ all = 90 }} hoặc theo cấp")
                raw_target = {}
            for level, value in raw_target.items():
                if level not in LEVEL_WORDS:
                    errors.append(f"{where}: cấp '{level}' trong target không hợp lệ")
                number = _dec(value, f"{where}, target.{level}", errors)
                if number is not None:
                    target[level] = number
            if comparison != "leading_group" and not target:
                errors.append(f"{where}: thiếu target")
            dims = tuple(item.get("dimensions", ()))
            for d in dims:
                if d not in DIMENSIONS:
                    errors.append(f"{where}: chiều phân tổ '{d}' không hợp lệ")
            known = {
                "code",
                "name",
                "group",
                "source",
                "numerator",
                "denominator",
                "comparison",
                "target",
                "unit",
                "by_level",
                "dimensions",
            }
            indicators.append(
                Indicator(
                    code=code,
                    name=str(item.get("name", "")),
                    group=str(item.get("group", "")),
                    source=source,
                    numerator=_expr(item, "numerator", source, where, errors),
                    denominator=_expr(item, "denominator", source, where, errors),
                    comparison=comparison,
                    target=target,
                    unit=str(item.get("unit", "%")),
                    by_level=bool(item.get("by_level", False)),
                    dimensions=dims,
                    params={k: v for k, v in item.items() if k not in known},
                )
            )
    elif kind == "index766":
        group_codes: dict[str, Group] = {}
        for n, item in enumerate(raw.get("groups") or [], start=1):
            where = f"[[groups]] thứ {n}"
            code = str(item.get("code", ""))
            points = _dec(item.get("max_points"), f"{where}, max_points", errors)
            if not code or points is None:
                errors.append(f"{where}: cần 'code' và 'max_points'")
                continue
            if code in group_codes:
                errors.append(f"{where}: nhóm {code} bị trùng")
            group_codes[code] = Group(code, str(item.get("name", "")), points)
        groups = list(group_codes.values())
        if len(groups) != 5:
            errors.append(f"Bộ chỉ số 766 cần đúng 5 nhóm, tệp có {len(groups)}")
        total = sum((g.max_points for g in groups), Decimal(0))
        if groups and total != 100:
            errors.append(f"Tổng điểm tối đa các nhóm phải là 100, tệp có {total:g}")
        seen_subs: set[str] = set()
        for n, item in enumerate(raw.get("subs") or [], start=1):
            code = str(item.get("code", ""))
            where = f"[[subs]] thứ {n} ({code or 'không mã'})"
            if not code or code in seen_subs:
                errors.append(f"{where}: thiếu mã hoặc mã bị trùng")
            seen_subs.add(code)
            group = str(item.get("group", ""))
            if group not in group_codes:
                errors.append(f"{where}: nhóm '{group}' không có trong [[groups]]")
            evidence = item.get("evidence")
            if evidence not in ("V", "S"):
                errors.append(f"{where}: evidence phải là 'V' (đã kiểm chứng) hoặc 'S' (tham khảo)")
            source = item.get("source")
            if source not in SOURCES:
                errors.append(f"{where}: source '{source}' không hợp lệ")
                continue
            if source == "none" and not item.get("no_data_reason"):
                errors.append(f"{where}: nguồn 'none' cần 'no_data_reason'")
            points = _dec(item.get("max_points"), f"{where}, max_points", errors)
            threshold = _dec(item.get("threshold"), f"{where}, threshold", errors)
            if threshold is not None and not 0 < threshold <= 100:
                errors.append(f"{where}: threshold phải trong (0, 100]")
            subs.append(
                Sub(
                    code=code,
                    group=group,
                    name=str(item.get("name", "")),
                    max_points=points if points is not None else Decimal(0),
                    evidence=str(evidence),
                    source=source,
                    numerator=_expr(item, "numerator", source, where, errors),
                    denominator=_expr(item, "denominator", source, where, errors),
                    threshold=threshold,
                    unit=str(item.get("unit", "%")),
                    monitored=bool(item.get("monitored", False)),
                    illustrative=bool(item.get("illustrative", False)),
                    no_data_reason=str(item.get("no_data_reason", "")),
                    note=str(item.get("note", "")),
                )
            )
        for g in groups:
            got = sum((s.max_points for s in subs if s.group == g.code), Decimal(0))
            if got != g.max_points:
                errors.append(
                    f"Nhóm {g.code}: tổng điểm các chỉ số thành phần là {got:g}, "
                    f"khác điểm tối đa của nhóm {g.max_points:g}"
                )
        portal = _portal_columns(raw.get("portal_columns") or [], group_codes, subs, errors)
    if errors:
        raise InvalidInput(
            "Tệp định nghĩa chỉ tiêu có lỗi: " + "; ".join(errors) + ".",
            code="indicators.definition",
            errors=errors,
        )
    return DefinitionFile(
        kind=str(kind),
        code=str(head["code"]),
        name=str(head["name"]),
        version=str(head["version"]),
        effective_from=effective,
        aliases=tuple(str(a) for a in head.get("aliases", ())),
        indicators=tuple(indicators),
        groups=tuple(groups),
        subs=tuple(subs),
        no_data=str(head.get("no_data", "excluded")),
        portal=tuple(portal) if kind == "index766" else (),
        raw=raw,
    )


def _portal_columns(
    items: list[dict[str, Any]], groups: dict[str, Group], subs: list[Sub], errors: list[str]
) -> list[PortalColumn]:
    """The national portal's columns (optional): each a whole group or sub-indicators of
    one group, every group covered exactly once, points matching, 100 in all."""
    if not items:
        return []
    points = {s.code: s for s in subs}
    out: list[PortalColumn] = []
    covered: dict[str, str] = {}  # sub code -> column code
    seen: set[str] = set()
    for n, item in enumerate(items, start=1):
        code = str(item.get("code", ""))
        where = f"[[portal_columns]] thứ {n} ({code or 'không mã'})"
        if not code or code in seen or code in points:
            errors.append(f"{where}: thiếu mã, mã bị trùng hoặc trùng mã chỉ số thành phần")
        seen.add(code)
        most = _dec(item.get("max_points"), f"{where}, max_points", errors)
        group = str(item.get("group", ""))
        names = tuple(str(s) for s in item.get("subs", ()))
        if bool(group) == bool(names):
            errors.append(f"{where}: cần đúng một trong 'group' hoặc 'subs'")
            continue
        if group:
            if group not in groups:
                errors.append(f"{where}: nhóm '{group}' không có trong [[groups]]")
                continue
            members = [s.code for s in subs if s.group == group]
        else:
            unknown = [s for s in names if s not in points]
            if unknown:
                errors.append(f"{where}: không có chỉ số thành phần {', '.join(unknown)}")
                continue
            members = list(names)
        for s in members:
            if s in covered:
                errors.append(f"{where}: chỉ số {s} đã thuộc cột {covered[s]}")
            covered[s] = code
        got = sum((points[s].max_points for s in members), Decimal(0))
        if most is not None and got != most:
            errors.append(f"{where}: tổng điểm các chỉ số là {got:g}, khác max_points {most:g}")
        out.append(
            PortalColumn(
                code=code,
                name=str(item.get("name", "")),
                max_points=most if most is not None else Decimal(0),
                group=group,
                subs=names,
                headers=tuple(str(h) for h in item.get("headers", ())),
            )
        )
    missing = [s.code for s in subs if s.code not in covered]
    if missing:
        errors.append(f"[[portal_columns]]: các chỉ số {', '.join(missing)} không thuộc cột nào")
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _restore(raw: dict[str, Any]) -> dict[str, Any]:
    head = dict(raw["definition"])
    head["effective_from"] = dt.date.fromisoformat(head["effective_from"])
    return {**raw, "definition": head}


def read_file(path: str | Path) -> tuple[DefinitionFile, bytes]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotFound(
            f"Không đọc được tệp {path}: {exc.strerror}.", code="indicators.file"
        ) from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"Tệp {path.name} không đúng định dạng TOML: {exc}.", code="indicators.file"
        ) from None
    return validate(raw), data


_SHIPPED_CACHE: dict[str, DefinitionFile] = {}


def shipped(kind: str) -> DefinitionFile:
    if kind not in _SHIPPED_CACHE:
        _SHIPPED_CACHE[kind] = read_file(SHIPPED[kind])[0]
    return _SHIPPED_CACHE[kind]


def load(
    actor: Any, path: str | Path | None = None, *, now: dt.datetime, kind: str = "plan"
) -> tuple[DefinitionFile, str]:
    """Store a definition file as a new version (audited). Returns it and 'created' or
    'unchanged' (the same code and version with the same content)."""
    policy.require(actor, "indicator.manage")
    definition, data = read_file(path or SHIPPED[kind])
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        existing = DefinitionSet.objects.filter(
            code=definition.code, version=definition.version
        ).first()
        if existing is not None:
            if existing.sha256 == digest:
                return definition, "unchanged"
            raise InvalidInput(
                f"Phiên bản {definition.version} của bộ định nghĩa {definition.code} đã được nạp "
                "với nội dung khác; đổi 'version' để nạp phiên bản mới.",
                code="indicators.version_exists",
            )
        row = DefinitionSet.objects.create(
            kind=definition.kind,
            code=definition.code,
            version=definition.version,
            effective_from=definition.effective_from,
            content=_jsonable(definition.raw),
            source=str(Path(path).name if path else SHIPPED[kind].name),
            sha256=digest,
            loaded_at=now,
        )
        log.record(
            "indicators.definition.loaded",
            actor=actor,
            obj=row,
            data={"code": row.code, "version": row.version, "sha256": digest, "source": row.source},
            at=now,
        )
    return definition, "created"


def current(kind: str, code: str | None = None, *, on: dt.date | None = None) -> DefinitionFile:
    """The definitions in force on `on` (latest loaded version, else the shipped file).
    For plans, `code` may be the plan code or an alias. Remembered within a page
    (`memo.reading`): a dashboard asks for the same definitions for every context."""
    return memo.remember(("definitions", kind, code, on), lambda: _current(kind, code, on=on))


def _loaded(kind: str) -> list[tuple[dt.date, DefinitionFile]]:
    """Every loaded version of `kind`, newest first (remembered within a page)."""
    return memo.remember(
        ("definitions", kind),
        lambda: [
            (r.effective_from, validate(_restore(r.content)))
            for r in DefinitionSet.objects.filter(kind=kind).order_by(
                "-effective_from", "-loaded_at"
            )
        ],
    )


def _current(kind: str, code: str | None = None, *, on: dt.date | None = None) -> DefinitionFile:
    candidates = [d for since, d in _loaded(kind) if on is None or since <= on]
    candidates.append(shipped(kind))
    if code is None:
        return candidates[0]
    for d in candidates:
        if code == d.code or code in d.aliases:
            return d
    raise NotFound(f"Không có bộ chỉ tiêu của kế hoạch '{code}'.", code="indicators.plan")
