"""The legal basis the engine cites comes from the dossier's rule set (by receipt date), never
from the engine itself; every provision a rule set records says whether it was verified."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc.dossiers import rules
from cchc.legaltime import Calendar, ExtensionPolicy, ExtensionRefused, ItemKind, extend

from .helpers import at

BEFORE, FROM = dt.date(2025, 6, 30), dt.date(2025, 7, 1)


def test_the_switch_on_1_july_2025_changes_the_acts_cited() -> None:
    old, new = rules.ruleset_on(BEFORE), rules.ruleset_on(FROM)
    assert (old.code, new.code) == ("tt01-2018", "tt03-2025")
    assert "Nghị định 61/2018/NĐ-CP" in old.basis and "Nghị định 107/2021/NĐ-CP" in old.basis
    assert "Thông tư 01/2018/TT-VPCP" in old.basis
    assert "Nghị định 118/2025/NĐ-CP" in new.basis
    assert "Nghị định 367/2025/NĐ-CP" in new.basis
    assert "Thông tư 03/2025/TT-VPCP" in new.basis
    for stale in ("61/2018", "107/2021", "01/2018"):
        assert stale not in new.basis


@pytest.mark.parametrize("rule_set", list(rules.RULESETS.values()), ids=lambda r: r.code)
def test_every_rule_set_records_each_provision_with_its_status(rule_set) -> None:
    assert set(rule_set.provisions) == set(rules.TOPICS)
    for topic, provision in rule_set.provisions.items():
        assert provision.topic == topic
        assert provision.rule.strip() and provision.citation.strip()
        if provision.verified:
            # A verified provision names the article it was checked against.
            assert "Điều" in provision.citation, topic
        else:
            assert provision.note.strip(), topic
            assert provision.cited.endswith("(chưa đối chiếu điều, khoản)")


def test_provisions_cite_the_acts_of_their_own_period() -> None:
    for provision in rules.TT03_2025.provisions.values():
        assert "Nghị định 118/2025/NĐ-CP" in provision.citation
        assert "107/2021" not in provision.citation and "61/2018" not in provision.citation
    for provision in rules.TT01_2018.provisions.values():
        assert "Nghị định 61/2018/NĐ-CP" in provision.citation
        assert "118/2025" not in provision.citation
    # Nothing of NĐ 118 has been read in its text yet: none may claim to be verified.
    assert not any(p.verified for p in rules.TT03_2025.provisions.values())
    assert "15 giờ" in rules.TT03_2025.provision("transfer").rule
    with pytest.raises(KeyError, match="không ghi quy định"):
        rules.TT03_2025.provision("gia hạn")


def late_extension(cal: Calendar, policy: ExtensionPolicy | None) -> list[str]:
    result = extend(
        cal,
        current_due=at(2025, 8, 7, 17, 30),
        new_due=at(2025, 8, 12, 17, 30),
        apology_at=at(2025, 8, 7, 9),
        policy=policy,
        explain=True,
    )
    assert result.explanation is not None
    item = result.explanation.of_kind(ItemKind.EXTENSION)[0]
    return [*result.warnings, item.source or "", str(item.verified)]


def test_a_2025_dossier_cites_nd_118_in_the_engine(cal: Calendar) -> None:
    warning, source, verified = late_extension(cal, rules.TT03_2025.extension_policy())
    assert "Nghị định 118/2025/NĐ-CP" in warning and "107/2021" not in warning
    assert "Nghị định 118/2025/NĐ-CP" in source
    assert verified == "False"  # the item says its basis was not checked


def test_a_dossier_received_before_cites_nd_107(cal: Calendar) -> None:
    warning, source, _ = late_extension(cal, rules.TT01_2018.extension_policy())
    assert "Nghị định 107/2021/NĐ-CP" in warning and "118/2025" not in warning
    assert "Nghị định 61/2018/NĐ-CP" in source


def test_the_engine_names_no_act_of_its_own(cal: Calendar) -> None:
    warning, source, _ = late_extension(cal, None)
    for text in (warning, source):
        assert "Nghị định" not in text
        assert "cơ chế một cửa" in text


def test_the_extension_limit_message_cites_the_rule_set(cal: Calendar) -> None:
    with pytest.raises(ExtensionRefused) as info:
        extend(
            cal,
            current_due=at(2025, 8, 7, 17, 30),
            new_due=at(2025, 8, 12, 17, 30),
            apology_at=at(2025, 8, 4, 9),
            extensions_so_far=1,
            policy=rules.TT03_2025.extension_policy("refuse"),
        )
    assert "tối đa 1 lần theo Nghị định 118/2025/NĐ-CP" in info.value.message


def test_form_basis_names_the_circular_of_the_form() -> None:
    assert rules.TT03_2025.form_basis("apology") == (
        "Mẫu số 04 ban hành kèm theo Thông tư 03/2025/TT-VPCP"
    )
    assert rules.TT01_2018.form_basis("control") == (
        "Mẫu số 05 ban hành kèm theo Thông tư 01/2018/TT-VPCP"
    )
