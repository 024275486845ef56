"""Forms and apology letters cite the acts of the dossier's rule set: NĐ 118/2025 (as
amended) and TT 03/2025 for dossiers received from 1/7/2025, NĐ 61/2018, NĐ 107/2021 and
TT 01/2018 before."""

from __future__ import annotations

import html as htmllib
import re

from cchc.dossiers import services
from cchc.dossiers.access import TO_APPLICANT
from cchc.dossiers.documents import build_form
from tests.dossiers.conftest import at
from tests.dossiers.test_forms import intake_2025, walk_late_dossier, world_2025  # noqa: F401


def text(dossier, purpose) -> str:
    page = build_form(dossier, purpose, viewer=TO_APPLICANT).html
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_a_2025_dossier_cites_nd_118_and_tt_03(world, world_2025):  # noqa: F811
    d = intake_2025(world, world_2025, at("2025-08-01", "09:00"))
    assert d.ruleset == "tt03-2025"
    services.act(
        world_2025["leader"],
        d,
        "apologise",
        now=at("2025-08-04", "09:00"),
        reason="Hệ thống cơ sở dữ liệu lý lịch tư pháp gián đoạn.",
    )
    receipt = text(d, "receipt")
    assert "(Mẫu số 01 ban hành kèm theo Thông tư 03/2025/TT-VPCP)" in receipt
    assert (
        "Căn cứ: Nghị định 118/2025/NĐ-CP (được sửa đổi, bổ sung bởi Nghị định "
        "367/2025/NĐ-CP), Thông tư 03/2025/TT-VPCP." in receipt
    )
    apology = text(d, "apology")
    assert "(Mẫu số 04 ban hành kèm theo Thông tư 03/2025/TT-VPCP)" in apology
    assert (
        "Văn bản này được gửi theo Nghị định 118/2025/NĐ-CP, được sửa đổi, bổ sung bởi "
        "Nghị định 367/2025/NĐ-CP." in apology
    )
    for stale in ("61/2018", "107/2021", "01/2018"):
        assert stale not in receipt and stale not in apology


def test_a_2024_dossier_cites_nd_61_and_107(world):
    d = walk_late_dossier(world)
    assert d.ruleset == "tt01-2018"
    apology = text(d, "apology")
    assert "(Mẫu số 04 ban hành kèm theo Thông tư 01/2018/TT-VPCP)" in apology
    assert (
        "Căn cứ: Nghị định 61/2018/NĐ-CP, Nghị định 107/2021/NĐ-CP, Thông tư 01/2018/TT-VPCP."
        in apology
    )
    assert "được gửi theo Nghị định 61/2018/NĐ-CP, được sửa đổi, bổ sung bởi Nghị định " in (
        apology
    )
    assert "118/2025" not in apology and "03/2025" not in apology
    control = text(d, "control")
    assert "(Mẫu số 05 ban hành kèm theo Thông tư 01/2018/TT-VPCP)" in control
