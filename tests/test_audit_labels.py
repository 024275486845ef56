"""Every audit action code the system can write has a Vietnamese label (issue 17, item 8).

The source is read, not a list kept by hand: each `log.record(...)` / `log.entry_for(...)`
call in `src/cchc` gives either a literal code (it must have a label), an f-string (its
template, fields written `*`, must be a declared family) or a module constant (resolved and
labelled). A new code without a label fails here before it reaches an auditor's screen.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from cchc.web import audit_labels

SRC = Path(__file__).resolve().parents[1] / "src" / "cchc"
WRITERS = {"record", "entry_for"}
OWNERS = {"log", "audit"}  # `from cchc.audit import log` (or `… as audit`)


def _template(node: ast.JoinedStr) -> str:
    return "".join(part.value if isinstance(part, ast.Constant) else "*" for part in node.values)


def _codes_in_source() -> tuple[set[str], set[str], set[str]]:
    """(literal codes, f-string templates, dotted constants) passed as the first argument of
    an audit writer anywhere in `src/cchc`, plus the register actions of plans.registers."""
    literals: set[str] = set()
    templates: set[str] = set()
    constants: set[str] = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            writer = (
                isinstance(func, ast.Attribute)
                and func.attr in WRITERS
                and isinstance(func.value, ast.Name)
                and func.value.id in OWNERS
            )
            # cchc.audit.signin writes through its own `_record(CONSTANT, …)`.
            signin = module == "cchc.audit.signin" and getattr(func, "id", "") == "_record"
            if not (writer or signin):
                continue
            arg = node.args[0]
            args = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for a in args:
                if isinstance(a, ast.Constant) and isinstance(a.value, str):
                    literals.add(a.value)
                elif isinstance(a, ast.JoinedStr):
                    templates.add(_template(a))
                elif isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name):
                    constants.add(f"cchc.audit.{a.value.id}.{a.attr}")
                elif isinstance(a, ast.Name) and a.id.isupper():
                    constants.add(f"{module}.{a.id}")
                elif isinstance(a, ast.Name) and module in ("cchc.audit.log", "cchc.audit.signin"):
                    continue  # the writers' own parameter
                else:
                    pytest.fail(
                        f"{path}: an audit code that this test cannot read: {ast.unparse(a)}"
                    )
        if module == "cchc.plans.registers":
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.keyword)
                    and node.arg == "action"
                    and isinstance(node.value, ast.Constant)
                ):
                    for verb in ("created", "updated"):
                        literals.add(f"{node.value.value}.{verb}")
    return literals, templates, constants


def test_every_code_written_in_the_source_has_a_vietnamese_label():
    literals, templates, constants = _codes_in_source()
    assert len(literals) > 60 and "dossier.form.printed" in literals  # the scan works
    unlabelled = sorted(code for code in literals if not audit_labels.label(code))
    assert unlabelled == [], f"add labels to cchc.web.audit_labels.EXACT: {unlabelled}"
    undeclared = sorted(t for t in templates if t not in audit_labels.FAMILIES)
    assert undeclared == [], f"declare these families in audit_labels.FAMILIES: {undeclared}"
    for dotted in constants:
        module, _, name = dotted.rpartition(".")
        code = getattr(importlib.import_module(module), name)
        assert audit_labels.label(code), f"{dotted} = {code!r} has no label"


def test_every_code_the_vocabularies_compose_has_a_label():
    codes = list(audit_labels.known_codes())
    assert "dossier.receive" in codes and "payment.order.paid" in codes
    assert [c for c in codes if not audit_labels.label(c)] == []
    # Labels are Vietnamese sentences, never the code itself.
    assert all(audit_labels.label(c) != c for c in codes)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("dossier.refused", "Thao tác bị từ chối (hồ sơ)"),
        ("feedback.refused", "Thao tác bị từ chối (phản ánh, kiến nghị)"),
        ("dossier.refuse", "Hồ sơ: Từ chối giải quyết"),
        ("dossier.receive", "Hồ sơ: Tiếp nhận hồ sơ"),
        ("admin.accounts.user.updated", "Trang quản trị: cập nhật người dùng"),
        ("org.agency.created", "Cơ quan: thêm mới"),
        ("payment.order.expired", "Yêu cầu thanh toán: hết hạn thanh toán"),
        ("dossier.import_failed", "Nhập hồ sơ: không thực hiện được"),
        ("plans.legal_document.updated", "Sổ văn bản QPPL: cập nhật"),
        ("export.audit", "Xuất nhật ký hệ thống"),
    ],
)
def test_labels_say_what_the_code_records(code, expected):
    assert audit_labels.label(code) == expected


def test_an_unknown_code_is_shown_as_is_and_has_no_label():
    assert audit_labels.label("khong.co.ma.nay") is None
    assert audit_labels.shown("khong.co.ma.nay") == "khong.co.ma.nay"
