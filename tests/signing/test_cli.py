"""`cchc pdf verify|sign`: exit codes (0 valid and trusted, 1 invalid/untrusted/unsigned,
2 unreadable input; sign: 75 when signing is unavailable now) and --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cchc.signing import sign_pdf, verify_pdf
from cchc.signing.management.commands.pdf import Command
from tests.signing.pki import Pki


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        Command().run_from_argv(["cchc", "pdf", *args])
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def signed_file(configured: dict[str, Any], pdf: bytes, tmp_path: Path) -> Path:
    path = tmp_path / "ket-qua.pdf"
    path.write_bytes(sign_pdf(pdf, profile="desk"))
    return path


def test_verify_valid(capsys: Any, signed_file: Path) -> None:
    code, out, _ = run(capsys, "verify", str(signed_file))
    assert code == 0
    assert "HỢP LỆ" in out and "Bộ phận Một cửa Thử Nghiệm" in out
    assert "(giờ Việt Nam) theo dấu thời gian" in out
    assert "Dấu thời gian tài liệu (LTA): 1" in out


def test_verify_json(capsys: Any, signed_file: Path) -> None:
    code, out, _ = run(capsys, "verify", str(signed_file), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["verdict"] == "valid" and report["verdict_text"] == "hợp lệ"
    (sig,) = report["signatures"]
    assert sig["signer"]["name"] == "Bộ phận Một cửa Thử Nghiệm"
    assert sig["time_source"] == "timestamp" and sig["intact"] and sig["trusted"]


def test_verify_untrusted_with_other_roots(capsys: Any, signed_file: Path, pki: Pki) -> None:
    other = str(pki.files["other-root.pem"])
    code, out, _ = run(capsys, "verify", str(signed_file), "--json", "--roots", other)
    assert code == 1
    assert json.loads(out)["verdict_text"] == "không tin cậy"
    # The right root given on the command line instead of the settings.
    code, _, _ = run(capsys, "verify", str(signed_file), "--roots", str(pki.files["root.pem"]))
    assert code == 0


def test_verify_tampered_and_unsigned(
    capsys: Any, signed_file: Path, pdf: bytes, tmp_path: Path
) -> None:
    data = signed_file.read_bytes()
    at = data.index(b"Phieu")
    tampered = tmp_path / "sua.pdf"
    tampered.write_bytes(data[:at] + b"Q" + data[at + 1 :])
    code, out, _ = run(capsys, "verify", str(tampered))
    assert code == 1 and "KHÔNG HỢP LỆ" in out and "thay đổi sau khi ký" in out
    unsigned = tmp_path / "chua-ky.pdf"
    unsigned.write_bytes(pdf)
    code, out, _ = run(capsys, "verify", str(unsigned), "--json")
    assert code == 1 and json.loads(out)["verdict_text"] == "không có chữ ký"


def test_verify_unreadable(capsys: Any, configured: dict[str, Any], tmp_path: Path) -> None:
    junk = tmp_path / "rac.pdf"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not a pdf")
    code, out, err = run(capsys, "verify", str(junk))
    assert code == 2 and "không phải là tệp PDF" in err and "Traceback" not in err + out
    code, _, err = run(capsys, "verify", str(tmp_path / "khong-co.pdf"))
    assert code == 2 and "không đọc được tệp" in err
    code, _, err = run(capsys, "verify", str(junk), "--roots", str(junk))
    assert code == 2 and "chứng thư" in err


def test_sign_command(capsys: Any, configured: dict[str, Any], pdf: bytes, tmp_path: Path) -> None:
    source, target = tmp_path / "phieu.pdf", tmp_path / "phieu-da-ky.pdf"
    source.write_bytes(pdf)
    code, out, _ = run(capsys, "sign", str(source), "--profile", "desk", "-o", str(target))
    assert code == 0 and "Đã ký" in out
    assert verify_pdf(target.read_bytes()).ok
    code, _, err = run(capsys, "sign", str(source), "--profile", "khong-co", "-o", str(target))
    assert code == 1 and "khong-co" in err


def test_sign_command_transient_failure(
    capsys: Any, settings: Any, configured: dict[str, Any], pdf: bytes, tmp_path: Path
) -> None:
    settings.CCHC_SIGNING = {**configured, "tsa_url": "http://127.0.0.1:9/", "tsa_timeout": 1}
    source = tmp_path / "phieu.pdf"
    source.write_bytes(pdf)
    code, _, err = run(capsys, "sign", str(source), "--profile", "desk", "-o", str(source))
    assert code == 75 and "dấu thời gian" in err
    assert source.read_bytes() == pdf  # nothing written on failure
