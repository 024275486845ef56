"""Rule sets (bộ quy định) by effective date. Each dossier records the rule set in force
when it was received (or submitted online); forms and the code format follow it.

TT 01/2018/TT-VPCP (with NĐ 61/2018, NĐ 107/2021) applied until 30/6/2025; TT 03/2025/TT-VPCP
(with NĐ 118/2025) from 1/7/2025. TT 03/2025 re-regulates dossier coding; the project keeps
the TT 01/2018 Điều 19 format for both until the new format is verified, which is why the
format is a property of the rule set rather than code elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FormSpec:
    number: str  # the form's number in its circular ("01", "02"…)
    title: str


@dataclass(frozen=True)
class RuleSet:
    code: str
    title: str
    basis: str
    effective_from: dt.date
    effective_to: dt.date | None  # exclusive
    forms: dict[str, FormSpec] = field(default_factory=dict)
    code_format: str = "{prefix}-{day:%y%m%d}-{seq:04d}"

    def form(self, purpose: str) -> FormSpec | None:
        return self.forms.get(purpose)

    def dossier_code(self, prefix: str, day: dt.date, seq: int) -> str:
        if seq > 9999:
            raise OverflowError("more than 9999 dossiers in a day for one receiving unit")
        return self.code_format.format(prefix=prefix, day=day, seq=seq)


TT01_2018 = RuleSet(
    code="tt01-2018",
    title="Thông tư 01/2018/TT-VPCP",
    basis="Nghị định 61/2018/NĐ-CP, Nghị định 107/2021/NĐ-CP, Thông tư 01/2018/TT-VPCP",
    effective_from=dt.date(2018, 8, 21),
    effective_to=dt.date(2025, 7, 1),
    forms={
        "receipt": FormSpec("01", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
        "supplement": FormSpec("02", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
        "refusal": FormSpec("03", "Phiếu từ chối tiếp nhận giải quyết hồ sơ"),
        "apology": FormSpec("04", "Phiếu xin lỗi và hẹn lại ngày trả kết quả"),
        "control": FormSpec("05", "Phiếu kiểm soát quá trình giải quyết hồ sơ"),
        "register": FormSpec("06", "Sổ theo dõi hồ sơ"),
    },
)

TT03_2025 = RuleSet(
    code="tt03-2025",
    title="Thông tư 03/2025/TT-VPCP",
    basis="Nghị định 118/2025/NĐ-CP, Thông tư 03/2025/TT-VPCP",
    effective_from=dt.date(2025, 7, 1),
    effective_to=None,
    forms={
        "receipt": FormSpec("01", "Giấy tiếp nhận hồ sơ và hẹn trả kết quả"),
        "supplement": FormSpec("02", "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ"),
        "refusal": FormSpec("03", "Phiếu từ chối tiếp nhận, giải quyết hồ sơ"),
        "apology": FormSpec("04", "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết"),
        "stop": FormSpec("05", "Thông báo dừng giải quyết hồ sơ"),
        "control": FormSpec("06", "Phiếu kiểm soát quá trình giải quyết hồ sơ"),
        "register": FormSpec("07", "Sổ theo dõi hồ sơ"),
    },
)

RULESETS: dict[str, RuleSet] = {r.code: r for r in (TT01_2018, TT03_2025)}


def ruleset_on(day: dt.date) -> RuleSet:
    """The rule set in force on `day`."""
    for rules in RULESETS.values():
        if rules.effective_from <= day and (rules.effective_to is None or day < rules.effective_to):
            return rules
    return TT01_2018


def ruleset(code: str) -> RuleSet:
    return RULESETS[code]
