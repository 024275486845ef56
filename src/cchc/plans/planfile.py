"""The plan file (TOML): reading and validating it into plain data, with line numbers.

The format is documented in the README (section "Plans, tasks and registers"). Every error
names the line it was found on; all errors of a file are reported together. Nothing here
touches the database: names of agencies, levels and units are resolved by the loader
(`cchc.plans.services.load_plan`), which reports its errors with the same line numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from cchc.errors import InvalidInput
from cchc.plans.status import Deadline, DeadlineError, parse_deadline

COMPARISONS = ("gte", "gt", "eq", "leading_group")
PLAN_KEYS = {"code", "title", "issuer", "number", "date", "year", "unit", "source", "note"}
AREA_KEYS = {"code", "name"}
TARGET_KEYS = {
    "code",
    "name",
    "definition",
    "reference",
    "quote",
    "area",
    "unit",
    "comparison",
    "values",
}
TASK_KEYS = {
    "code",
    "area",
    "description",
    "product",
    "lead",
    "partners",
    "partners_note",
    "deadline",
    "rhythm",
    "illustrative",
}


@dataclass(frozen=True)
class FileError:
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"Dòng {self.line}: {self.message}" if self.line else self.message


class PlanFileError(InvalidInput):
    """A plan file with errors; `errors` lists each with its line."""

    def __init__(self, errors: list[FileError], *, source: str = "") -> None:
        where = f" {source}" if source else ""
        lines = "\n".join(f"  {e}" for e in errors)
        super().__init__(
            f"Tệp kế hoạch{where} có {len(errors)} lỗi, chưa nạp gì:\n{lines}",
            code="plan.invalid_file",
            errors=[{"line": e.line, "message": e.message} for e in errors],
        )
        self.errors = errors


@dataclass(frozen=True)
class AreaSpec:
    code: str
    name: str
    line: int | None


@dataclass(frozen=True)
class TargetSpec:
    code: str
    name: str
    definition: str
    reference: str
    quote: str
    area: str
    unit: str
    comparison: str
    values: dict[str, Decimal]
    line: int | None
    values_line: int | None


@dataclass(frozen=True)
class TaskSpec:
    code: str
    area: str
    description: str
    product: str
    lead: str
    partners: tuple[str, ...]
    partners_note: str
    deadline: Deadline
    illustrative: bool
    line: int | None
    lead_line: int | None
    partners_line: int | None


@dataclass
class PlanSpec:
    code: str
    title: str
    issuer: str
    number: str
    issued_on: dt.date | None
    year: int
    unit: str
    source: str
    note: str
    unit_line: int | None
    areas: list[AreaSpec] = field(default_factory=list)
    targets: list[TargetSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)


class _Locator:
    """Finds the line of a table (`[plan]`, the n-th `[[tasks]]`) or of a key inside it."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.blocks: dict[tuple[str, int], tuple[int, list[tuple[int, str]]]] = {}
        counts: dict[str, int] = {}
        current: list[tuple[int, str]] | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                name = header[2]
                index = counts.get(name, 0)
                counts[name] = index + 1
                current = []
                self.blocks[(name, index)] = (number, current)
                continue
            key = self._KEY.match(line)
            if key and current is not None:
                current.append((number, key[1]))

    def line(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        block = self.blocks.get((table, index))
        if block is None:
            return None
        start, keys = block
        if key is not None:
            for number, name in keys:
                if name == key:
                    return number
        return start


def _syntax_line(exc: tomllib.TOMLDecodeError) -> tuple[int | None, str]:
    match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
    reason = re.sub(r"\s*\(at .*\)$", "", str(exc))
    if match:
        return int(match[1]), f"lỗi cú pháp TOML ở cột {match[2]}: {reason}"
    return None, f"lỗi cú pháp TOML: {reason}"


def read_plan_file(path: str | Path) -> PlanSpec:
    """Read and validate a plan file; raise PlanFileError listing every error with its line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Không đọc được tệp kế hoạch {path}: {exc}") from None
    return parse_plan(text, source=str(path))


def parse_plan(text: str, *, source: str = "") -> PlanSpec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanFileError([FileError(*_syntax_line(exc))], source=source) from None
    checker = _Checker(_Locator(text))
    spec = checker.plan(data)
    if checker.errors:
        raise PlanFileError(checker.errors, source=source)
    assert spec is not None
    return spec


class _Checker:
    def __init__(self, locator: _Locator) -> None:
        self.at = locator
        self.errors: list[FileError] = []

    def error(self, line: int | None, message: str) -> None:
        self.errors.append(FileError(line, message))

    def _unknown(self, table: dict, allowed: set[str], name: str, index: int = 0) -> None:
        for key in sorted(set(table) - allowed):
            self.error(
                self.at.line(name, index, key),
                f"khóa '{key}' không được hỗ trợ trong [{name}] (có: {', '.join(sorted(allowed))})",
            )

    def _text(self, table: dict, key: str, name: str, index: int = 0, required=True) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            self.error(self.at.line(name, index, key), f"'{key}' phải là chuỗi ký tự")
            return ""
        value = " ".join(value.split())
        if required and not value:
            self.error(self.at.line(name, index, key), f"thiếu '{key}' trong [{name}]")
        return value

    def _list(self, data: dict, name: str) -> list[dict]:
        items = data.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            self.error(self.at.line(name), f"'{name}' phải là các bảng [[{name}]]")
            return []
        return items

    def plan(self, data: dict[str, Any]) -> PlanSpec | None:
        for key in sorted(set(data) - {"plan", "areas", "targets", "tasks"}):
            self.error(self.at.line(key), f"bảng '{key}' không được hỗ trợ")
        head = data.get("plan")
        if not isinstance(head, dict):
            self.error(1, "thiếu bảng [plan] (mã, tên, cơ quan ban hành, số, năm, địa bàn)")
            head = {}
        self._unknown(head, PLAN_KEYS, "plan")
        year = head.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
            self.error(self.at.line("plan", 0, "year"), "'year' phải là năm, ví dụ 2024")
            year = 0
        issued = head.get("date")
        if issued is not None and (
            not isinstance(issued, dt.date) or isinstance(issued, dt.datetime)
        ):
            self.error(self.at.line("plan", 0, "date"), "'date' phải là ngày dạng 2024-01-15")
            issued = None
        code = self._text(head, "code", "plan")
        if code and not re.fullmatch(r"[a-z0-9][a-z0-9\-]*", code):
            self.error(
                self.at.line("plan", 0, "code"),
                "'code' chỉ gồm chữ thường không dấu, số và dấu gạch ngang",
            )
        spec = PlanSpec(
            code=code,
            title=self._text(head, "title", "plan"),
            issuer=self._text(head, "issuer", "plan"),
            number=self._text(head, "number", "plan"),
            issued_on=issued,
            year=year,
            unit=self._text(head, "unit", "plan"),
            source=self._text(head, "source", "plan", required=False),
            note=self._text(head, "note", "plan", required=False),
            unit_line=self.at.line("plan", 0, "unit"),
        )
        spec.areas = self._areas(self._list(data, "areas"))
        area_codes = {a.code for a in spec.areas}
        spec.targets = self._targets(self._list(data, "targets"), area_codes)
        spec.tasks = self._tasks(self._list(data, "tasks"), area_codes, year)
        return spec

    def _areas(self, items: list[dict]) -> list[AreaSpec]:
        if not items:
            self.error(None, "kế hoạch cần ít nhất một nội dung [[areas]]")
        out: list[AreaSpec] = []
        seen: dict[str, int | None] = {}
        for i, item in enumerate(items):
            self._unknown(item, AREA_KEYS, "areas", i)
            code = self._text(item, "code", "areas", i)
            line = self.at.line("areas", i, "code")
            if code in seen:
                self.error(line, f"mã nội dung '{code}' trùng với dòng {seen[code]}")
            seen[code] = line
            out.append(AreaSpec(code, self._text(item, "name", "areas", i), line))
        return out

    def _targets(self, items: list[dict], areas: set[str]) -> list[TargetSpec]:
        out: list[TargetSpec] = []
        seen: dict[str, int | None] = {}
        for i, item in enumerate(items):
            self._unknown(item, TARGET_KEYS, "targets", i)
            code = self._text(item, "code", "targets", i)
            line = self.at.line("targets", i, "code")
            if code in seen:
                self.error(line, f"mã chỉ tiêu '{code}' trùng với dòng {seen[code]}")
            seen[code] = line
            area = self._text(item, "area", "targets", i, required=False)
            if area and area not in areas:
                self.error(self.at.line("targets", i, "area"), f"không có nội dung mã '{area}'")
            comparison = item.get("comparison", "gte")
            if comparison not in COMPARISONS:
                self.error(
                    self.at.line("targets", i, "comparison"),
                    f"'comparison' = '{comparison}' không hợp lệ, cần {', '.join(COMPARISONS)}",
                )
            unit = self._text(item, "unit", "targets", i, required=False) or "%"
            values = self._values(item.get("values", {}), i, unit, comparison)
            out.append(
                TargetSpec(
                    code=code,
                    name=self._text(item, "name", "targets", i),
                    definition=self._text(item, "definition", "targets", i, required=False),
                    reference=self._text(item, "reference", "targets", i, required=False),
                    quote=self._text(item, "quote", "targets", i, required=False),
                    area=area,
                    unit=unit,
                    comparison=comparison,
                    values=values,
                    line=line,
                    values_line=self.at.line("targets", i, "values"),
                )
            )
        return out

    def _values(self, raw: Any, i: int, unit: str, comparison: str) -> dict[str, Decimal]:
        line = self.at.line("targets", i, "values")
        if not isinstance(raw, dict):
            self.error(line, "'values' phải là bảng cấp = giá trị, ví dụ { province = 95 }")
            return {}
        if not raw and comparison != "leading_group":
            self.error(line, "chỉ tiêu cần giá trị 'values' (ví dụ { all = 100 })")
        out = {}
        for level, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.error(line, f"giá trị của cấp '{level}' phải là số, không phải '{value}'")
                continue
            number = Decimal(str(value))
            if unit == "%" and not 0 <= number <= 100:
                self.error(line, f"giá trị {number}% của cấp '{level}' phải từ 0 đến 100")
                continue
            out[level] = number
        return out

    def _tasks(self, items: list[dict], areas: set[str], year: int) -> list[TaskSpec]:
        out: list[TaskSpec] = []
        seen: dict[str, int | None] = {}
        for i, item in enumerate(items):
            self._unknown(item, TASK_KEYS, "tasks", i)
            code = self._text(item, "code", "tasks", i)
            line = self.at.line("tasks", i, "code")
            if code in seen:
                self.error(line, f"mã nhiệm vụ '{code}' trùng với dòng {seen[code]}")
            seen[code] = line
            area = self._text(item, "area", "tasks", i)
            if area and area not in areas:
                self.error(self.at.line("tasks", i, "area"), f"không có nội dung mã '{area}'")
            partners = item.get("partners", [])
            if not isinstance(partners, list) or not all(isinstance(p, str) for p in partners):
                self.error(self.at.line("tasks", i, "partners"), "'partners' phải là danh sách tên")
                partners = []
            illustrative = item.get("illustrative", False)
            if not isinstance(illustrative, bool):
                self.error(self.at.line("tasks", i, "illustrative"), "'illustrative' là true/false")
                illustrative = False
            deadline = self._deadline(item, i, year)
            if deadline is None:
                continue
            out.append(
                TaskSpec(
                    code=code,
                    area=area,
                    description=self._text(item, "description", "tasks", i),
                    product=self._text(item, "product", "tasks", i, required=False),
                    lead=self._text(item, "lead", "tasks", i),
                    partners=tuple(" ".join(p.split()) for p in partners),
                    partners_note=self._text(item, "partners_note", "tasks", i, required=False),
                    deadline=deadline,
                    illustrative=illustrative,
                    line=line,
                    lead_line=self.at.line("tasks", i, "lead"),
                    partners_line=self.at.line("tasks", i, "partners"),
                )
            )
        return out

    def _deadline(self, item: dict, i: int, year: int) -> Deadline | None:
        raw = item.get("deadline")
        line = self.at.line("tasks", i, "deadline")
        if raw is None or raw == "":
            self.error(line, "thiếu 'deadline' (thời gian hoàn thành)")
            return None
        rhythm = item.get("rhythm", "")
        if not isinstance(rhythm, str):
            self.error(self.at.line("tasks", i, "rhythm"), "'rhythm' phải là chuỗi ký tự")
            return None
        if not year:
            return None
        try:
            return parse_deadline(raw, year=year, rhythm=rhythm)
        except DeadlineError as exc:
            self.error(line, str(exc))
            return None
