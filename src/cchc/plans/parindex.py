"""PAR INDEX self-assessment (QĐ 876/QĐ-BNV): the criteria tree from a data file, agencies'
self-scores with evidence, the Department of Home Affairs' appraisal adjustments, totals
per field and the grade band."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from cchc.accounts import policy
from cchc.errors import InvalidInput, NotFound
from cchc.org.models import Agency
from cchc.plans.models import SelfScore
from cchc.plans.registers import _save

CRITERIA_FILE = Path(__file__).resolve().parent / "data" / "par-index-province.toml"


@dataclass(frozen=True)
class SubCriterion:
    code: str
    name: str
    max: Decimal


@dataclass(frozen=True)
class Criterion:
    code: str
    name: str
    abbreviated: bool
    subs: tuple[SubCriterion, ...]


@dataclass(frozen=True)
class ScoreField:
    code: str
    name: str
    criteria: tuple[Criterion, ...]

    @property
    def max(self) -> Decimal:
        return sum((s.max for c in self.criteria for s in c.subs), Decimal(0))


@dataclass(frozen=True)
class Structure:
    name: str
    source: str
    abbreviated: bool
    bands: dict[str, Decimal]
    fields: tuple[ScoreField, ...]

    def sub(self, code: str) -> SubCriterion:
        for f in self.fields:
            for c in f.criteria:
                for s in c.subs:
                    if s.code == code:
                        return s
        raise NotFound(f"Không có tiêu chí thành phần '{code}'.")


@cache
def structure(path: Path = CRITERIA_FILE) -> Structure:
    """The criteria tree of the shipped (or given) file."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    fields = tuple(
        ScoreField(
            f["code"],
            f["name"],
            tuple(
                Criterion(
                    c["code"],
                    c["name"],
                    bool(c.get("abbreviated", False)),
                    tuple(
                        SubCriterion(s["code"], s["name"], Decimal(str(s["max"]))) for s in c["sub"]
                    ),
                )
                for c in f["criteria"]
            ),
        )
        for f in data["fields"]
    )
    meta = data["meta"]
    bands = {k: Decimal(str(v)) for k, v in data["bands"].items()}
    return Structure(meta["name"], meta["source"], bool(meta.get("abbreviated")), bands, fields)


def band(percent: Decimal | None, bands: dict[str, Decimal]) -> str:
    """Grade band of a percentage of the maximum: the best band whose threshold it reaches."""
    if percent is None:
        return ""
    for name, threshold in sorted(bands.items(), key=lambda kv: -kv[1]):
        if percent >= threshold:
            return name
    return "Dưới " + min(bands, key=lambda k: bands[k])


def save_self_score(
    actor: Any,
    *,
    year: int,
    agency: Agency,
    criterion: str,
    score: Decimal,
    evidence: str,
    now: dt.datetime,
):
    """An agency's self-score on a sub-criterion, with its evidence. Needs
    `plan.register` for the agency; the score must be within 0 and the maximum."""
    policy.require(actor, "plan.register", agency=agency)
    sub = structure().sub(criterion)
    if not 0 <= score <= sub.max:
        raise InvalidInput(f"Điểm tiêu chí {criterion} phải từ 0 đến {sub.max:g}.")
    if score > 0 and not evidence.strip():
        raise InvalidInput(f"Tiêu chí {criterion}: cần ghi tài liệu kiểm chứng cho điểm tự chấm.")
    return _save(
        actor,
        SelfScore,
        {"year": year, "agency": agency, "criterion": criterion},
        {"self_score": score, "evidence": " ".join(evidence.split())},
        action="plans.self_score",
        agency_id=agency.pk,
        now=now,
    )


def appraise(
    actor: Any,
    *,
    year: int,
    agency: Agency,
    criterion: str,
    score: Decimal,
    note: str,
    now: dt.datetime,
):
    """The appraisal score (điểm thẩm định) of a self-scored sub-criterion. Needs
    `plan.review`; an adjustment different from the self-score needs a reason."""
    policy.require(actor, "plan.review", agency=agency)
    sub = structure().sub(criterion)
    row = SelfScore.objects.filter(year=year, agency=agency, criterion=criterion).first()
    if row is None:
        raise NotFound(f"Cơ quan chưa tự chấm tiêu chí {criterion}.")
    if not 0 <= score <= sub.max:
        raise InvalidInput(f"Điểm tiêu chí {criterion} phải từ 0 đến {sub.max:g}.")
    if score != row.self_score and not note.strip():
        raise InvalidInput("Điểm thẩm định khác điểm tự chấm cần ghi rõ lý do.")
    return _save(
        actor,
        SelfScore,
        {"year": year, "agency": agency, "criterion": criterion},
        {"appraised_score": score, "appraisal_note": " ".join(note.split())},
        action="plans.self_score.appraisal",
        agency_id=agency.pk,
        now=now,
    )


@dataclass
class FieldTotal:
    field: ScoreField
    rows: list[dict[str, Any]] = field(default_factory=list)
    self_total: Decimal = Decimal(0)
    final_total: Decimal = Decimal(0)


def scorecard(year: int, agency: Agency) -> dict[str, Any]:
    """Totals per field (self and after appraisal), overall percentage and band."""
    tree = structure()
    scores = {s.criterion: s for s in SelfScore.objects.filter(year=year, agency=agency)}
    fields = []
    for f in tree.fields:
        total = FieldTotal(f)
        for c in f.criteria:
            for s in c.subs:
                row = scores.get(s.code)
                final = None
                if row is not None:
                    final = (
                        row.appraised_score if row.appraised_score is not None else row.self_score
                    )
                    total.self_total += row.self_score
                    total.final_total += final
                total.rows.append({"criterion": c, "sub": s, "score": row, "final": final})
        fields.append(total)
    maximum = sum((f.max for f in tree.fields), Decimal(0))
    final = sum((f.final_total for f in fields), Decimal(0))
    percent = (final * 100 / maximum).quantize(Decimal("0.1")) if maximum else None
    return {
        "structure": tree,
        "fields": fields,
        "max": maximum,
        "self_total": sum((f.self_total for f in fields), Decimal(0)),
        "final_total": final,
        "percent": percent,
        "band": band(percent, tree.bands) if scores else "",
        "scored": len(scores),
    }
