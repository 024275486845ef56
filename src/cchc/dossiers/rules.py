"""Rule sets (bộ quy định) by effective date. Each dossier records the rule set in force
when it was received (or submitted online); forms, the code format and the legal basis cited
in explanations, forms and apology letters follow it.

TT 01/2018/TT-VPCP (with NĐ 61/2018, NĐ 107/2021) applied until 30/6/2025; TT 03/2025/TT-VPCP
(with NĐ 118/2025, as amended by NĐ 367/2025) from 1/7/2025. TT 03/2025 re-regulates dossier
coding; the project keeps the TT 01/2018 Điều 19 format for both until the new format is
verified, which is why the format is a property of the rule set rather than code elsewhere.

Each rule set carries the provisions the engine applies (`Provision`: extension, apology,
supplement, the 15:00 transfer) with their citation and whether that citation has been
checked against the text of the act (`verified`, `note`). Nothing here is marked verified
that has not been read in the act itself; see docs/legal-sources.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cchc import legaltime


@dataclass(frozen=True)
class FormSpec:
    number: str  # the form's number in its circular ("01", "02"…)
    title: str


# The provisions a rule set records (Provision.topic).
TOPICS = ("extension", "apology", "supplement", "transfer")


@dataclass(frozen=True)
class Provision:
    """One rule the engine or a form applies, with its legal citation.

    `citation` names the act (and the article/clause when known); `verified` is true only
    when the rule and the article/clause were checked against the act's text, and `note`
    says what was checked, where, or what is still open.
    """

    topic: str
    rule: str  # Vietnamese: the rule as cchc applies it
    citation: str
    verified: bool = False
    note: str = ""

    @property
    def cited(self) -> str:
        """The citation as printed: with "(chưa đối chiếu điều, khoản)" when unverified."""
        if self.verified:
            return self.citation
        return f"{self.citation} (chưa đối chiếu điều, khoản)"


@dataclass(frozen=True)
class RuleSet:
    code: str
    title: str
    basis: str
    effective_from: dt.date
    effective_to: dt.date | None  # exclusive
    forms: dict[str, FormSpec] = field(default_factory=dict)
    code_format: str = "{prefix}-{day:%y%m%d}-{seq:04d}"
    provisions: dict[str, Provision] = field(default_factory=dict)

    def form(self, purpose: str) -> FormSpec | None:
        return self.forms.get(purpose)

    def provision(self, topic: str) -> Provision:
        """The rule set's provision on `topic` (one of `TOPICS`)."""
        try:
            return self.provisions[topic]
        except KeyError:
            raise KeyError(f"{self.title} không ghi quy định về «{topic}».") from None

    def form_basis(self, purpose: str) -> str:
        """`Mẫu số 04 ban hành kèm theo Thông tư …` for a form of this rule set."""
        spec = self.forms[purpose]
        return f"Mẫu số {spec.number} ban hành kèm theo {self.title}"

    def extension_policy(self, late_apology: str = "warn") -> legaltime.ExtensionPolicy:
        """The engine's re-appointment policy under this rule set: its limits and the
        citations the engine's messages and explanation print (`legaltime.extend`)."""
        extension = self.provision("extension")
        return legaltime.ExtensionPolicy(
            late_apology=legaltime.LateApology(late_apology),
            legal_basis=extension.citation,
            legal_basis_verified=extension.verified,
        )

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
    provisions={
        "extension": Provision(
            "extension",
            "Hồ sơ quá hạn được hẹn lại ngày trả kết quả không quá một lần; văn bản xin lỗi "
            "gửi chậm nhất 01 ngày làm việc trước hạn giải quyết.",
            "Nghị định 61/2018/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định 107/2021/NĐ-CP",
            note="Số lần và thời điểm báo trước theo cách cchc áp dụng từ trước; chưa đối "
            "chiếu điều, khoản với văn bản gốc (công cụ tra cứu không có toàn văn).",
        ),
        "apology": Provision(
            "apology",
            "Cơ quan làm quá hạn gửi văn bản xin lỗi, ghi rõ lý do và ngày hẹn trả lại, theo "
            "mẫu 04 «Phiếu xin lỗi và hẹn lại ngày trả kết quả».",
            "Nghị định 61/2018/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định 107/2021/NĐ-CP; "
            "mẫu 04 Thông tư 01/2018/TT-VPCP",
            note="Tên mẫu 04 khớp Thông tư 01/2018/TT-VPCP; điều, khoản của Nghị định chưa "
            "đối chiếu với văn bản gốc.",
        ),
        "supplement": Provision(
            "supplement",
            "Hồ sơ chưa đầy đủ, chưa chính xác: hướng dẫn bổ sung, hoàn thiện bằng mẫu 02 "
            "«Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ»; thời gian bổ sung không tính vào "
            "thời hạn giải quyết.",
            "Nghị định 61/2018/NĐ-CP; mẫu 02 Thông tư 01/2018/TT-VPCP",
            note="Chưa đối chiếu điều, khoản với văn bản gốc.",
        ),
        "transfer": Provision(
            "transfer",
            "Hồ sơ tiếp nhận trực tiếp được chuyển cho cơ quan giải quyết trong ngày; tiếp "
            "nhận sau 15 giờ thì chuyển vào đầu giờ ngày làm việc tiếp theo.",
            "Nghị định 61/2018/NĐ-CP",
            note="Mốc 15 giờ theo cách cchc áp dụng từ trước; chưa đối chiếu điều, khoản "
            "với văn bản gốc.",
        ),
    },
)

TT03_2025 = RuleSet(
    code="tt03-2025",
    title="Thông tư 03/2025/TT-VPCP",
    basis=(
        "Nghị định 118/2025/NĐ-CP (được sửa đổi, bổ sung bởi Nghị định 367/2025/NĐ-CP), "
        "Thông tư 03/2025/TT-VPCP"
    ),
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
    provisions={
        "extension": Provision(
            "extension",
            "Hồ sơ quá hạn: cơ quan giải quyết gửi văn bản xin lỗi và đề nghị gia hạn thời "
            "gian giải quyết; cchc cho gia hạn một lần và cảnh báo khi văn bản gửi muộn hơn "
            "01 ngày làm việc trước hạn, như quy định trước 01/7/2025.",
            "Nghị định 118/2025/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định 367/2025/NĐ-CP",
            note="Chưa đối chiếu với toàn văn Nghị định 118/2025/NĐ-CP (công cụ tra cứu không "
            "có toàn văn): số lần gia hạn và thời điểm gửi văn bản là giả định giữ từ quy định "
            "cũ, cần kiểm tra.",
        ),
        "apology": Provision(
            "apology",
            "Văn bản xin lỗi theo mẫu 04 «Văn bản xin lỗi và đề nghị gia hạn thời gian giải "
            "quyết», ghi rõ lý do và thời hạn đề nghị gia hạn.",
            "Nghị định 118/2025/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định 367/2025/NĐ-CP; "
            "mẫu 04 Thông tư 03/2025/TT-VPCP",
            note="Tên mẫu 04 (và các mẫu 01–07) khớp Phụ lục Thông tư 03/2025/TT-VPCP theo "
            "nguồn thứ cấp; điều, khoản của Nghị định chưa đối chiếu.",
        ),
        "supplement": Provision(
            "supplement",
            "Hồ sơ chưa đầy đủ, chưa chính xác: yêu cầu bổ sung, hoàn thiện bằng mẫu 02 "
            "«Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ»; thời gian bổ sung không tính vào "
            "thời hạn giải quyết.",
            "Nghị định 118/2025/NĐ-CP; mẫu 02 Thông tư 03/2025/TT-VPCP",
            note="Chưa đối chiếu điều, khoản với toàn văn Nghị định 118/2025/NĐ-CP.",
        ),
        "transfer": Provision(
            "transfer",
            "Hồ sơ tiếp nhận trực tiếp được chuyển trong ngày; tiếp nhận sau 15 giờ thì "
            "chuyển vào ngày làm việc tiếp theo.",
            "Nghị định 118/2025/NĐ-CP",
            note="Chưa xác minh Nghị định 118/2025/NĐ-CP còn giữ mốc 15 giờ; một phương án "
            "thủ tục công khai năm 2025 (chứng thực, Hà Nội) vẫn dùng mốc 15 giờ cho từng thủ "
            "tục, không phải cho cả cơ chế một cửa.",
        ),
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
